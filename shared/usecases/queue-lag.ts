import type { LagObserver, Received, SlotHolder } from './dispatch-ports.ts';

/**
 * How far behind the queues' consumers are, as they see it, so that the reconciler can tell work
 * whose message is lost from work whose message is only waiting. SQS does not say how old a
 * queue's oldest message is (only CloudWatch does, a minute or more late), so the consumers tell:
 * a consumer that takes work more than LAG_THRESHOLD_MS after it was due records how old it was.
 * "Consumers were taking work due at T" means messages of work due after T may still be waiting;
 * work due well before T whose message was not taken is lost. Two kinds of waiting:
 * - in the queue (a backlog): one record per queue, `events` and `deliveries`, the due time
 *   counted from when the message was last sent (a retry's message from its rung);
 * - behind its own webhook's in-flight limit (a slow endpoint's deliveries go round every second
 *   until a slot is free): one record per such webhook. A backlog on one slow endpoint must not
 *   hold back the reconciler for everyone else.
 */

/** What one record says: consumers took work due at `dueAt`, as seen at `observedAt`. */
export interface LagFront {
  readonly dueAt: Date;
  readonly observedAt: Date;
}

/** Port: the lag records of every consumer (SqliteQueueLag; on AWS nothing re-queues, so nothing records lag). */
export interface LagRecords {
  /**
   * Records that work due at `dueAt` was taken at `now`, unless a record of older work was made
   * less than LAG_WINDOW_MS before `now` (the oldest front of a window is kept).
   */
  record(key: string, dueAt: Date, now: Date): Promise<void>;
  read(keys: readonly string[]): Promise<Map<string, LagFront>>;
}

export const EVENTS_QUEUE_LAG = 'events';
export const DELIVERIES_QUEUE_LAG = 'deliveries';
export const webhookLag = (holder: SlotHolder): string => `deliveries#${holder.tenant_id}#${holder.webhook_id}`;

/** Work taken this late means a backlog worth recording (a healthy queue: milliseconds). */
export const LAG_THRESHOLD_MS = 30_000;
/** Each container records a key at most this often, and only while it takes late work. */
export const LAG_REPORT_EVERY_MS = 30_000;
/** A record keeps the oldest front seen for this long before a newer one may replace it. */
export const LAG_WINDOW_MS = 60_000;
/** A record older than this is stale: the consumers stopped taking late work (caught up, or stopped). */
export const LAG_FRESH_MS = 120_000;
const KEYS_KEPT = 10_000;

/**
 * A consumer's side: told the due time of each piece of work it takes, it records the oldest
 * late one per key now and then. Costs nothing while the work comes on time.
 */
export class QueueLagReporter {
  private readonly records: Pick<LagRecords, 'record'>;
  private readonly onError: (error: unknown) => void;
  /** Per key: the oldest late due time not recorded yet, and when the key was last recorded. */
  private readonly keys = new Map<string, { oldest?: number; last: number }>();
  private readonly recording = new Set<Promise<void>>();

  constructor(records: Pick<LagRecords, 'record'>, onError: (error: unknown) => void) {
    this.records = records;
    this.onError = onError;
  }

  observe(key: string, dueAt: Date, now: Date): void {
    if (now.getTime() - dueAt.getTime() < LAG_THRESHOLD_MS) return;
    const state = this.keys.get(key) ?? { last: Number.NEGATIVE_INFINITY };
    state.oldest = Math.min(state.oldest ?? Number.POSITIVE_INFINITY, dueAt.getTime());
    this.keys.delete(key);
    this.keys.set(key, state);
    if (this.keys.size > KEYS_KEPT) this.keys.delete(this.keys.keys().next().value!);
    if (now.getTime() - state.last < LAG_REPORT_EVERY_MS) return;
    const due = new Date(state.oldest);
    state.oldest = undefined;
    state.last = now.getTime();
    // Advisory: a failed record only makes the reconciler less patient, as it was before.
    const write: Promise<void> = this.records
      .record(key, due, now)
      .catch(this.onError)
      .finally(() => this.recording.delete(write));
    this.recording.add(write);
  }

  /** Waits for the records being written (a Lambda container is frozen once its invocation returns). */
  async flush(): Promise<void> {
    await Promise.all([...this.recording]);
  }
}

/**
 * The dispatcher's observer: a message taken late because the deliveries queue is long counts
 * for the queue, from when it was sent (or due, for a delayed retry); one that was sent again
 * long after it was due (it went round while its webhook was at its limit) counts for its webhook.
 */
export class DeliveryLag implements LagObserver {
  private readonly reporter: QueueLagReporter;
  constructor(reporter: QueueLagReporter) {
    this.reporter = reporter;
  }

  observe(holder: SlotHolder, dueAt: Date, sentAt: Date | undefined, now: Date): void {
    const queuedAt = sentAt && sentAt > dueAt ? sentAt : dueAt;
    this.reporter.observe(DELIVERIES_QUEUE_LAG, queuedAt, now);
    if (sentAt && sentAt.getTime() - dueAt.getTime() >= LAG_THRESHOLD_MS) this.reporter.observe(webhookLag(holder), dueAt, now);
  }
}

/** SQS's `SentTimestamp` attribute (epoch ms as text) as a date; the local poller asks for it too. */
export function sentAtOf(raw: string | undefined): Date | undefined {
  const ms = Number(raw);
  return raw && Number.isFinite(ms) && ms > 0 ? new Date(ms) : undefined;
}

/** What SQS says of a record (its attribute strings): when it was sent, how often received. */
export function receivedOf(attributes: { readonly SentTimestamp?: string; readonly ApproximateReceiveCount?: string } | undefined): Received {
  const sentAt = sentAtOf(attributes?.SentTimestamp);
  const count = Number(attributes?.ApproximateReceiveCount);
  return { ...(sentAt ? { sentAt } : {}), ...(Number.isInteger(count) && count > 0 ? { receiveCount: count } : {}) };
}

/** The due time before which work not yet taken cannot be waiting, per key; none when the record is stale. */
export function freshFronts(fronts: ReadonlyMap<string, LagFront>, now: Date): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, front] of fronts) if (now.getTime() - front.observedAt.getTime() <= LAG_FRESH_MS) out.set(key, front.dueAt.getTime());
  return out;
}
