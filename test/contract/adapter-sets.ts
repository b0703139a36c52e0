/**
 * The two adapter sets the port-contract suites run against: the DynamoDB adapters on dynalite
 * (the tables of shared/adapters/aws/tables.ts, as the one-machine stand-ins create them) and
 * the SQLite adapters on a fresh database file. Each contract is written once, against the ports,
 * and run on both (ADAPTER_SETS), so that the two cannot drift apart. What only the one-machine
 * store has (delivery records made at fan-out, exclusive claims, the due indexes the reconciler
 * reads, the queues' lag records) is SqliteAdapters', and its contracts run on that set alone.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns } from '../../infra/local/standins.ts';
import { DynamoCredentialsLock } from '../../shared/adapters/aws/dynamo-credentials-lock.ts';
import { DynamoDeliveryLog } from '../../shared/adapters/aws/dynamo-delivery-log.ts';
import { DynamoEmailQuota } from '../../shared/adapters/aws/dynamo-email-quota.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoRequestWindows } from '../../shared/adapters/aws/dynamo-request-windows.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { DynamoWebhookLeases } from '../../shared/adapters/aws/dynamo-webhook-leases.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { openHooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { SqliteAttemptLog } from '../../shared/adapters/sqlite/sqlite-attempt-log.ts';
import { SqliteCredentialsLock } from '../../shared/adapters/sqlite/sqlite-credentials-lock.ts';
import { SqliteDeliveryStore } from '../../shared/adapters/sqlite/sqlite-delivery-store.ts';
import { SqliteEmailQuota } from '../../shared/adapters/sqlite/sqlite-email-quota.ts';
import { SqliteEventStore } from '../../shared/adapters/sqlite/sqlite-event-store.ts';
import { SqliteOutcomes } from '../../shared/adapters/sqlite/sqlite-outcomes.ts';
import { SqliteQueueLag } from '../../shared/adapters/sqlite/sqlite-queue-lag.ts';
import { SqliteRequestWindows } from '../../shared/adapters/sqlite/sqlite-request-windows.ts';
import { SqliteTenantStore } from '../../shared/adapters/sqlite/sqlite-tenant-store.ts';
import { SqliteWebhookLeases } from '../../shared/adapters/sqlite/sqlite-webhook-leases.ts';
import { SqliteWebhookStore } from '../../shared/adapters/sqlite/sqlite-webhook-store.ts';
import type { Attempt, AttemptSummary, AttemptTrigger, Delivery, DeliveryMessage, HealthFollowUp } from '../../shared/domain/deliveries.ts';
import { deliveryIdFor } from '../../shared/domain/ids.ts';
import type { CredentialsLock } from '../../shared/usecases/credentials-writer.ts';
import type { AttemptRecorder, Completion, DeliveryClaims, EventReader, OutcomeRecorder, WebhookReader } from '../../shared/usecases/dispatch.ts';
import type { DeliveryCreator, FanoutProgress, NewDelivery, WebhookPages } from '../../shared/usecases/fan-out.ts';
import type { AttemptLog, WebhookQuota, WebhookRepository } from '../../shared/usecases/manage-webhooks.ts';
import type { EmailQuota, EmailQuotaRefund, OwnerEmailStore, TenantOwners } from '../../shared/usecases/owner-email.ts';
import type { EventStore } from '../../shared/usecases/publish-events.ts';
import type { LagRecords } from '../../shared/usecases/queue-lag.ts';
import type { RequestWindows, TenantRateLimits } from '../../shared/usecases/rate-limits.ts';
import type { DueDeliveries, DueEvents } from '../../shared/usecases/reconcile.ts';
import type { FailedAttempts, ReopenableDeliveries } from '../../shared/usecases/recover-deliveries.ts';
import type { TenantDirectory } from '../../shared/usecases/tenants.ts';
import type { WebhookStatusStore } from '../../shared/usecases/webhook-health.ts';
import type { WebhookLeases } from '../../shared/usecases/webhook-slots.ts';

/** Days events, deliveries and attempts are kept, in both sets. */
export const RETENTION_DAYS = 30;
export const EMAILS_PER_HOUR = 5;

