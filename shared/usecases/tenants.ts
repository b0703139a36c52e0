import { createHash, timingSafeEqual } from 'node:crypto';
import { hashApiKey, newApiKey, newTenantId } from '../domain/ids.ts';
import { UnauthorizedError } from '../errors.ts';
import type { Clock, SecretStore } from './ports.ts';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly owner_email: string;
  readonly created_at: string;
}

/** Port: where tenants and their key hashes live. */
export interface TenantDirectory {
  get(tenantId: string): Promise<Tenant | undefined>;
  createIfAbsent(tenant: Tenant): Promise<boolean>;
  putKey(keyHash: string, tenantId: string): Promise<void>;
  tenantIdForKey(keyHash: string): Promise<string | undefined>;
}

const KEY_CACHE_MS = 30_000;

/** Resolves a tenant API key to its tenant; keys are looked up by their SHA-256, never stored. */
export class TenantAuthenticator {
  private readonly tenants: TenantDirectory;
  private readonly cache = new Map<string, { tenantId: string; until: number }>();
  constructor(tenants: TenantDirectory) {
    this.tenants = tenants;
  }

  async authenticate(key: string): Promise<string> {
    const hash = hashApiKey(key);
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) return cached.tenantId;
    const tenantId = await this.tenants.tenantIdForKey(hash);
    if (!tenantId) throw new UnauthorizedError();
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { tenantId, until: Date.now() + KEY_CACHE_MS });
    return tenantId;
  }
}

/** Checks the admin key against the one in the secret store, in constant time. */
export class AdminAuthenticator {
  private readonly secrets: SecretStore;
  private readonly secretName: string;
  private expected: { digest: Buffer; until: number } | undefined;
  constructor(secrets: SecretStore, secretName: string) {
    this.secrets = secrets;
    this.secretName = secretName;
  }

  async authenticate(key: string): Promise<void> {
    if (!this.expected || this.expected.until < Date.now()) {
      const value = await this.secrets.get(this.secretName);
      if (!value) throw new UnauthorizedError('The admin API is not configured');
      this.expected = { digest: sha256(value), until: Date.now() + KEY_CACHE_MS };
    }
    if (!timingSafeEqual(sha256(key), this.expected.digest)) throw new UnauthorizedError();
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Admin use case: a new tenant with its first API key (returned once). */
export class CreateTenant {
  private readonly tenants: TenantDirectory;
  private readonly clock: Clock;
  constructor(tenants: TenantDirectory, clock: Clock) {
    this.tenants = tenants;
    this.clock = clock;
  }

  async execute(input: { name: string; owner_email: string }, fixed?: { id?: string; apiKey?: string }) {
    const tenant: Tenant = {
      id: fixed?.id ?? newTenantId(),
      name: input.name,
      owner_email: input.owner_email,
      created_at: this.clock().toISOString(),
    };
    await this.tenants.createIfAbsent(tenant);
    const apiKey = fixed?.apiKey ?? newApiKey();
    await this.tenants.putKey(hashApiKey(apiKey), tenant.id);
    return { tenant_id: tenant.id, api_key: apiKey };
  }
}
