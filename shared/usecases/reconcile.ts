import type { DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import type { Clock } from './ports.ts';
import { DELIVERIES_QUEUE_LAG, EVENTS_QUEUE_LAG, freshFronts, webhookLag, type LagRecords } from './queue-lag.ts';

export interface DueEventRef {
  readonly tenant_id: string;
  readonly id: string;
  /** '' when the item lost its place in the due index (a torn write of the local stand-in). */
  readonly due_at: string;
}
export interface DueDeliveryRef {
  readonly delivery_id: string;
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly event_id: string;
  readonly due_at: string;
  readonly attempts_completed: number;
  /** When the ladder wants the next attempt (absent for a first attempt). */
  readonly next_attempt_at?: string;
}

/** Port: events whose fan-out has not finished. */
export interface DueEvents {
  listDue(before: Date, limitPerShard: number): Promise<DueEventRef[]>;
  /** The item's own due state (the index can lag or, locally, be torn); undefined when finished. */
  refreshDue(ref: DueEventRef): Promise<DueEventRef | undefined>;
  postpone(ref: DueEventRef, until: Date): Promise<boolean>;
  get(tenantId: string, eventId: string): Promise<PublishedEvent | undefined>;
}
/** Port: pending deliveries. */
export interface DueDeliveries {
  listDue(before: Date, limitPerShard: number): Promise<DueDeliveryRef[]>;
  refreshDue(ref: DueDeliveryRef): Promise<DueDeliveryRef | undefined>;
  postpone(ref: DueDeliveryRef, until: Date): Promise<boolean>;
}

const LIMIT_PER_SHARD = 100;

/** When an item pushed forward now is looked at again: a grace (at least a minute) after it is due. */
const nextCheck = (now: Date, dueAt: string, graceMs: number): Date =>
  new Date(Math.max(now.getTime(), Date.parse(dueAt) || 0) + Math.max(graceMs, 60_000));

/** How late work must be, per queue, to count as lost. */
export interface Cutoffs {
  readonly events: Date;
  readonly deliveries: Date;
}

/**
 * Nothing lost: finds events and deliveries whose next step is overdue by more than `graceMs`
 * (a lost queue message, a crash between storing and queueing, a restart of the one-machine
 * runtime, whose queues live in memory) and queues them again. It first pushes each item's
 * deadline forward with a conditional write, so two reconcilers never queue the same item, and
 * a queue failure is retried on a later run. Everything downstream is idempotent.
 *
 * Late is measured against the queue, not only the clock: while a queue's consumers report
 * that they are taking work due at T (queue-lag.ts), work due after T - `graceMs` may simply be
 * waiting in the backlog and is left alone (queueing it again would only grow the backlog), and
 * so are the deliveries of a webhook whose attempts wait on its in-flight limit, whose deadline
 * is pushed forward instead (a lease that the waiting renews, so that later pages are reached).
 */
export class Reconcile {
  private readonly deps: {
    readonly events: DueEvents;
    readonly deliveries: DueDeliveries;
    readonly eventQueue: { enqueue(events: readonly PublishedEvent[]): Promise<void> };
    readonly deliveryQueue: { enqueue(messages: readonly DeliveryMessage[]): Promise<void> };
    /** The consumers' lag records; without them, late is by the clock alone. */
    readonly lag?: Pick<LagRecords, 'read'>;
    readonly clock: Clock;
  };
  constructor(deps: Reconcile['deps']) {
    this.deps = deps;
  }

  /**
   * @param graceMs how late an item must be before it counts as lost
   * @param lookaheadMs also take items due this far in the future (after a restart of the
   *   one-machine runtime, whose queues were in memory); they are queued with `not_before`.
   * @param seen keys queued by earlier passes of the same run, skipped (and added to)
   */
  async execute(
    graceMs: number,
    lookaheadMs = 0,
    seen: Set<string> = new Set(),
  ): Promise<{ events: number; deliveries: number; waiting: number }> {
    const now = this.deps.clock();
    const fronts = await this.fronts([EVENTS_QUEUE_LAG, DELIVERIES_QUEUE_LAG], now);
    const cutoff = (key: string) => new Date(Math.min(now.getTime(), fronts.get(key) ?? Number.POSITIVE_INFINITY) - graceMs + lookaheadMs);
    const cutoffs = { events: cutoff(EVENTS_QUEUE_LAG), deliveries: cutoff(DELIVERIES_QUEUE_LAG) };
    // `seen` spans the passes of one run: an item postponed by an earlier pass can still be in
    // range (with a lookahead) and must not be queued again.
    const fresh = (key: string) => !seen.has(key) && seen.add(key) !== undefined;
    const events = (await this.deps.events.listDue(cutoffs.events, LIMIT_PER_SHARD)).filter((e) => fresh(`${e.tenant_id}/${e.id}`));
    const deliveries = (await this.deps.deliveries.listDue(cutoffs.deliveries, LIMIT_PER_SHARD)).filter((d) => fresh(d.delivery_id));

    // Deliveries of a webhook whose own attempts are being taken late (it is at its limit) wait their turn.
    const webhookFronts = deliveries.length > 0 ? await this.fronts([...new Set(deliveries.map(webhookLag))], now) : new Map<string, number>();
    const isWaiting = (d: DueDeliveryRef) => {
      const front = webhookFronts.get(webhookLag(d));
      return front !== undefined && d.due_at !== '' && Date.parse(d.due_at) >= front - graceMs;
    };
    const waiting = deliveries.filter(isWaiting);
    await Promise.all(waiting.map((d) => this.deps.deliveries.postpone(d, nextCheck(now, d.due_at, graceMs))));
    const counts = await this.requeue(
      events,
      deliveries.filter((d) => !isWaiting(d)),
      graceMs,
      cutoffs,
    );
    return { ...counts, waiting: waiting.length };
  }

  /** The fresh lag fronts of `keys` (none without lag records). */
  private async fronts(keys: readonly string[], now: Date): Promise<Map<string, number>> {
    return this.deps.lag ? freshFronts(await this.deps.lag.read(keys), now) : new Map();
  }

  /**
   * Queues the given items again, each after pushing its deadline forward with a conditional
   * write. The refs come from an index, which may disagree with the item (DynamoDB's indexes
   * lag; the local stand-in's can be torn by a SIGKILL): a refused push re-reads the item and
   * goes by what it says.
   */
  async requeue(
    eventRefs: readonly DueEventRef[],
    dueDeliveries: readonly DueDeliveryRef[],
    graceMs = 0,
    cutoffs?: Cutoffs,
  ): Promise<{ events: number; deliveries: number }> {
    // A re-read item counts only if it is still overdue: one another reconciler has just pushed
    // forward is that reconciler's to queue. ('' is an item that lost its deadline: overdue.)
    const overdue = (before: Date | undefined) => (dueAt: string) => before === undefined || dueAt === '' || Date.parse(dueAt) < before.getTime();
    const now = this.deps.clock();
    const claim = async <R extends { due_at: string }>(
      ref: R,
      store: { postpone(r: R, until: Date): Promise<boolean>; refreshDue(r: R): Promise<R | undefined> },
      isOverdue: (dueAt: string) => boolean,
    ) => {
      if (await store.postpone(ref, nextCheck(now, ref.due_at, graceMs))) return ref;
      const current = await store.refreshDue(ref);
      return current && isOverdue(current.due_at) && (await store.postpone(current, nextCheck(now, current.due_at, graceMs))) ? current : undefined;
    };

    const eventOverdue = overdue(cutoffs?.events);
    const claimedEvents = await Promise.all(
      eventRefs.map(async (ref) => ((await claim(ref, this.deps.events, eventOverdue)) ? this.deps.events.get(ref.tenant_id, ref.id) : undefined)),
    );
    const events = claimedEvents.filter((e) => e !== undefined);
    if (events.length > 0) await this.deps.eventQueue.enqueue(events);

    const deliveryOverdue = overdue(cutoffs?.deliveries);
    const claimed = await Promise.all(dueDeliveries.map((d) => claim(d, this.deps.deliveries, deliveryOverdue)));
    const messages: DeliveryMessage[] = claimed
      .filter((d) => d !== undefined)
      .map((d) => ({
        delivery_id: d.delivery_id,
        tenant_id: d.tenant_id,
        webhook_id: d.webhook_id,
        event_id: d.event_id,
        attempt: d.attempts_completed + 1,
        trigger: 'scheduled' as const,
        // Not before the ladder's plan (the deadline itself may have been pushed forward).
        ...(d.next_attempt_at && Date.parse(d.next_attempt_at) > now.getTime() ? { not_before: d.next_attempt_at } : {}),
      }));
    if (messages.length > 0) await this.deps.deliveryQueue.enqueue(messages);
    return { events: events.length, deliveries: messages.length };
  }
}
