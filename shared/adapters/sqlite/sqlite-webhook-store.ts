import { MAX_UNSENT_CHANGES } from '../../domain/notifications.ts';
import { emailWindowField, type StatusChange, type Webhook, type WebhookStatus } from '../../domain/webhooks.ts';
import type { WebhookReader } from '../../usecases/dispatch.ts';
import type { WebhookPages } from '../../usecases/fan-out.ts';
import type { ListPage, PageRequest, WebhookRepository } from '../../usecases/manage-webhooks.ts';
import type { OwnerEmailStore } from '../../usecases/owner-email.ts';
import type { EmailClaim, WebhookStatusStore } from '../../usecases/webhook-health.ts';
import { StoreError } from './errors.ts';
import { readPage } from './paging.ts';
import { BOUND_INT, SqliteTable } from './sqlite-table.ts';

/** Webhooks a fan-out page holds (DynamoDB's pages end at 1 MB; here a count does). */
const FANOUT_PAGE = 500;

type Fields = Record<string, unknown>;

/**
 * Webhooks keyed by (tenant_id, webhook_id), the rest of each as JSON: DynamoWebhookStore's
 * conditional updates become a read and a write in one transaction (BEGIN IMMEDIATE holds the
 * write lock from the read on, so the condition cannot change in between).
 */
export class SqliteWebhookStore extends SqliteTable implements WebhookRepository, WebhookStatusStore, OwnerEmailStore, WebhookReader, WebhookPages {
  /**
   * Webhooks parsed lately, by tenant and id, with the JSON they were parsed from: a row whose
   * doc is that same text is not parsed again. The fan-out reads every webhook of its tenant for
   * each event and the dispatcher one for each delivery; parsing them was 1.9 KB of the 30 KB
   * the main thread allocated a delivery in the bench, and about 9 us of its CPU. Frozen (deeply),
   * since every reader gets the same object.
   */
  private readonly parsed = new Map<string, { readonly doc: string; readonly webhook: Webhook }>();

  /** `consistent` is accepted for the port; every read here is. */
  async get(tenantId: string, webhookId: string, _consistent = false): Promise<Webhook | undefined> {
    return this.run('read webhook', () => this.read(tenantId, webhookId));
  }

  /** Stores a new webhook; an existing one with the same id is a StoreError, and is kept. */
  async create(webhook: Webhook): Promise<void> {
    const { tenant_id, id, ...rest } = webhook;
    this.run('create webhook', () => this.statement('INSERT INTO webhooks (tenant_id, webhook_id, doc) VALUES (?, ?, ?)').run(tenant_id, id, JSON.stringify(rest)));
  }

  /** Sets the given fields of an existing webhook; undefined when it does not exist. */
  async update(tenantId: string, webhookId: string, fields: Partial<Webhook>, remove: readonly (keyof Webhook)[] = []): Promise<Webhook | undefined> {
    const entries = Object.entries(fields).filter(([k, v]) => v !== undefined && k !== 'tenant_id' && k !== 'id');
    if (entries.length === 0 && remove.length === 0) return this.get(tenantId, webhookId);
    return this.run('update webhook', () =>
      this.change(tenantId, webhookId, (doc) => {
        for (const [key, value] of entries) doc[key] = value;
        for (const key of remove) delete doc[key];
        return true;
      }),
    );
  }

  /**
   * Moves the webhook's status to `to` if it is one of `from` (or if it is `to` already for the
   * same cause: a redelivered follow-up). Returns the webhook after the change, or undefined when
   * this call changed nothing.
   */
  async transitionStatus(tenantId: string, webhookId: string, from: readonly WebhookStatus[], to: WebhookStatus, at: Date, cause: string): Promise<Webhook | undefined> {
    return this.run('change webhook status', () =>
      this.change(tenantId, webhookId, (doc) => {
        if (!from.includes(doc['status'] as WebhookStatus) && !(doc['status'] === to && doc['status_cause'] === cause)) return false;
        Object.assign(doc, { status: to, status_cause: cause, status_changed_at: at.toISOString(), updated_at: at.toISOString() });
        return true;
      }),
    );
  }

  /**
   * The webhook's email window (see DynamoWebhookStore.claimEmail): if the owner was not emailed
   * since `windowStart`, the window restarts at `now` and the held-back changes are taken;
   * otherwise the change is held back (the first MAX_UNSENT_CHANGES kept, the rest counted).
   */
  async claimEmail(tenantId: string, webhookId: string, change: StatusChange, now: Date, windowStart: Date): Promise<EmailClaim> {
    const since = windowStart.toISOString();
    return this.run("claim the webhook's email window", () =>
      this.db.transaction((): EmailClaim => {
        const doc = this.readDoc(tenantId, webhookId);
        if (!doc) return { kind: 'held' };
        const field = emailWindowField(change);
        const last = doc[field] as string | undefined;
        if (last !== undefined && last > since) {
          appendUnsent(doc, [change], 1);
          this.write(tenantId, webhookId, doc);
          return { kind: 'held' };
        }
        const claim: EmailClaim = { kind: 'send', unsent: (doc['unsent_changes'] as StatusChange[] | undefined) ?? [], unsentCount: Number(doc['unsent_count'] ?? 0) };
        doc[field] = now.toISOString();
        delete doc['unsent_changes'];
        delete doc['unsent_count'];
        this.write(tenantId, webhookId, doc);
        return claim;
      }),
    );
  }

  async keepUnsent(tenantId: string, webhookId: string, changes: readonly StatusChange[], count: number): Promise<void> {
    this.run('record an unsent webhook email', () =>
      this.change(tenantId, webhookId, (doc) => {
        appendUnsent(doc, changes, count);
        return true;
      }),
    );
  }

