import type { RateLimit } from '../../domain/rate-limits.ts';
import type { WebhookQuota } from '../../usecases/manage-webhooks.ts';
import type { TenantOwners } from '../../usecases/owner-email.ts';
import type { TenantRateLimits } from '../../usecases/rate-limits.ts';
import type { ApiKeyRecord, Tenant, TenantDirectory, TenantOwnerSetting } from '../../usecases/tenants.ts';
import { SqliteTable } from './sqlite-table.ts';

/**
 * Tenants, their API key listings (`tenant_keys`, in the order added) and the key hashes
 * authentication looks up (`api_keys`): DynamoTenantStore's items, a table each. What DynamoDB
 * does with conditional writes one after the other (list the key, then make it work) is one
 * transaction here, so there is no in-between state to undo.
 */
export class SqliteTenantStore extends SqliteTable implements TenantDirectory, WebhookQuota, TenantOwners, TenantOwnerSetting, TenantRateLimits {
  async get(tenantId: string): Promise<Tenant | undefined> {
    const row = this.run('read tenants table', () => this.statement('SELECT doc FROM tenants WHERE tenant_id = ?').get(tenantId));
    return row ? (JSON.parse(row['doc'] as string) as Tenant) : undefined;
  }

  /** Stores the tenant unless it exists; true when it was created. */
  async createIfAbsent(tenant: Tenant): Promise<boolean> {
    const { changes } = this.run('create tenant', () =>
      this.statement('INSERT INTO tenants (tenant_id, doc) VALUES (?, ?) ON CONFLICT DO NOTHING').run(tenant.id, JSON.stringify(tenant)),
    );
    return Number(changes) === 1;
  }

  async setOwnerEmail(tenantId: string, ownerEmail: string): Promise<void> {
    this.run('set the owner address', () => this.statement("UPDATE tenants SET doc = json_set(doc, '$.owner_email', ?) WHERE tenant_id = ?").run(ownerEmail, tenantId));
  }

  /** The tenant's webhook counter: a conditional increment, so concurrent creates cannot overshoot. */
  async reserve(tenantId: string, max: number): Promise<boolean> {
    const { changes } = this.run('reserve a webhook slot', () =>
      this.statement('UPDATE tenants SET webhook_count = webhook_count + 1 WHERE tenant_id = ? AND webhook_count < ?').run(tenantId, max),
    );
    return Number(changes) === 1;
  }

  async release(tenantId: string): Promise<void> {
    this.run('release a webhook slot', () =>
      this.statement('UPDATE tenants SET webhook_count = webhook_count - 1 WHERE tenant_id = ? AND webhook_count > 0').run(tenantId),
    );
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const rows = this.run('read tenants table', () => this.statement('SELECT key_id, doc FROM tenant_keys WHERE tenant_id = ? ORDER BY rowid').all(tenantId));
    return rows.map((row) => ({ ...(JSON.parse(row['doc'] as string) as Omit<ApiKeyRecord, 'id'>), id: row['key_id'] as string }));
  }

  async addKey(tenantId: string, key: ApiKeyRecord, maxKeys: number): Promise<'added' | 'full' | 'taken'> {
    const { id, ...listed } = key;
    return this.run('add API key', () =>
      this.db.transaction(() => {
        const tenant = this.statement(
          'SELECT EXISTS (SELECT 1 FROM tenant_keys WHERE tenant_id = ?1 AND key_id = ?2) AS listed, (SELECT COUNT(*) FROM tenant_keys WHERE tenant_id = ?1) AS keys FROM tenants WHERE tenant_id = ?1',
        ).get(tenantId, id);
        if (!tenant || tenant['listed'] === 1 || Number(tenant['keys']) >= maxKeys) return 'full';
        if (!this.putKeySync(key.hash, tenantId, id)) return 'taken';
        this.statement('INSERT INTO tenant_keys (tenant_id, key_id, doc) VALUES (?, ?, ?)').run(tenantId, id, JSON.stringify(listed));
        return 'added';
      }),
    );
  }

  /** Stops the key working (if it is the tenant's) and unlists it (when `keyId` is given), together. */
  async revokeKey(tenantId: string, keyHash: string, keyId?: string): Promise<void> {
    this.run('revoke API key', () =>
      this.db.transaction(() => {
        this.statement('DELETE FROM api_keys WHERE key_hash = ? AND tenant_id = ?').run(keyHash, tenantId);
        if (keyId !== undefined) this.statement('DELETE FROM tenant_keys WHERE tenant_id = ? AND key_id = ?').run(tenantId, keyId);
      }),
    );
  }

  /**
   * The lookup item authentication reads; false when the same key hash belongs to another tenant.
   * `keyId` names the tenant's listing of it (absent for keys stored before keys were listed).
   */
  async putKey(keyHash: string, tenantId: string, keyId?: string): Promise<boolean> {
    return this.run('store API key', () => this.putKeySync(keyHash, tenantId, keyId));
  }

  private putKeySync(keyHash: string, tenantId: string, keyId: string | undefined): boolean {
    const { changes } = this.statement(
      'INSERT INTO api_keys (key_hash, tenant_id, key_id) VALUES (?, ?, ?) ON CONFLICT (key_hash) DO UPDATE SET key_id = excluded.key_id WHERE api_keys.tenant_id = excluded.tenant_id',
    ).run(keyHash, tenantId, keyId ?? null);
    return Number(changes) === 1;
  }

  async tenantIdForKey(keyHash: string): Promise<string | undefined> {
    const row = this.run('read tenants table', () => this.statement('SELECT tenant_id FROM api_keys WHERE key_hash = ?').get(keyHash));
    return row ? (row['tenant_id'] as string) : undefined;
  }

  async rateLimitOf(tenantId: string): Promise<{ limit?: RateLimit } | undefined> {
    const row = this.run('read tenants table', () => this.statement('SELECT rate_limit FROM tenants WHERE tenant_id = ?').get(tenantId));
    if (!row) return undefined;
    if (row['rate_limit'] === null) return {};
    const stored = JSON.parse(row['rate_limit'] as string) as { requests_per_second: number; burst: number };
    return { limit: { requestsPerSecond: stored.requests_per_second, burst: stored.burst } };
  }

  async setRateLimit(tenantId: string, limit: RateLimit): Promise<boolean> {
    const stored = JSON.stringify({ requests_per_second: limit.requestsPerSecond, burst: limit.burst });
    const { changes } = this.run('set the rate limit', () => this.statement('UPDATE tenants SET rate_limit = ? WHERE tenant_id = ?').run(stored, tenantId));
    return Number(changes) === 1;
  }
}
