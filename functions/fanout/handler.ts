import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeFanout } from './compose.ts';

export const handler = lazyHandler(() => composeFanout().handler);
