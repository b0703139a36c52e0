import { deliveryLog, deliveryQueue, emailQuota, eventStore, mailer, retryTimer, secrets, tenantStore, webhookLeases, webhookStore } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of the dispatcher's root: the log, the queue and Scheduler, webhooks, leases, secrets and owner email (handler.ts gives them). */
export const dispatcherAws = { deliveryLog, deliveryQueue, emailQuota, eventStore, mailer, retryTimer, secrets, tenantStore, webhookLeases, webhookStore } satisfies AwsKit;
