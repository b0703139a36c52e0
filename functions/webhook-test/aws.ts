import { deliveryLog, portalSessions, requestWindows, secrets, tenantRecords, webhookRepository } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of webhook-test's root: the webhook, its credentials, the log, keys, portal tokens and request limits (handler.ts gives them). */
export const webhookTestAws = { deliveryLog, portalSessions, requestWindows, secrets, tenantRecords, webhookRepository } satisfies AwsKit;
