import type { DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent, QueuedEvent } from '../domain/events.ts';
import { deliveryIdFor } from '../domain/ids.ts';
import { passes } from '../domain/filters.ts';
import { subscribes } from '../domain/matching.ts';
import { isReceiving, type Webhook } from '../domain/webhooks.ts';
import type { Clock } from './ports.ts';

export type NewDelivery = Pick<DeliveryMessage, 'delivery_id' | 'tenant_id' | 'webhook_id' | 'event_id'> & {
  readonly event_type: string;
};

/** Port: a tenant's webhooks, a page at a time. */
export interface WebhookPages {
  pages(tenantId: string): AsyncIterable<readonly Webhook[]>;
}

/** Port: fan-out progress on the stored event. */
export interface FanoutProgress {
  finishFanout(tenantId: string, eventId: string, at: Date): Promise<void>;
}

/** Port: delivery records. */
export interface DeliveryCreator {
  /** Creates those that do not exist yet, due at `dueAt` (default: now), and returns them. */
  createMany(deliveries: readonly NewDelivery[], now: Date, dueAt?: Date): Promise<NewDelivery[]>;
}

/** Port: the deliveries queue. */
export interface DeliveryQueue {
  enqueue(messages: readonly DeliveryMessage[], delaySeconds?: number): Promise<void>;
}

/**
 * Which webhooks an event goes to: receiving ones that existed when it was received, subscribe to
 * its type, and whose filter it passes. A webhook created after the event (while it waited in a
 * backlog, or when a fan-out runs again) is not sent what was published before it, as Svix and
 * Stripe do not: its endpoint may not expect it, and a backlog's size would decide.
 */
export function recipients(webhooks: readonly Webhook[], event: PublishedEvent): Webhook[] {
  return webhooks.filter((w) => w.created_at <= event.received_at && isReceiving(w) && subscribes(w.events, event.event) && passes(w.filter, event));
}

/**
 * Fan-out: one delivery per receiving, matching webhook, queued for the dispatcher. Delivery ids
 * are derived from (tenant, event, webhook), so running it twice for one event (an SQS
 * redelivery, the reconciler) makes the same deliveries.
 *
 * With delivery records (the one-machine store), they are written with conditional puts and only
 * what a run created is queued (a run that died between the two leaves due deliveries, which the
 * reconciler queues), and the event is marked fanned out at the end. Without (AWS), every
 * delivery is queued, and the event's message stays on its queue until they are: a run again
 * queues them again, and each attempt's log entry keeps a second copy from making it twice.
 */
export class FanOutEvent {
  private readonly webhooks: WebhookPages;
  private readonly progress: FanoutProgress | undefined;
  private readonly deliveries: DeliveryCreator | undefined;
  private readonly queue: DeliveryQueue;
  private readonly clock: Clock;
  private readonly firstDelayMs: number;
  constructor(deps: {
    webhooks: WebhookPages;
    /** Absent: the store keeps no fan-out progress (the queue does). */
    progress?: FanoutProgress;
    /** Absent: the store keeps no delivery records (the delivery log is their record). */
    deliveries?: DeliveryCreator;
    queue: DeliveryQueue;
    clock: Clock;
    /** The ladder's first rung (HOOKLINE_RETRY_DELAYS[0]): seconds before attempt 1. @default 0 */
    firstDelaySeconds?: number;
  }) {
    this.webhooks = deps.webhooks;
    this.progress = deps.progress;
    this.deliveries = deps.deliveries;
    this.queue = deps.queue;
    this.clock = deps.clock;
    this.firstDelayMs = (deps.firstDelaySeconds ?? 0) * 1000;
  }

  /**
   * Returns the number of deliveries queued. `redelivered`: the event's message was taken before,
   * so some of its deliveries may have been queued and attempted (as for an event queued again).
   */
  async execute(message: QueuedEvent, redelivered = false): Promise<number> {
    const { again, ...event } = message;
    const recheck = again || redelivered ? { recheck: true as const } : {};
    let queued = 0;
    for await (const page of this.webhooks.pages(event.tenant_id)) {
      const wanted = recipients(page, event).map((w) => ({
        delivery_id: deliveryIdFor(event.tenant_id, event.id, w.id, event.received_at),
        tenant_id: event.tenant_id,
        webhook_id: w.id,
        event_id: event.id,
        event_type: event.event,
      }));
      if (wanted.length === 0) continue;
      const now = this.clock();
      // A first rung above 0 holds attempt 1 back: the dispatcher sends the message round the
      // retry scheduler until then (SQS holds a message back 15 minutes at most).
      const dueAt = this.firstDelayMs > 0 ? new Date(now.getTime() + this.firstDelayMs) : now;
      const due = dueAt.toISOString();
      const later = this.firstDelayMs > 0 ? { not_before: due } : {};
      const created = this.deliveries ? await this.deliveries.createMany(wanted, now, dueAt) : wanted;
      // Each message carries the event: the dispatcher reads nothing to send it.
      await this.queue.enqueue(created.map(({ event_type: _t, ...ref }) => ({ ...ref, attempt: 1, trigger: 'scheduled' as const, due_at: due, ...later, event, ...recheck })));
      queued += created.length;
    }
    await this.progress?.finishFanout(event.tenant_id, event.id, this.clock());
    return queued;
  }
}
