import { credentialsLock, deliveryLogReader, deliveryQueue, emailQuota, mailer, portalSessions, requestWindows, secrets, tenantRecords, webhookRepository } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of the webhooks API's root (handler.ts gives them). */
export const webhooksApiAws = { credentialsLock, deliveryLogReader, deliveryQueue, emailQuota, mailer, portalSessions, requestWindows, secrets, tenantRecords, webhookRepository } satisfies AwsKit;
