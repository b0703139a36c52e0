import type { AwsAdapter } from '../adapters/aws/aws-calls.ts';
import type { CredentialsLock } from '../usecases/credentials-writer.ts';
import type { AttemptRecorder, DeliveryClaims, EventReader, OutcomeRecorder, RetryScheduler, WebhookReader } from '../usecases/dispatch.ts';
import type { DeliveryCreator, DeliveryQueue, FanoutProgress, WebhookPages } from '../usecases/fan-out.ts';
import type { AttemptLog, WebhookQuota, WebhookRepository } from '../usecases/manage-webhooks.ts';
import type { EmailQuota, EmailQuotaRefund, OwnerEmailStore, TenantOwners } from '../usecases/owner-email.ts';
import type { EventQueue, EventStore } from '../usecases/publish-events.ts';
import type { LagRecords } from '../usecases/queue-lag.ts';
import type { RequestWindows, TenantRateLimits } from '../usecases/rate-limits.ts';
import type { DueDeliveries, DueEvents } from '../usecases/reconcile.ts';
import type { FailedAttempts, ReopenableDeliveries } from '../usecases/recover-deliveries.ts';
import type { PortalSessionStore } from '../usecases/portal-sessions.ts';
import type { TenantDirectory } from '../usecases/tenants.ts';
import type { WebhookStatusStore } from '../usecases/webhook-health.ts';

/**
 * The storage and queue adapters of the one-machine runtime (node:sqlite), given to every
 * composition root by infra/local/runtime.ts. Absent on Lambda, where each root builds its DynamoDB
 * and SQS adapters. Each entry is the set of ports its DynamoDB sibling implements, so the roots
 * hand either to the same use cases (and only the DynamoDB ones declare AWS calls: `awsCalls` is
 * optional here).
 */
export interface LocalAdapters {
  readonly tenants: TenantDirectory & WebhookQuota & TenantOwners & TenantRateLimits & Partial<AwsAdapter>;
  readonly webhooks: WebhookRepository & WebhookStatusStore & OwnerEmailStore & WebhookReader & WebhookPages & Partial<AwsAdapter>;
  readonly events: EventStore & FanoutProgress & DueEvents & EventReader & Partial<AwsAdapter>;
  readonly deliveries: DeliveryClaims & DeliveryCreator & DueDeliveries & ReopenableDeliveries & Partial<AwsAdapter>;
  readonly attempts: AttemptLog & AttemptRecorder & FailedAttempts & Partial<AwsAdapter>;
  /** The attempt's log entry and the delivery's completion in one transaction. */
  readonly outcomes: OutcomeRecorder;
  readonly emailQuota: EmailQuota & EmailQuotaRefund & Partial<AwsAdapter>;
  readonly requestWindows: RequestWindows & Partial<AwsAdapter>;
  readonly credentialsLock: CredentialsLock & Partial<AwsAdapter>;
  readonly queueLag: LagRecords & Partial<AwsAdapter>;
  readonly portalSessions: PortalSessionStore & Partial<AwsAdapter>;
  readonly eventQueue: EventQueue & Partial<AwsAdapter>;
  readonly deliveryQueue: DeliveryQueue & RetryScheduler & Partial<AwsAdapter>;
}
