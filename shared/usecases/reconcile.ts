import type { DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import type { Clock } from './ports.ts';

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

/**
 * Nothing lost: finds events and deliveries whose next step is overdue by more than `graceMs`
 * (a lost queue message, a crash between storing and queueing, a restart of the one-machine
 * runtime, whose queues live in memory) and queues them again. It first pushes each item's
 * deadline forward with a conditional write, so two reconcilers never queue the same item, and
 * a queue failure is retried on a later run. Everything downstream is idempotent.
 */
export class Reconcile {
  private readonly deps: {
    readonly events: DueEvents;
    readonly deliveries: DueDeliveries;
    readonly eventQueue: { enqueue(events: readonly PublishedEvent[]): Promise<void> };
    readonly deliveryQueue: { enqueue(messages: readonly DeliveryMessage[]): Promise<void> };
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
  async execute(graceMs: number, lookaheadMs = 0, seen: Set<string> = new Set()): Promise<{ events: number; deliveries: number }> {
    const now = this.deps.clock();
    const before = new Date(now.getTime() - graceMs + lookaheadMs);
    // `seen` spans the passes of one run: an item postponed by an earlier pass can still be in
    // range (with a lookahead) and must not be queued again.
    const fresh = (key: string) => !seen.has(key) && seen.add(key) !== undefined;
    const events = (await this.deps.events.listDue(before, LIMIT_PER_SHARD)).filter((e) => fresh(`${e.tenant_id}/${e.id}`));
    const deliveries = (await this.deps.deliveries.listDue(before, LIMIT_PER_SHARD)).filter((d) => fresh(d.delivery_id));
    return this.requeue(events, deliveries, graceMs, before);
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
    before?: Date,
  ): Promise<{ events: number; deliveries: number }> {
    // A re-read item counts only if it is still overdue: one another reconciler has just pushed
    // forward is that reconciler's to queue. ('' is an item that lost its deadline: overdue.)
    const overdue = (dueAt: string) => before === undefined || dueAt === '' || Date.parse(dueAt) < before.getTime();
    const now = this.deps.clock();
    const recheck = Math.max(graceMs, 60_000);
    const nextCheck = (dueAt: string) => new Date(Math.max(now.getTime(), Date.parse(dueAt) || 0) + recheck);
    const claim = async <R extends { due_at: string }>(ref: R, store: { postpone(r: R, until: Date): Promise<boolean>; refreshDue(r: R): Promise<R | undefined> }) => {
      if (await store.postpone(ref, nextCheck(ref.due_at))) return ref;
      const current = await store.refreshDue(ref);
      return current && overdue(current.due_at) && (await store.postpone(current, nextCheck(current.due_at))) ? current : undefined;
    };

    const claimedEvents = await Promise.all(
      eventRefs.map(async (ref) => ((await claim(ref, this.deps.events)) ? this.deps.events.get(ref.tenant_id, ref.id) : undefined)),
    );
    const events = claimedEvents.filter((e) => e !== undefined);
    if (events.length > 0) await this.deps.eventQueue.enqueue(events);

    const claimed = await Promise.all(dueDeliveries.map((d) => claim(d, this.deps.deliveries)));
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
