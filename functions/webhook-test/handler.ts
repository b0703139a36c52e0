import { lazyHandler } from '../../shared/compose/function-base.ts';
import { webhookTestAws } from './aws.ts';
import { composeWebhookTest } from './compose.ts';

export const handler = lazyHandler(() => composeWebhookTest({ awsKit: webhookTestAws }).handler);
