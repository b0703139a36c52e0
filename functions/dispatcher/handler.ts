import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeDispatcher } from './compose.ts';

export const handler = lazyHandler(() => composeDispatcher().handler);
