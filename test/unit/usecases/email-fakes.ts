/**
 * In-memory fakes of the email ports (the webhook's email window, the tenant's hourly budget,
 * the tenants' own addresses), with the conditions of their DynamoDB adapters.
 */
import { MAX_UNSENT_CHANGES } from '../../../shared/domain/notifications.ts';
import { emailWindowField, type StatusChange, type Webhook } from '../../../shared/domain/webhooks.ts';
import type { EmailQuota, EmailQuotaRefund, TenantOwners } from '../../../shared/usecases/owner-email.ts';
import type { EmailClaim, WebhookStatusStore } from '../../../shared/usecases/webhook-health.ts';
import { MemoryWebhookStatusStore } from './fakes.ts';

const tick = () => new Promise((r) => setImmediate(r));

/** DynamoWebhookStore's claimEmail / keepUnsent on a Map, each check-and-set atomic after an await. */
export class MemoryEmailWindowStore extends MemoryWebhookStatusStore implements WebhookStatusStore {
  row(w: Pick<Webhook, 'tenant_id' | 'id'>): Webhook | undefined {
    return this.items.get(`${w.tenant_id}/${w.id}`);
  }

  async claimEmail(tenantId: string, webhookId: string, change: StatusChange, now: Date, windowStart: Date): Promise<EmailClaim> {
    await tick();
    const key = `${tenantId}/${webhookId}`;
    const w = this.items.get(key);
    if (!w) return { kind: 'held' };
    const field = emailWindowField(change);
    if (w[field] === undefined || w[field] <= windowStart.toISOString()) {
      const { unsent_changes: unsent = [], unsent_count: count = 0, ...rest } = w;
      this.items.set(key, { ...rest, [field]: now.toISOString() });
      return { kind: 'send', unsent, unsentCount: count };
    }
    this.append(key, [change], 1);
    return { kind: 'held' };
  }

  async keepUnsent(tenantId: string, webhookId: string, changes: readonly StatusChange[], count: number): Promise<void> {
    await tick();
    this.append(`${tenantId}/${webhookId}`, changes, count);
  }

  private append(key: string, changes: readonly StatusChange[], count: number): void {
    const w = this.items.get(key);
    if (!w) return;
    const listed = w.unsent_changes ?? [];
    const fits = listed.length + Math.min(changes.length, MAX_UNSENT_CHANGES) <= MAX_UNSENT_CHANGES;
    this.items.set(key, {
      ...w,
      unsent_changes: fits ? [...listed, ...changes.slice(0, MAX_UNSENT_CHANGES)] : listed,
      unsent_count: (w.unsent_count ?? 0) + count,
    });
  }
}

/** DynamoEmailQuota: a counter per tenant and clock hour, never past `perHour`. */
export class MemoryEmailQuota implements EmailQuota, EmailQuotaRefund {
  readonly counts = new Map<string, number>();
  readonly perHour: number;
  constructor(perHour: number) {
    this.perHour = perHour;
  }
  async take(tenantId: string, now: Date): Promise<boolean> {
    await tick();
    const key = `${tenantId}#${now.toISOString().slice(0, 13)}`;
    const sent = this.counts.get(key) ?? 0;
    if (sent >= this.perHour) return false;
    this.counts.set(key, sent + 1);
    return true;
  }
  async giveBack(tenantId: string, takenAt: Date): Promise<void> {
    const key = `${tenantId}#${takenAt.toISOString().slice(0, 13)}`;
    const sent = this.counts.get(key) ?? 0;
    if (sent > 0) this.counts.set(key, sent - 1);
  }
}

export class MemoryTenantOwners implements TenantOwners {
  readonly addresses: Record<string, string>;
  constructor(addresses: Record<string, string>) {
    this.addresses = addresses;
  }
  async get(tenantId: string) {
    const owner = this.addresses[tenantId];
    return owner === undefined ? undefined : { owner_email: owner };
  }
}
