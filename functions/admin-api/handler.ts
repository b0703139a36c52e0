import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeAdminApi } from './compose.ts';

export const handler = lazyHandler(() => composeAdminApi().handler);
