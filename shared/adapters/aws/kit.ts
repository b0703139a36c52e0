/**
 * Every AWS adapter, as a factory of the function's settings and clock (and what else it needs).
 * No composition root imports this module: each function's `functions/<name>/aws.ts` picks the
 * factories its root calls, and its handler.ts hands them over (FunctionBase.awsAdapter). So a
 * bundle holds the adapters and SDK clients of its function only, and the one-machine runtime,
 * which gives its roots SQLite adapters instead, never loads the AWS SDK.
 */
import type { Settings } from '../../config.ts';
import { EMAILS_PER_TENANT_PER_HOUR } from '../../domain/notifications.ts';
import type { Clock } from '../../usecases/ports.ts';
import type { SecretScope } from './aws-calls.ts';
import { documentClient, schedulerClient, secretsManagerClient, sesClient, sqsClient } from './clients.ts';
import { DynamoCredentialsLock } from './dynamo-credentials-lock.ts';
import { DynamoDeliveryLog } from './dynamo-delivery-log.ts';
import { DynamoDeliveryLogReader } from './dynamo-delivery-log-reader.ts';
import { DynamoEmailQuota } from './dynamo-email-quota.ts';
import { DynamoEventStore } from './dynamo-event-store.ts';
import { DynamoPortalSessions } from './dynamo-portal-sessions.ts';
import { DynamoRequestWindows } from './dynamo-request-windows.ts';
import { DynamoTenantRecords } from './dynamo-tenant-records.ts';
import { DynamoTenantStore } from './dynamo-tenant-store.ts';
import { DynamoWebhookLeases } from './dynamo-webhook-leases.ts';
import { DynamoWebhookRepository } from './dynamo-webhook-repository.ts';
import { DynamoWebhookStore } from './dynamo-webhook-store.ts';
import { SqsDeliveryQueue, SqsEventQueue } from './queues.ts';
import { SchedulerRetryTimer, type SchedulerTarget } from './scheduler-retry-timer.ts';
import { SecretsManagerStore } from './secrets-manager-store.ts';
import { SesMailer } from './ses-mailer.ts';

/** What every factory is given: the function's settings and clock. */
export interface AwsContext {
  readonly settings: Settings;
  readonly clock: Clock;
}

const tables = (c: AwsContext) => c.settings.tables;

/** The whole tenant item: keys, limits, owners (the admin API, the dispatcher's emails). */
export const tenantStore = (c: AwsContext) => new DynamoTenantStore(documentClient(), tables(c).tenants);
/** The tenant item's records the API functions read and reserve (keys, limits, webhook quota). */
export const tenantRecords = (c: AwsContext) => new DynamoTenantRecords(documentClient(), tables(c).tenants);
export const webhookStore = (c: AwsContext) => new DynamoWebhookStore(documentClient(), tables(c).webhooks);
/** The webhooks API's view of the webhooks table (no health or fan-out calls). */
export const webhookRepository = (c: AwsContext) => new DynamoWebhookRepository(documentClient(), tables(c).webhooks);
export const webhookLeases = (c: AwsContext) => new DynamoWebhookLeases(documentClient(), tables(c).tenants);
export const eventStore = (c: AwsContext) => new DynamoEventStore(documentClient(), tables(c).events, c.settings.retentionDays);
export const deliveryLog = (c: AwsContext) => new DynamoDeliveryLog(documentClient(), tables(c).attempts, c.settings.retentionDays);
export const deliveryLogReader = (c: AwsContext) => new DynamoDeliveryLogReader(documentClient(), tables(c).attempts, c.settings.retentionDays);
export const eventQueue = (c: AwsContext) => new SqsEventQueue(sqsClient(), c.settings.queues.events);
/** `coalesceMs`: how long a send waits for others to share a SendMessageBatch call. */
export const deliveryQueue = (c: AwsContext, coalesceMs?: number) =>
  new SqsDeliveryQueue(sqsClient(), c.settings.queues.deliveries, c.clock, coalesceMs === undefined ? {} : { coalesceMs });
export const retryTimer = (_c: AwsContext, target: SchedulerTarget) => new SchedulerRetryTimer(schedulerClient(), target);
export const secrets = (_c: AwsContext, scope: SecretScope) => new SecretsManagerStore(secretsManagerClient(), scope);
export const credentialsLock = (c: AwsContext) => new DynamoCredentialsLock(documentClient(), tables(c).tenants);
export const mailer = (_c: AwsContext, from: string) => new SesMailer(sesClient(), from);
export const emailQuota = (c: AwsContext) => new DynamoEmailQuota(documentClient(), tables(c).tenants, EMAILS_PER_TENANT_PER_HOUR);
export const portalSessions = (c: AwsContext) => new DynamoPortalSessions(documentClient(), tables(c).tenants);
export const requestWindows = (c: AwsContext) => new DynamoRequestWindows(documentClient(), tables(c).tenants);
