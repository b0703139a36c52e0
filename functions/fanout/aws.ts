import { deliveryQueue, webhookStore } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of the fan-out's root: the webhooks table and the deliveries queue (handler.ts gives them). */
export const fanoutAws = { deliveryQueue, webhookStore } satisfies AwsKit;
