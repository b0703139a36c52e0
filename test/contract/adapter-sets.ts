/**
 * The two adapter sets the port-contract suites run against: the DynamoDB adapters on dynalite
 * (the tables of shared/adapters/aws/tables.ts, as the one-machine stand-ins create them) and
 * the SQLite adapters on a fresh database file. Each contract is written once, against the ports,
 * and run on both (ADAPTER_SETS), so that the two cannot drift apart.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns } from '../../infra/local/standins.ts';
import { DynamoAttemptLog } from '../../shared/adapters/aws/dynamo-attempt-log.ts';
import { DynamoCredentialsLock } from '../../shared/adapters/aws/dynamo-credentials-lock.ts';
import { DynamoDeliveryStore } from '../../shared/adapters/aws/dynamo-delivery-store.ts';
import { DynamoEmailQuota } from '../../shared/adapters/aws/dynamo-email-quota.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoQueueLag } from '../../shared/adapters/aws/dynamo-queue-lag.ts';
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
import { SqliteQueueLag } from '../../shared/adapters/sqlite/sqlite-queue-lag.ts';
import { SqliteRequestWindows } from '../../shared/adapters/sqlite/sqlite-request-windows.ts';
import { SqliteTenantStore } from '../../shared/adapters/sqlite/sqlite-tenant-store.ts';
import { SqliteWebhookLeases } from '../../shared/adapters/sqlite/sqlite-webhook-leases.ts';
import { SqliteWebhookStore } from '../../shared/adapters/sqlite/sqlite-webhook-store.ts';
import type { CredentialsLock } from '../../shared/usecases/credentials-writer.ts';
import type { AttemptRecorder, DeliveryClaims, EventReader, WebhookReader } from '../../shared/usecases/dispatch.ts';
import type { DeliveryCreator, FanoutProgress, WebhookPages } from '../../shared/usecases/fan-out.ts';
import type { AttemptLog, WebhookQuota, WebhookRepository } from '../../shared/usecases/manage-webhooks.ts';
import type { EmailQuota, OwnerEmailStore, TenantOwners } from '../../shared/usecases/owner-email.ts';
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

/** Every storage port, as the use cases see them (nothing adapter-specific). */
export interface Adapters {
  /** With putKey: the key lookup's own write, public on both stores (keys stored before keys were listed). */
  readonly tenants: TenantDirectory & WebhookQuota & TenantOwners & TenantRateLimits & { putKey(keyHash: string, tenantId: string, keyId?: string): Promise<boolean> };
  readonly webhooks: WebhookRepository & WebhookStatusStore & OwnerEmailStore & WebhookReader & WebhookPages;
  readonly events: EventStore & FanoutProgress & DueEvents & EventReader;
  readonly deliveries: DeliveryClaims & DeliveryCreator & DueDeliveries & ReopenableDeliveries;
  readonly attempts: AttemptLog & AttemptRecorder & FailedAttempts;
  readonly emailQuota: EmailQuota;
  readonly requestWindows: RequestWindows;
  readonly credentialsLock: CredentialsLock;
  readonly queueLag: LagRecords;
  readonly webhookLeases: WebhookLeases;
}

export interface AdapterBackend {
  readonly adapters: Adapters;
  /** Deletes what is past its retention, where the store does that itself (SQLite); DynamoDB's TTL runs on its own clock. */
  readonly purgeExpired?: (now: Date) => number;
  stop(): Promise<void>;
}

export type MakeAdapters = () => Promise<AdapterBackend>;

export async function dynamoAdapters(): Promise<AdapterBackend> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-contract-dynamo-'));
  const standIns = await startStandIns(dataDir);
  const raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const { tables } = standIns;
  return {
    adapters: {
      tenants: new DynamoTenantStore(doc, tables.tenants),
      webhooks: new DynamoWebhookStore(doc, tables.webhooks),
      events: new DynamoEventStore(doc, tables.events, RETENTION_DAYS),
      deliveries: new DynamoDeliveryStore(doc, tables.deliveries, RETENTION_DAYS),
      attempts: new DynamoAttemptLog(doc, tables.attempts, RETENTION_DAYS),
      emailQuota: new DynamoEmailQuota(doc, tables.tenants, EMAILS_PER_HOUR),
      requestWindows: new DynamoRequestWindows(doc, tables.tenants),
      credentialsLock: new DynamoCredentialsLock(doc, tables.tenants),
      queueLag: new DynamoQueueLag(doc, tables.tenants),
      webhookLeases: new DynamoWebhookLeases(doc, tables.tenants),
    },
    async stop() {
      raw.destroy();
      await standIns.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function sqliteAdapters(): Promise<AdapterBackend> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-contract-sqlite-'));
  const db = openHooklineDatabase(join(dataDir, 'hookline.db'));
  return {
    adapters: {
      tenants: new SqliteTenantStore(db),
      webhooks: new SqliteWebhookStore(db),
      events: new SqliteEventStore(db, RETENTION_DAYS),
      deliveries: new SqliteDeliveryStore(db, RETENTION_DAYS),
      attempts: new SqliteAttemptLog(db, RETENTION_DAYS),
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
export function useBackend(make: MakeAdapters): () => AdapterBackend {
  let backend: AdapterBackend | undefined;
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
