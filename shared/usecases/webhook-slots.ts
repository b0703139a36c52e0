import type { DispatchSlots, SlotHolder } from './dispatch.ts';

/** At most `limit` holders per key at once in this process: a counter per key. */
export class KeyedSlots {
  private readonly limit: number;
  private readonly inFlight = new Map<string, number>();
  constructor(limit: number) {
    this.limit = limit;
  }

  tryAcquire(key: string): boolean {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.limit) return false;
    this.inFlight.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }
}

/**
 * The dispatcher's in-flight limits in this process: at most `perWebhook` attempts per webhook,
 * so one slow endpoint cannot take every worker, and at most `perTenant` per tenant, so one
 * tenant's endpoints cannot either: the workers beyond a tenant's cap stay free for the others.
 *
 * On one machine this is the only dispatcher. On AWS each dispatcher container has its own
 * slots (and works one batch at a time), so across containers the SQS fair queue does the rest:
 * delivery messages carry the tenant as MessageGroupId, and a tenant holding a large share of
 * the messages in flight has its messages served after the other tenants'.
 */
export class DeliverySlots implements DispatchSlots {
  private readonly webhooks: KeyedSlots;
  private readonly tenants: KeyedSlots;
  constructor(limits: { readonly perWebhook: number; readonly perTenant: number }) {
    this.webhooks = new KeyedSlots(limits.perWebhook);
    this.tenants = new KeyedSlots(limits.perTenant);
  }

  /** Takes a slot of the webhook and one of its tenant, or neither. */
  tryAcquire(holder: SlotHolder): 'acquired' | 'webhook busy' | 'tenant busy' {
    if (!this.webhooks.tryAcquire(holder.webhook_id)) return 'webhook busy';
    if (!this.tenants.tryAcquire(holder.tenant_id)) {
      this.webhooks.release(holder.webhook_id);
      return 'tenant busy';
    }
    return 'acquired';
  }

  release(holder: SlotHolder): void {
    this.tenants.release(holder.tenant_id);
    this.webhooks.release(holder.webhook_id);
  }
}
