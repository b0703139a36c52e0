import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';
import type { SecretStore } from './ports.ts';

/** Every per-webhook secret is named under one prefix, the only one the dispatcher may read. */
export const credentialsSecretName = (prefix: string, webhookId: string): string => `${prefix}webhooks/${webhookId}`;

const NO_CREDENTIALS: WebhookCredentials = { signing_secrets: [], auth: { type: 'none' } };

export class CredentialsNotFoundError extends Error {
  override name = 'CredentialsNotFoundError';
}

/**
 * A webhook's credentials, kept in memory for a while: a Secrets Manager read per delivery would
 * cost more than the delivery. The cache key carries the webhook's `credentials_version`, so a
 * change made through the API is seen at once by the next delivery that loads the webhook.
 */
export class CredentialsCache {
  private readonly secrets: SecretStore;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, { value: Promise<WebhookCredentials>; until: number }>();
  constructor(secrets: SecretStore, prefix: string, ttlMs = 5 * 60_000) {
    this.secrets = secrets;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  get(webhook: Pick<Webhook, 'id' | 'credentials_version'>): Promise<WebhookCredentials> {
    const key = `${webhook.id}@${webhook.credentials_version}`;
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    // Cache the promise: concurrent deliveries to one webhook share one read.
    const value = this.load(webhook.id);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 50_000) this.entries.clear();
    return value;
  }

  private async load(webhookId: string): Promise<WebhookCredentials> {
    const raw = await this.secrets.get(credentialsSecretName(this.prefix, webhookId));
    if (raw === undefined) throw new CredentialsNotFoundError(`no credentials stored for webhook ${webhookId}`);
    return raw ? (JSON.parse(raw) as WebhookCredentials) : NO_CREDENTIALS;
  }
}