/** Every storage port both sets have, as the use cases see them (nothing adapter-specific). */
export interface Adapters {
  /** With putKey: the key lookup's own write, public on both stores (keys stored before keys were listed). */
  readonly tenants: TenantDirectory & WebhookQuota & TenantOwners & TenantRateLimits & { putKey(keyHash: string, tenantId: string, keyId?: string): Promise<boolean> };
  readonly webhooks: WebhookRepository & WebhookStatusStore & OwnerEmailStore & WebhookReader & WebhookPages;
  readonly events: EventStore & EventReader;
  readonly deliveries: DeliveryClaims & ReopenableDeliveries;
  /** An attempt's log entry and its delivery's outcome in one write, as the dispatcher records them. */
  readonly outcomes: OutcomeRecorder;
  readonly attempts: AttemptLog & AttemptRecorder & FailedAttempts;
  /**
   * Delivery records made at fan-out, before any attempt (SQLite). Absent on AWS, where the
   * delivery log is their only record: as FanOutEvent's optional `deliveries`.
   */
  readonly deliveryRecords?: DeliveryCreator;
  readonly emailQuota: EmailQuota & EmailQuotaRefund;
  readonly requestWindows: RequestWindows;
  readonly credentialsLock: CredentialsLock;
  readonly webhookLeases: WebhookLeases;
}

/** The SQLite set's ports, with what only the one-machine store has (the reconciler's and the fan-out's). */
export interface SqliteAdapters extends Adapters {
  readonly events: Adapters['events'] & FanoutProgress & DueEvents;
  readonly deliveries: Adapters['deliveries'] & DeliveryCreator & DueDeliveries;
  readonly deliveryRecords: DeliveryCreator;
  readonly queueLag: LagRecords;
}

export interface AdapterBackend<A extends Adapters = Adapters> {
  readonly adapters: A;
  /** Deletes what is past its retention, where the store does that itself (SQLite); DynamoDB's TTL runs on its own clock. */
  readonly purgeExpired?: (now: Date) => number;
  stop(): Promise<void>;
}

export type MakeAdapters<A extends Adapters = Adapters> = () => Promise<AdapterBackend<A>>;

