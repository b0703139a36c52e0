import { MAX_ATTEMPTS_PER_DELIVERY, type Delivery, type DeliveryMessage, type DeliveryRef } from '../domain/deliveries.ts';
import { isDeliveryId, isWebhookId } from '../domain/ids.ts';
import { isReceiving, type Webhook } from '../domain/webhooks.ts';
import { HooklineError, NotFoundError, ValidationError } from '../errors.ts';
import type { Clock } from './ports.ts';

/** Port: deliveries that can be opened again. */
export interface ReopenableDeliveries {
  get(ref: DeliveryRef): Promise<Delivery | undefined>;
  reopen(ref: DeliveryRef, now: Date): Promise<Delivery | undefined>;
}
/** Port: which deliveries of a webhook failed recently. */
export interface FailedAttempts {
  failedDeliveriesSince(webhookId: string, since: Date, limit: number): Promise<string[]>;
}

/** A recover reopens at most this many deliveries; call it again with a later `since` for more. */
export const MAX_RECOVER = 1000;

/**
 * Manual recovery (issue 3): one more attempt of one delivery now, or of every failed delivery of
 * a webhook since a time. Each is reopened with a conditional write (so a delivery still on its
 * ladder is left alone) and queued as a `manual` attempt: a single try, no new ladder.
 */
export class RecoverDeliveries {
  private readonly deps: {
    readonly webhooks: { get(tenantId: string, webhookId: string, consistent?: boolean): Promise<Webhook | undefined> };
    readonly deliveries: ReopenableDeliveries;
    readonly attempts: FailedAttempts;
    readonly queue: { enqueue(messages: readonly DeliveryMessage[]): Promise<void> };
    readonly clock: Clock;
  };
  constructor(deps: RecoverDeliveries['deps']) {
    this.deps = deps;
  }

  async retry(tenantId: string, webhookId: string, deliveryId: string): Promise<{ delivery_id: string; attempt: number }> {
    await this.webhook(tenantId, webhookId);
    const ref = { delivery_id: deliveryId, tenant_id: tenantId, webhook_id: webhookId };
    const delivery = isDeliveryId(deliveryId) ? await this.deps.deliveries.get(ref) : undefined;
    if (!delivery || delivery.tenant_id !== tenantId || delivery.webhook_id !== webhookId) {
      throw new NotFoundError(`No delivery ${deliveryId} for webhook ${webhookId}`);
    }
    if (delivery.attempts_completed >= MAX_ATTEMPTS_PER_DELIVERY) {
      throw new HooklineError(409, `Delivery ${deliveryId} has had ${MAX_ATTEMPTS_PER_DELIVERY} attempts, the most a delivery may have`);
    }
    const reopened = await this.deps.deliveries.reopen(ref, this.deps.clock());
    if (!reopened) throw new HooklineError(409, `Delivery ${deliveryId} is still being retried; wait for its current attempt`);
    const message = manualAttempt(reopened);
    await this.deps.queue.enqueue([message]);
    return { delivery_id: deliveryId, attempt: message.attempt };
  }

  async recover(tenantId: string, webhookId: string, since: Date): Promise<{ queued: number }> {
    if (since.getTime() > this.deps.clock().getTime()) throw new ValidationError('since must not be in the future');
    await this.webhook(tenantId, webhookId);
    const ids = await this.deps.attempts.failedDeliveriesSince(webhookId, since, MAX_RECOVER);
    const candidates = await Promise.all(ids.map((id) => this.deps.deliveries.get({ delivery_id: id, tenant_id: tenantId, webhook_id: webhookId })));
    const failed = candidates.filter((d): d is Delivery => d?.state === 'failed' && d.tenant_id === tenantId && d.attempts_completed < MAX_ATTEMPTS_PER_DELIVERY);
    const now = this.deps.clock();
    const reopened = (await Promise.all(failed.map((d) => this.deps.deliveries.reopen(d, now)))).filter((d) => d !== undefined);
    if (reopened.length > 0) await this.deps.queue.enqueue(reopened.map(manualAttempt));
    return { queued: reopened.length };
  }

  /**
   * The webhook, which must be receiving: an attempt queued for an inactive or disabled one would
   * be cancelled unseen (a 202 for nothing, and an attempt number used up).
   */
  private async webhook(tenantId: string, webhookId: string): Promise<Webhook> {
    const webhook = isWebhookId(webhookId) ? await this.deps.webhooks.get(tenantId, webhookId, true) : undefined;
    if (!webhook) throw new NotFoundError(`No webhook ${webhookId}`);
    if (!isReceiving(webhook)) {
      throw new HooklineError(409, `Webhook ${webhookId} is ${webhook.active ? 'disabled' : 'inactive'} and receives nothing; PATCH {"active": true} first`);
    }
    return webhook;
  }
}

const manualAttempt = (d: Delivery): DeliveryMessage => ({
  delivery_id: d.delivery_id,
  tenant_id: d.tenant_id,
  webhook_id: d.webhook_id,
  event_id: d.event_id,
  attempt: d.attempts_completed + 1,
  trigger: 'manual',
});
