import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeWebhooksApi } from './compose.ts';

export const handler = lazyHandler(() => composeWebhooksApi().handler);