  /** Single use: the token's hash must match and not be expired; it is removed as the address is verified. */
  async confirmOwnerEmail(tenantId: string, webhookId: string, tokenHash: string, now: Date): Promise<Webhook | undefined> {
    const at = now.toISOString();
    return this.run('verify the owner email', () =>
      this.change(tenantId, webhookId, (doc) => {
        const expiresAt = doc['owner_email_token_expires_at'];
        if (doc['owner_email_token_hash'] !== tokenHash || typeof expiresAt !== 'string' || !(expiresAt > at)) return false;
        Object.assign(doc, { owner_email_verified: true, updated_at: at });
        delete doc['owner_email_token_hash'];
        delete doc['owner_email_token_expires_at'];
        return true;
      }),
    );
  }

  /** Deletes the webhook; false when it did not exist. */
  async delete(tenantId: string, webhookId: string): Promise<boolean> {
    const { changes } = this.run('delete webhook', () => this.statement('DELETE FROM webhooks WHERE tenant_id = ? AND webhook_id = ?').run(tenantId, webhookId));
    return Number(changes) === 1;
  }

  /** A page of a tenant's webhooks, oldest first (ids are ULIDs); its cursors work for this tenant only. */
  async list(tenantId: string, request: PageRequest): Promise<ListPage<Webhook>> {
    return readPage(
      request,
      { keyNames: { partition: 'tenant_id', sort: 'webhook_id' }, partitionValue: tenantId, boundTo: `webhooks/${tenantId}` },
      (after, skip, count) => this.run('list webhooks', () => this.after(tenantId, after ?? '', count, skip)),
      (webhook) => webhook.id,
    );
  }

  /** Every webhook of a tenant, FANOUT_PAGE at a time (each page one statement). */
  async *pages(tenantId: string): AsyncGenerator<Webhook[]> {
    let after = '';
    for (;;) {
      const page = this.run('list webhooks', () => this.after(tenantId, after, FANOUT_PAGE, 0));
      if (page.length > 0) yield page;
      if (page.length < FANOUT_PAGE) return;
      after = page.at(-1)!.id;
    }
  }

  private after(tenantId: string, after: string, count: number, skip: number): Webhook[] {
    return this.statement(`SELECT webhook_id, doc FROM webhooks WHERE tenant_id = ? AND webhook_id > ? ORDER BY webhook_id LIMIT ${BOUND_INT} OFFSET ${BOUND_INT}`)
      .all(tenantId, after, count, skip)
      .map((row) => this.fromRow(tenantId, row['webhook_id'] as string, row['doc'] as string));
  }

  private read(tenantId: string, webhookId: string): Webhook | undefined {
    const row = this.statement('SELECT doc FROM webhooks WHERE tenant_id = ? AND webhook_id = ?').get(tenantId, webhookId);
    return row ? this.fromRow(tenantId, webhookId, row['doc'] as string) : undefined;
  }

  private fromRow(tenantId: string, webhookId: string, doc: string): Webhook {
    const key = `${tenantId}\n${webhookId}`;
    const known = this.parsed.get(key);
    if (known?.doc === doc) return known.webhook;
    const webhook = deepFreeze(fromDoc(tenantId, webhookId, JSON.parse(doc) as Fields));
    // Oldest first out: a Map iterates in insertion order.
    if (!known && this.parsed.size >= PARSED_KEPT) this.parsed.delete(this.parsed.keys().next().value!);
    this.parsed.set(key, { doc, webhook });
    return webhook;
  }

  private readDoc(tenantId: string, webhookId: string): Fields | undefined {
    const row = this.statement('SELECT doc FROM webhooks WHERE tenant_id = ? AND webhook_id = ?').get(tenantId, webhookId);
    return row ? (JSON.parse(row['doc'] as string) as Fields) : undefined;
  }

  private write(tenantId: string, webhookId: string, doc: Fields): void {
    const { changes } = this.statement('UPDATE webhooks SET doc = ? WHERE tenant_id = ? AND webhook_id = ?').run(JSON.stringify(doc), tenantId, webhookId);
    if (Number(changes) !== 1) throw new StoreError('the webhook changed under a transaction');
  }

  /** Reads, edits (when `edit` returns true, the condition held) and writes back; the webhook after, or undefined. */
  private change(tenantId: string, webhookId: string, edit: (doc: Fields) => boolean): Webhook | undefined {
    return this.db.transaction(() => {
      const doc = this.readDoc(tenantId, webhookId);
      if (!doc || !edit(doc)) return undefined;
      this.write(tenantId, webhookId, doc);
      return fromDoc(tenantId, webhookId, doc);
    });
  }
}

/** Appends changes to the unsent list while the whole lot fits, else only counts them (as DynamoDB's conditional list_append). */
function appendUnsent(doc: Fields, changes: readonly StatusChange[], count: number): void {
  const listed = (doc['unsent_changes'] as StatusChange[] | undefined) ?? [];
  const adding = changes.slice(0, MAX_UNSENT_CHANGES);
  if (listed.length <= MAX_UNSENT_CHANGES - adding.length) doc['unsent_changes'] = [...listed, ...adding];
  doc['unsent_count'] = Number(doc['unsent_count'] ?? 0) + count;
}

/** Parsed webhooks a store keeps (a few hundred bytes each). */
const PARSED_KEPT = 4096;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function fromDoc(tenantId: string, webhookId: string, doc: Fields): Webhook {
  return { ...(doc as unknown as Omit<Webhook, 'id' | 'tenant_id'>), tenant_id: tenantId, id: webhookId };
}
