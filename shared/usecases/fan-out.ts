import type { DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
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
  /** Creates those that do not exist yet and returns them. */
  createMany(deliveries: readonly NewDelivery[], now: Date): Promise<NewDelivery[]>;
}

/** Port: the deliveries queue. */
export interface DeliveryQueue {
  enqueue(messages: readonly DeliveryMessage[], delaySeconds?: number): Promise<void>;
}

/** Which webhooks an event goes to: receiving ones that subscribe to its type and whose filter it passes. */
export function recipients(webhooks: readonly Webhook[], event: PublishedEvent): Webhook[] {
  return webhooks.filter((w) => isReceiving(w) && subscribes(w.events, event.event) && passes(w.filter, event));
}

/**
 * Fan-out: one delivery per receiving, matching webhook, queued for the dispatcher. Delivery ids
 * are derived from (tenant, event, webhook), so running it twice for one event (an SQS
 * redelivery, the reconciler) creates and queues nothing twice: deliveries are written with
 * conditional puts and only what a run created is queued (a run that died between the two
 * leaves due deliveries, which the reconciler queues). Nothing is written to the event before
 * the fan-out: its item is 1 KB or more, and every update of it costs that much again.
 */
export class FanOutEvent {
  private readonly webhooks: WebhookPages;
  private readonly progress: FanoutProgress;
  private readonly deliveries: DeliveryCreator;
  private readonly queue: DeliveryQueue;
  private readonly clock: Clock;
  constructor(deps: {
    webhooks: WebhookPages;
    progress: FanoutProgress;
    deliveries: DeliveryCreator;
    queue: DeliveryQueue;
    clock: Clock;
  }) {
    this.webhooks = deps.webhooks;
    this.progress = deps.progress;
    this.deliveries = deps.deliveries;
    this.queue = deps.queue;
    this.clock = deps.clock;
  }

  /** Returns the number of deliveries queued. */
  async execute(event: PublishedEvent): Promise<number> {
    let queued = 0;
    for await (const page of this.webhooks.pages(event.tenant_id)) {
      const wanted = recipients(page, event).map((w) => ({
        delivery_id: deliveryIdFor(event.tenant_id, event.id, w.id),
        tenant_id: event.tenant_id,
        webhook_id: w.id,
        event_id: event.id,
        event_type: event.event,
      }));
      if (wanted.length === 0) continue;
      const created = await this.deliveries.createMany(wanted, this.clock());
      await this.queue.enqueue(
        created.map(({ event_type: _t, ...ref }) => ({ ...ref, attempt: 1, trigger: 'scheduled' as const })),
      );
      queued += created.length;
    }
    await this.progress.finishFanout(event.tenant_id, event.id, this.clock());
    return queued;
  }
}
