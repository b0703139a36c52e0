import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';
import type { SecretReader } from './ports.ts';

/**
 * Every per-webhook secret is named under one prefix, the only one the dispatcher may read, and
 * by tenant and webhook: a webhook id alone (which a forged or mistaken row could carry) never
 * finds another tenant's credentials.
 */
export const credentialsSecretName = (prefix: string, tenantId: string, webhookId: string): string =>
  `${prefix}webhooks/${tenantId}/${webhookId}`;

const NO_CREDENTIALS: WebhookCredentials = { signing_secrets: [], auth: { type: 'none' } };

export class CredentialsNotFoundError extends Error {
  override name = 'CredentialsNotFoundError';
}

/** Stored credentials that name another tenant or webhook than the one asking: never used. */
export class CredentialsMismatchError extends Error {
  override name = 'CredentialsMismatchError';
}

/**
 * The secret's value: the credentials with the owner they belong to, checked again on every read
 * so that a secret copied or renamed under another webhook cannot sign for it.
 */
export function sealCredentials(tenantId: string, webhookId: string, credentials: WebhookCredentials): string {
  return JSON.stringify({ ...credentials, tenant_id: tenantId, webhook_id: webhookId });
}

export function openCredentials(tenantId: string, webhookId: string, raw: string): WebhookCredentials {
  const { tenant_id, webhook_id, ...credentials } = JSON.parse(raw) as WebhookCredentials & { tenant_id?: string; webhook_id?: string };
  if (tenant_id !== tenantId || webhook_id !== webhookId) {
    throw new CredentialsMismatchError(`the credentials stored for webhook ${webhookId} belong to another webhook`);
  }
  return credentials;
}

/**
 * A webhook's credentials, kept in memory for a while: a Secrets Manager read per delivery would
 * cost more than the delivery. The cache key carries the webhook's `credentials_version`, so a
 * change made through the API is seen at once by the next delivery that loads the webhook.
 */
export class CredentialsCache {
  private readonly secrets: SecretReader;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, { value: Promise<WebhookCredentials>; until: number }>();
  constructor(secrets: SecretReader, prefix: string, ttlMs = 5 * 60_000) {
    this.secrets = secrets;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  get(webhook: Pick<Webhook, 'tenant_id' | 'id' | 'credentials_version'>): Promise<WebhookCredentials> {
    const key = `${webhook.tenant_id}/${webhook.id}@${webhook.credentials_version}`;
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    // Cache the promise: concurrent deliveries to one webhook share one read.
    const value = this.load(webhook.tenant_id, webhook.id);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 50_000) this.entries.clear();
    return value;
  }

  private async load(tenantId: string, webhookId: string): Promise<WebhookCredentials> {
    const raw = await this.secrets.get(credentialsSecretName(this.prefix, tenantId, webhookId));
    if (raw === undefined) throw new CredentialsNotFoundError(`no credentials stored for webhook ${webhookId}`);
    return raw ? openCredentials(tenantId, webhookId, raw) : NO_CREDENTIALS;
  }
}
