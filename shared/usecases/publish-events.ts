import type { Catalogue } from '../domain/catalogue.ts';
import type { PublishedEvent, QueuedEvent } from '../domain/events.ts';
import { newEventId } from '../domain/ids.ts';
import { HooklineError, ValidationError } from '../errors.ts';
import type { EventInput } from '../http/schemas.ts';
import { noMetrics, type PublishMetrics } from './metrics.ts';
import type { Clock } from './ports.ts';

/** Port: durable event storage with the idempotency check. */
export interface EventStore {
  putIfAbsent(event: PublishedEvent): Promise<'created' | 'duplicate-pending' | 'duplicate-done'>;
  /** The stored copy (a duplicate is queued as it was first stored: its deliveries' ids come from it). */
  get(tenantId: string, eventId: string, consistent?: boolean): Promise<PublishedEvent | undefined>;
  /**
   * Removes events a request stored and could not queue, so that the same request later is
   * accepted anew whenever it comes. Only the copy received at `received_at` (not a later one).
   */
  forget(events: readonly Pick<PublishedEvent, 'tenant_id' | 'id' | 'received_at'>[]): Promise<void>;
}

/** Port: the events queue in front of the fan-out. */
export interface EventQueue {
  enqueue(events: readonly QueuedEvent[]): Promise<void>;
  /** Whether the event fits in one message: one that does not is refused before it is stored. */
  fits(event: PublishedEvent): boolean;
}

export interface PublishLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

/**
 * Ingest: validate every event of the request, store each durably (idempotently), then queue
 * them for fan-out. Nothing is stored unless every event is valid. Where a reconciler queues
 * stored events that were never queued (one machine), an event is accepted once stored, even if
 * queueing fails. Elsewhere (AWS) it is accepted once queued: a failed enqueue is a 503, and the
 * publisher's retry with the same ids finds them stored and queues them.
 */
export class PublishEvents {
  private readonly store: EventStore;
  private readonly queue: EventQueue;
  private readonly catalogue: Catalogue;
  private readonly clock: Clock;
  private readonly log: PublishLogger;
  private readonly metrics: PublishMetrics;
  private readonly reconciled: boolean;
  constructor(deps: {
    store: EventStore;
    queue: EventQueue;
    catalogue: Catalogue;
    clock: Clock;
    log: PublishLogger;
    metrics?: PublishMetrics;
    /** Whether a reconciler queues events stored but never queued (default false: a failed enqueue is a 503). */
    reconciled?: boolean;
  }) {
    this.store = deps.store;
    this.queue = deps.queue;
    this.catalogue = deps.catalogue;
    this.clock = deps.clock;
    this.log = deps.log;
    this.metrics = deps.metrics ?? noMetrics;
    this.reconciled = deps.reconciled ?? false;
  }

  async execute(tenantId: string, inputs: readonly EventInput[]): Promise<string[]> {
    const at = (i: number, path: string) => (inputs.length > 1 ? `events.${i}.${path}` : path);
    const unknown = inputs.flatMap((e, i) =>
      this.catalogue.has(e.event) ? [] : [{ path: at(i, 'event'), message: `unknown event type "${e.event}"` }],
    );
    if (unknown.length > 0) throw new ValidationError('Unknown event type', unknown);
    const invalid = inputs.flatMap((e, i) => this.catalogue.problems(e.event, e.data).map((p) => ({ ...p, path: at(i, p.path) })));
    if (invalid.length > 0) throw new ValidationError("Event data does not match its type's schema", invalid);
    // Each repeat of an id named by where it is, as the other problems are.
    const firstAt = new Map<string, number>();
    const repeated = inputs.flatMap((e, i) => {
      if (e.id === undefined) return [];
      const first = firstAt.get(e.id);
      if (first === undefined) {
        firstAt.set(e.id, i);
        return [];
      }
      return [{ path: at(i, 'id'), message: `the same id as events.${first}.id` }];
    });
    if (repeated.length > 0) throw new ValidationError('The batch has the same event id twice', repeated);

    const now = this.clock().toISOString();
    const events: PublishedEvent[] = inputs.map((e) => ({
      tenant_id: tenantId,
      id: e.id ?? newEventId(),
      event: e.event,
      timestamp: e.timestamp ?? now,
      data: e.data,
      received_at: now,
    }));
    // Refused now, not stored and then stuck: an event the queue cannot carry would never fan out.
    const tooLarge = events.flatMap((e, i) => (this.queue.fits(e) ? [] : [{ path: at(i, 'data'), message: 'too large to queue once encoded' }]));
    if (tooLarge.length > 0) throw new HooklineError(413, 'An event is too large to queue', { details: tooLarge });
    const outcomes = await Promise.all(events.map((e) => this.store.putIfAbsent(e)));
    // A duplicate that is still pending may be one whose first enqueue was lost: queue it again.
    // The fan-out is idempotent, so a second message costs a little and loses nothing.
    const toQueue: QueuedEvent[] = await Promise.all(
      events.flatMap((e, i) => {
        if (outcomes[i] === 'created') return [Promise.resolve(e)];
        if (outcomes[i] === 'duplicate-done') return [];
        return [this.store.get(e.tenant_id, e.id, true).then((stored) => ({ ...(stored ?? e), again: true as const }))];
      }),
    );
    try {
      await this.queue.enqueue(toQueue);
    } catch (err) {
      if (!this.reconciled) {
        // Not accepted: what this request stored goes again (best effort; a copy left behind is
        // queued by the same request within 15 minutes, see the event store's duplicates).
        await this.store.forget(events.filter((_, i) => outcomes[i] === 'created')).catch((forgetErr: unknown) =>
          this.log.warn('events stored, not queued, and not removed', { count: events.length, error: forgetErr instanceof Error ? forgetErr.message : String(forgetErr) }),
        );
        throw new HooklineError(503, 'Events could not be queued; send the same request again (events with an id are stored once)', { cause: err });
      }
      this.log.warn('events stored but not queued; the reconciler will queue them', {
        count: toQueue.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    // Stored now, so published: a replayed id was counted when it was first stored.
    this.metrics.eventsPublished(outcomes.filter((o) => o === 'created').length);
    return events.map((e) => e.id);
  }
}
