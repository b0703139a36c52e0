import { lazyHandler } from '../../shared/compose/function-base.ts';
import { webhooksApiAws } from './aws.ts';
import { composeWebhooksApi } from './compose.ts';

export const handler = lazyHandler(() => composeWebhooksApi({ awsKit: webhooksApiAws }).handler);
