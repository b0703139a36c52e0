import { lazyHandler } from '../../shared/compose/function-base.ts';
import { composeWebhookTest } from './compose.ts';

export const handler = lazyHandler(() => composeWebhookTest().handler);
