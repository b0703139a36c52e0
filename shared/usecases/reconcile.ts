import type { DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import type { Clock } from './ports.ts';

export interface DueEventRef {
  readonly tenant_id: string;
  readonly id: string;
  readonly due_at: string;
}
export interface DueDeliveryRef {
  readonly delivery_id: string;
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly event_id: string;
  readonly due_at: string;
  readonly attempts_completed: number;
}

/** Port: events whose fan-out has not finished. */
export interface DueEvents {
  listDue(before: Date, limitPerShard: number): Promise<DueEventRef[]>;
  postpone(ref: DueEventRef, until: Date): Promise<boolean>;
  get(tenantId: string, eventId: string): Promise<PublishedEvent | undefined>;
}
/** Port: pending deliveries. */
export interface DueDeliveries {
  listDue(before: Date, limitPerShard: number): Promise<DueDeliveryRef[]>;
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
    const recheck = Math.max(graceMs, 60_000);
    const nextCheck = (dueAt: string) => new Date(Math.max(now.getTime(), Date.parse(dueAt)) + recheck);

    // `seen` spans the passes of one run: an item postponed by an earlier pass can still be in
    // range (with a lookahead) and must not be queued again.
    const fresh = (key: string) => !seen.has(key) && seen.add(key) !== undefined;
    const dueEvents = (await this.deps.events.listDue(before, LIMIT_PER_SHARD)).filter((e) => fresh(`${e.tenant_id}/${e.id}`));
    const claimedEvents = await Promise.all(
      dueEvents.map(async (ref) => ((await this.deps.events.postpone(ref, nextCheck(ref.due_at))) ? this.deps.events.get(ref.tenant_id, ref.id) : undefined)),
    );
    const events = claimedEvents.filter((e) => e !== undefined);
    if (events.length > 0) await this.deps.eventQueue.enqueue(events);

    const dueDeliveries = (await this.deps.deliveries.listDue(before, LIMIT_PER_SHARD)).filter((d) => fresh(d.delivery_id));
    const claimed = await Promise.all(dueDeliveries.map(async (d) => ((await this.deps.deliveries.postpone(d, nextCheck(d.due_at))) ? d : undefined)));
    const messages: DeliveryMessage[] = claimed
      .filter((d) => d !== undefined)
      .map((d) => ({
        delivery_id: d.delivery_id,
        tenant_id: d.tenant_id,
        webhook_id: d.webhook_id,
        event_id: d.event_id,
        attempt: d.attempts_completed + 1,
        trigger: 'scheduled' as const,
        ...(Date.parse(d.due_at) > now.getTime() ? { not_before: d.due_at } : {}),
      }));
    if (messages.length > 0) await this.deps.deliveryQueue.enqueue(messages);
    return { events: events.length, deliveries: messages.length };
  }
}
