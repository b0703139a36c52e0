import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';
import { systemClock, type Clock, type SecretReader } from './ports.ts';

/**
 * All of a tenant's webhook credentials are one secret: a secret costs $0.40 a month, so the
 * bill grows with tenants, not webhooks. It is named under one prefix, the only one the
 * dispatcher may read, and by tenant: a webhook id alone (which a forged or mistaken row could
 * carry) never finds another tenant's credentials.
 */
export const credentialsSecretName = (prefix: string, tenantId: string): string => `${prefix}tenants/${tenantId}`;

/**
 * How large a tenant's secret may grow: Secrets Manager takes 65,536 bytes, and the rest is a
 * margin. 100 webhooks (the default limit) with generated secrets take about 24 KB; with two
 * rotated secrets still in their grace period and a 64-character bearer token each, about 55 KB.
 * Long tokens, OAuth2 client secrets or URLs with credentials reach it with fewer webhooks.
 */
export const MAX_CREDENTIALS_SECRET_BYTES = 60 * 1024;

/**
 * One webhook's entry in its tenant's secret: its credentials with the owner they belong to,
 * checked again on every read so that an entry copied under another webhook or tenant cannot
 * sign for it, and the webhook's `credentials_version` they were written for (see CredentialsCache).
 */
export type SealedCredentials = WebhookCredentials & {
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly credentials_version: number;
};

/** The value of a tenant's secret: webhook id -> that webhook's sealed credentials. */
export type TenantCredentials = Readonly<Record<string, SealedCredentials>>;

export class CredentialsNotFoundError extends Error {
  override name = 'CredentialsNotFoundError';
}

/** Stored credentials that name another tenant or webhook than the one asking: never used. */
export class CredentialsMismatchError extends Error {
  override name = 'CredentialsMismatchError';
}

export function sealCredentials(tenantId: string, webhookId: string, version: number, credentials: WebhookCredentials): SealedCredentials {
  return { ...credentials, tenant_id: tenantId, webhook_id: webhookId, credentials_version: version };
}

export function openCredentials(tenantId: string, webhookId: string, sealed: SealedCredentials): WebhookCredentials {
  const { tenant_id, webhook_id, credentials_version: _version, ...credentials } = sealed;
  if (tenant_id !== tenantId || webhook_id !== webhookId) {
    throw new CredentialsMismatchError(`the credentials stored for webhook ${webhookId} belong to another webhook`);
  }
  return credentials;
}

/** A tenant's secret as stored (undefined: no secret yet, an empty map). */
export function parseTenantCredentials(raw: string | undefined): TenantCredentials {
  if (raw === undefined || raw === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('a tenant credentials secret is not a JSON object');
  return parsed as TenantCredentials;
}

/** How long a container keeps a tenant's secret: at most one read per tenant an hour when nothing changes. */
export const CREDENTIALS_CACHE_MS = 3_600_000;

/** One read of a tenant's secret; `seq` orders the reads a cache made. */
interface Load {
  readonly seq: number;
  readonly secret: Promise<TenantCredentials>;
  readonly until: number;
}

/**
 * Each tenant's secret, kept in memory for up to an hour: a Secrets Manager read per delivery
 * would cost more than the delivery. Every entry carries the `credentials_version` it was written
 * for, and the API writes the secret before it bumps the webhook row's version: a cached entry
 * older than the row asking (or none at all) is read again at once, so a change made through the
 * API is seen by the next delivery that loads the webhook. Concurrent reads of a tenant share one call.
 */
export class CredentialsCache {
  private readonly secrets: SecretReader;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly loads = new Map<string, Load>();
  private seq = 0;
  constructor(secrets: SecretReader, prefix: string, options: { readonly clock?: Clock; readonly ttlMs?: number } = {}) {
    this.secrets = secrets;
    this.prefix = prefix;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs ?? CREDENTIALS_CACHE_MS;
  }

  async get(webhook: Pick<Webhook, 'tenant_id' | 'id' | 'credentials_version'>): Promise<WebhookCredentials> {
    const tenantId = webhook.tenant_id;
    // A read numbered above this one started after the caller read its webhook row.
    const asked = this.seq;
    let load = this.usable(tenantId) ?? this.load(tenantId);
    for (;;) {
      const entry = (await load.secret)[webhook.id];
      if (entry && entry.credentials_version >= webhook.credentials_version) return openCredentials(tenantId, webhook.id, entry);
      if (load.seq > asked) {
        // Read after the row: this is what the store holds. An entry behind the row (a store
        // that has not caught up yet) is the best there is, and the next delivery reads again.
        if (!entry) throw new CredentialsNotFoundError(`no credentials stored for webhook ${webhook.id}`);
        return openCredentials(tenantId, webhook.id, entry);
      }
      // Older than the row: join a read that started since, or start one.
      const latest = this.usable(tenantId);
      load = latest && latest.seq > asked ? latest : this.load(tenantId);
    }
  }

  private usable(tenantId: string): Load | undefined {
    const load = this.loads.get(tenantId);
    return load && load.until > this.clock().getTime() ? load : undefined;
  }

  private load(tenantId: string): Load {
    const secret = this.secrets.get(credentialsSecretName(this.prefix, tenantId)).then(parseTenantCredentials);
    const load: Load = { seq: ++this.seq, secret, until: this.clock().getTime() + this.ttlMs };
    if (this.loads.size >= 10_000) this.loads.clear();
    this.loads.set(tenantId, load);
    // A failed read is not kept: the next caller tries again.
    secret.catch(() => {
      if (this.loads.get(tenantId) === load) this.loads.delete(tenantId);
    });
    return load;
  }
}