export async function dynamoAdapters(): Promise<AdapterBackend> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-contract-dynamo-'));
  const standIns = await startStandIns(dataDir);
  const raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const { tables } = standIns;
  // The delivery log is the deliveries' state: one adapter for claims, outcomes and the log.
  const log = new DynamoDeliveryLog(doc, tables.attempts, RETENTION_DAYS);
  return {
    adapters: {
      tenants: new DynamoTenantStore(doc, tables.tenants),
      webhooks: new DynamoWebhookStore(doc, tables.webhooks),
      events: new DynamoEventStore(doc, tables.events, RETENTION_DAYS),
      deliveries: log,
      outcomes: log,
      attempts: log,
      emailQuota: new DynamoEmailQuota(doc, tables.tenants, EMAILS_PER_HOUR),
      requestWindows: new DynamoRequestWindows(doc, tables.tenants),
      credentialsLock: new DynamoCredentialsLock(doc, tables.tenants),
      webhookLeases: new DynamoWebhookLeases(doc, tables.tenants),
    },
    async stop() {
      raw.destroy();
      await standIns.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function sqliteAdapters(): Promise<AdapterBackend<SqliteAdapters>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-contract-sqlite-'));
  const db = openHooklineDatabase(join(dataDir, 'hookline.db'));
  const deliveries = new SqliteDeliveryStore(db, RETENTION_DAYS);
  const attempts = new SqliteAttemptLog(db, RETENTION_DAYS);
  return {
    adapters: {
      tenants: new SqliteTenantStore(db),
      webhooks: new SqliteWebhookStore(db),
      events: new SqliteEventStore(db, RETENTION_DAYS),
      deliveries,
      // As infra/local/local-store.ts composes them: the log entry and the completion in one transaction.
      outcomes: new SqliteOutcomes(db, attempts, deliveries),
      attempts,
      deliveryRecords: deliveries,
      emailQuota: new SqliteEmailQuota(db, EMAILS_PER_HOUR),
      requestWindows: new SqliteRequestWindows(db),
      credentialsLock: new SqliteCredentialsLock(db),
      queueLag: new SqliteQueueLag(db),
      webhookLeases: new SqliteWebhookLeases(db),
    },
    purgeExpired: (now) => db.purgeExpired(now),
    async stop() {
      db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The sets every contract runs on: `for (const [name, make] of ADAPTER_SETS) describeXContract(name, make)`. */
export const ADAPTER_SETS: readonly (readonly [string, MakeAdapters])[] = [
  ['DynamoDB adapters on dynalite', dynamoAdapters],
  ['SQLite adapters', sqliteAdapters],
];

/**
 * Starts a backend before the enclosing describe block's tests and stops it after them. Returns
 * a getter: the backend exists only once the block's beforeAll has run.
 */
export function useBackend<A extends Adapters>(make: MakeAdapters<A>): () => AdapterBackend<A> {
  let backend: AdapterBackend<A> | undefined;
  beforeAll(async () => {
    backend = await make();
  });
  afterAll(async () => {
    await backend?.stop();
  });
  return () => {
    if (!backend) throw new Error('the adapter set did not start');
    return backend;
  };
}

/** A fresh id per test, so that tests sharing the tables never see each other's items. */
export const uid = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

/**
 * A delivery of a fresh event (received at `receivedAt`) to a fresh webhook of a fresh tenant,
 * its id made as the fan-out makes it: it starts with the event's arrival time.
 */
export function newDelivery(receivedAt: Date, overrides: Partial<Omit<NewDelivery, 'delivery_id'>> = {}): NewDelivery {
  const ref = { tenant_id: uid('ten'), webhook_id: uid('wh'), event_id: uid('evt'), event_type: 'scan.completed', ...overrides };
  return { delivery_id: deliveryIdFor(ref.tenant_id, ref.event_id, ref.webhook_id, receivedAt.toISOString()), ...ref };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** When the delivery's event arrived: the ULID time its id starts with. */
export const receivedAtOf = (d: NewDelivery): string =>
  new Date([...d.delivery_id.slice('dlv_'.length, 'dlv_'.length + 10)].reduce((ms, c) => ms * 32 + CROCKFORD.indexOf(c), 0)).toISOString();

/** The queue message of attempt `n`, with its event as the fan-out and the ladder carry it. */
export function messageOf(d: NewDelivery, n: number, trigger: AttemptTrigger = 'scheduled'): DeliveryMessage {
  const { event_type, ...ref } = d;
  const receivedAt = receivedAtOf(d);
  return {
    ...ref,
    attempt: n,
    trigger,
    event: { tenant_id: d.tenant_id, id: d.event_id, event: event_type, timestamp: receivedAt, data: {}, received_at: receivedAt },
  };
}

/** The attempt the dispatcher logs for `completion` (a retry's and a failure's answer is a 503). */
export function attemptFor(d: NewDelivery, n: number, completion: Completion, at: Date, trigger: AttemptTrigger = 'scheduled'): Attempt {
  const success = completion.kind === 'succeeded';
  return {
    id: uid('att'),
    tenant_id: d.tenant_id,
    webhook_id: d.webhook_id,
    delivery_id: d.delivery_id,
    event_id: d.event_id,
    event: d.event_type,
    attempt: n,
    trigger,
    success,
    status_code: success ? 200 : 503,
    response_time_ms: 40 + n,
    ...(success ? { response_body: 'ok' } : { error: 'HTTP 503' }),
    attempted_at: at.toISOString(),
    ...(completion.kind === 'retry' ? { next_attempt_at: completion.nextAttemptAt.toISOString() } : {}),
  };
}

export const summaryOf = (a: Attempt): AttemptSummary => ({
  attempt: a.attempt,
  status_code: a.status_code,
  attempted_at: a.attempted_at,
  ...(a.error === undefined ? {} : { error: a.error }),
});

export interface MadeAttempt {
  readonly attempt: Attempt;
  readonly summary: AttemptSummary;
  /** What recordOutcome returned: undefined when the store refused the record. */
  readonly recorded: Delivery | undefined;
}

/**
 * Attempt `n` of a delivery made as the dispatcher makes it: the delivery created first where the
 * store keeps delivery records (the fan-out's createMany; a no-op once it exists), the attempt
 * claimed, then its log entry and outcome recorded in one write. Throws when the claim is
 * refused: a test that records an attempt means it to be this caller's.
 */
export async function makeAttempt(
  adapters: Adapters,
  d: NewDelivery,
  n: number,
  completion: Completion,
  at: Date,
  options: { readonly followUp?: HealthFollowUp; readonly trigger?: AttemptTrigger } = {},
): Promise<MadeAttempt> {
  await adapters.deliveryRecords?.createMany([d], at);
  const claimed = await adapters.deliveries.claim(messageOf(d, n, options.trigger), at, new Date(at.getTime() - 60_000));
  if (!claimed) throw new Error(`attempt ${n} of ${d.delivery_id} could not be claimed`);
  const attempt = attemptFor(d, n, completion, at, options.trigger);
  const summary = summaryOf(attempt);
  const recorded = await adapters.outcomes.recordOutcome(attempt, completion, at, summary, options.followUp);
  return { attempt, summary, recorded };
}
