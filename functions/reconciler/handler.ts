import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeReconciler } from './compose.ts';

export const handler = lazyHandler(() => composeReconciler().handler);
