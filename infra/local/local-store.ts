import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SQS_MESSAGE_BYTES, sqsMessageBytes } from '../../shared/adapters/aws/sqs-messages.ts';
import { openHooklineDatabase, type HooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import type { GroupCommitLostError } from '../../shared/adapters/sqlite/errors.ts';
import { GroupCommit } from '../../shared/adapters/sqlite/group-commit.ts';
import { SqliteAttemptLog } from '../../shared/adapters/sqlite/sqlite-attempt-log.ts';
import { SqliteCredentialsLock } from '../../shared/adapters/sqlite/sqlite-credentials-lock.ts';
import { SqliteDeliveryStore, type OwedPage } from '../../shared/adapters/sqlite/sqlite-delivery-store.ts';
import { SqliteEmailQuota } from '../../shared/adapters/sqlite/sqlite-email-quota.ts';
import { SqliteEventStore } from '../../shared/adapters/sqlite/sqlite-event-store.ts';
import { SqliteOutbox } from '../../shared/adapters/sqlite/sqlite-outbox.ts';
import { SqliteOutcomes } from '../../shared/adapters/sqlite/sqlite-outcomes.ts';
import { firstAttemptOf, SqliteDeliveryQueue, SqliteEventQueue } from '../../shared/adapters/sqlite/sqlite-pipeline-queues.ts';
import type { QueueName } from '../../shared/adapters/sqlite/queue-messages.ts';
import { SqliteQueues } from '../../shared/adapters/sqlite/sqlite-queue.ts';
import { SqlitePortalSessions } from '../../shared/adapters/sqlite/sqlite-portal-sessions.ts';
import { SqliteQueueLag } from '../../shared/adapters/sqlite/sqlite-queue-lag.ts';
import { SqliteRequestWindows } from '../../shared/adapters/sqlite/sqlite-request-windows.ts';
import { SqliteTenantStore } from '../../shared/adapters/sqlite/sqlite-tenant-store.ts';
import { SqliteWebhookStore } from '../../shared/adapters/sqlite/sqlite-webhook-store.ts';
import type { LocalAdapters } from '../../shared/compose/local-adapters.ts';
import type { Settings } from '../../shared/config.ts';
import { EMAILS_PER_TENANT_PER_HOUR } from '../../shared/domain/notifications.ts';
import type { Clock } from '../../shared/usecases/ports.ts';
import type { TenantOwnerSetting } from '../../shared/usecases/tenants.ts';

/** The database file in the data directory. */
export const DATABASE_FILE = 'hookline.db';

/** As the stack's queues: receives before the dead-letter table, and each queue's visibility timeout. */
export const QUEUE_SETTINGS = {
  events: { visibilityMs: 60_000, maxReceiveCount: 5 },
  deliveries: { visibilityMs: 60_000, maxReceiveCount: 5 },
} as const;

/**
 * First attempts kept in memory (SqliteDeliveryQueue) before they are stored as other messages
 * are: the bench's 10,000 deliveries at once fit, and a larger backlog waits on disk. Each is its
 * message object (a few hundred bytes; the messages of one event share the event).
 */
export const ROW_BACKED_LANE_CAPACITY = 10_000;
/** The most first attempts resumed at once after the start's (see resumeMoreFirstAttempts). */
const RESUME_PAGE = 1_000;

export interface LocalStore {
  readonly db: HooklineDatabase;
  readonly queues: SqliteQueues;
  readonly adapters: LocalAdapters;
  /** The tenants' store again, for what only this runtime does to them: its tenant `default`'s owner address. */
  readonly tenantOwners: TenantOwnerSetting;
  /** The mailer: emails committed with the writes that made them, their files written after (see SqliteOutbox). */
  readonly outbox: SqliteOutbox;
  /** The ARNs the queue pollers' records name as their source, as on AWS. */
  readonly queueArns: Readonly<Record<QueueName, string>>;
  /**
   * Queues again the first attempts a killed process held in memory (SqliteDeliveryQueue), from
   * their delivery rows, as many as the memory lane holds; returns how many. At start, before
   * the pollers.
   */
  resumeFirstAttempts(): Promise<number>;
  /**
   * Queues the next of them as the lane has room again (a killed process may have held more
   * than a start takes: the rest would otherwise wait for the reconciler's grace, a minute).
   * Resolves true while some may be left; call it until it resolves false.
   */
  resumeMoreFirstAttempts(): Promise<boolean>;
  /** Deletes rows past their retention (reads already hide them), and dead letters past theirs. */
  purgeExpired(): number;
  /** Commits what was written so far (see GroupCommit): before an answer that promises it is stored. */
  commitNow(): void;
  close(): void;
}

/**
 * Opens `<dataDir>/hookline.db` and builds every storage and queue adapter on it. `onCommitLost`:
 * SQLite rolled back the group commit's transaction (see GroupCommit); the store is of no further use.
 */
export function openLocalStore(
  dataDir: string,
  settings: Pick<Settings, 'retentionDays'>,
  clock: Clock,
  onCommitLost?: (error: GroupCommitLostError) => void,
  laneCapacity = ROW_BACKED_LANE_CAPACITY,
): LocalStore {
  const db = openHooklineDatabase(join(dataDir, DATABASE_FILE));
  const { retentionDays } = settings;
  const queues = new SqliteQueues(db, QUEUE_SETTINGS, clock, laneCapacity);
  const commits = new GroupCommit(db, undefined, undefined, onCommitLost);
  const deliveries = new SqliteDeliveryStore(db, retentionDays);
  const attempts = new SqliteAttemptLog(db, retentionDays);
  const deliveryQueue = new SqliteDeliveryQueue(queues, clock);
  const tenants = new SqliteTenantStore(db);
  const adapters: LocalAdapters = {
    tenants,
    webhooks: new SqliteWebhookStore(db),
    events: new SqliteEventStore(db, retentionDays),
    deliveries,
    attempts,
    // A kill after a receiver's 2xx and before the group commit has the outcome: the sender
    // thread's journal (AnswerJournal) keeps the answer, and the restart completes the attempt with it.
    outcomes: new SqliteOutcomes(db, attempts, deliveries),
    emailQuota: new SqliteEmailQuota(db, EMAILS_PER_TENANT_PER_HOUR),
    requestWindows: new SqliteRequestWindows(db),
    credentialsLock: new SqliteCredentialsLock(db),
    queueLag: new SqliteQueueLag(db),
    portalSessions: new SqlitePortalSessions(db),
    eventQueue: new SqliteEventQueue(queues, (body) => sqsMessageBytes(body) <= MAX_SQS_MESSAGE_BYTES),
    deliveryQueue,
  };
  const outbox = new SqliteOutbox(db, join(dataDir, 'outbox'));
  // The last process's committed emails whose files it did not write, then each commit's.
  outbox.deliverCommitted();
  commits.afterEachCommit(() => outbox.deliverCommitted());
  commits.start();
  const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:hookline-${name}`;
  // Where resuming the last process's first attempts has got to (undefined: none left).
  let owed: OwedPage | undefined;
  const resumeOwed = async (limit: number): Promise<number> => {
    if (!owed) return 0;
    const rows = deliveries.firstAttemptsOwed(limit, owed);
    const last = rows.at(-1);
    owed = rows.length < limit || !last ? undefined : { ...owed, after: { dueAt: last.due_at, deliveryId: last.delivery_id } };
    const now = clock();
    await deliveryQueue.enqueue(rows.map((row) => firstAttemptOf(row, now)));
    return rows.length;
  };
  return {
    db,
    queues,
    adapters,
    tenantOwners: tenants,
    outbox,
    queueArns: { events: arn('events'), deliveries: arn('deliveries') },
    resumeFirstAttempts: () => {
      owed = { createdBefore: clock().toISOString() };
      return resumeOwed(laneCapacity);
    },
    resumeMoreFirstAttempts: async () => {
      const room = queues.laneRoom('deliveries');
      // A page at a time, once the lane has room for one: the pollers' own pace.
      if (owed !== undefined && room >= Math.min(RESUME_PAGE, laneCapacity)) await resumeOwed(Math.min(room, RESUME_PAGE));
      return owed !== undefined;
    },
    purgeExpired: () => db.purgeExpired(clock()) + queues.purgeDeadLetters(clock()),
    commitNow: () => commits.commitNow(),
    close: () => {
      commits.stop();
      db.close();
    },
  };
}

/**
 * Data directories of the versions before the SQLite store held dynalite's LevelDB files in
 * `dynamodb/`. Starting beside them would look like every tenant, webhook and delivery was lost:
 * refuse, and say what to do.
 */
export async function refuseEarlierFormat(dataDir: string): Promise<void> {
  const earlier = join(dataDir, 'dynamodb');
  const found = await access(earlier).then(
    () => true,
    () => false,
  );
  if (found) {
    throw new EarlierDataFormatError(
      `${dataDir} holds data in the earlier format (${earlier}, DynamoDB stand-in files), which this version does not read. ` +
        `Hookline now keeps everything in ${join(dataDir, DATABASE_FILE)}. Start with an empty HOOKLINE_DATA_DIR, ` +
        `or move ${earlier} away if you do not need what it holds.`,
    );
  }
}

export class EarlierDataFormatError extends Error {
  override name = 'EarlierDataFormatError';
}
