import { hashApiKey, newApiKey, ulid } from '../domain/ids.ts';
import { HooklineError, NotFoundError } from '../errors.ts';
import type { Clock } from './ports.ts';
import type { ApiKeyRecord, TenantDirectory } from './tenants.ts';

/** Port: the authenticator's cache of keys, told at once about keys created and revoked. */
export interface KeyCache {
  remember(keyHash: string, tenantId: string): void;
  forget(keyHash: string): void;
}

/** Enough for a rotation (old and new) and a few integrations, not a key per request. */
export const MAX_KEYS_PER_TENANT = 10;

/** What the admin API shows of a key: never the key, nor its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly created_at: string;
  readonly prefix: string;
}

const newKeyId = (): string => `key_${ulid()}`;
const isKeyId = (id: string): boolean => /^key_[0-9A-Z]{26}$/.test(id);
/** Tenant ids are `ten_<ULID>`, or `default` on one machine; nothing longer can exist. */
export const isTenantId = (id: string): boolean => /^[A-Za-z0-9_-]{1,64}$/.test(id);

/**
 * A few characters to tell keys apart in a list: at most a quarter of the key, so that even a
 * short key chosen by hand (HOOKLINE_API_KEY) keeps most of it unknown.
 */
const prefixOf = (key: string): string => key.slice(0, Math.min(7, Math.floor(key.length / 4)));

/** Admin use cases: list, create and revoke a tenant's API keys. Keys are shown once, stored hashed. */
export class ApiKeys {
  private readonly tenants: TenantDirectory;
  private readonly cache: KeyCache;
  private readonly clock: Clock;
  constructor(deps: { tenants: TenantDirectory; cache: KeyCache; clock: Clock }) {
    this.tenants = deps.tenants;
    this.cache = deps.cache;
    this.clock = deps.clock;
  }

  async list(tenantId: string): Promise<ApiKeyView[]> {
    await this.requireTenant(tenantId);
    const keys = await this.tenants.listKeys(tenantId);
    return keys
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
      .map((k) => ({ id: k.id, created_at: k.created_at, prefix: k.prefix }));
  }

  /** A new key for an existing tenant; the key is returned this once. */
  async create(tenantId: string): Promise<{ id: string; api_key: string }> {
    await this.requireTenant(tenantId);
    return this.issue(tenantId);
  }

  /**
   * A new key (or `key` itself, for the bootstrap key) for a tenant the caller just created (no
   * read of it, which on AWS could still miss it); returned this once.
   */
  async issue(tenantId: string, options: { key?: string; bootstrap?: boolean } = {}): Promise<{ id: string; api_key: string }> {
    const apiKey = options.key ?? newApiKey();
    const record: ApiKeyRecord = {
      id: newKeyId(),
      hash: hashApiKey(apiKey),
      prefix: prefixOf(apiKey),
      created_at: this.clock().toISOString(),
      ...(options.bootstrap ? { bootstrap: true } : {}),
    };
    const outcome = await this.tenants.addKey(tenantId, record, MAX_KEYS_PER_TENANT);
    if (outcome === 'full') throw new HooklineError(409, `A tenant may have at most ${MAX_KEYS_PER_TENANT} API keys; revoke one first`);
    if (outcome === 'taken') throw new HooklineError(409, 'This API key already belongs to another tenant');
    this.cache.remember(record.hash, tenantId);
    return { id: record.id, api_key: apiKey };
  }

  /** A key known to be the tenant's (the bootstrap key at start): served at once, even from a limited address. */
  remember(tenantId: string, apiKey: string): void {
    this.cache.remember(hashApiKey(apiKey), tenantId);
  }

  /** The key gets 401 from now on (on AWS, other warm containers may accept it for KEY_CACHE_MS more). */
  async revoke(tenantId: string, keyId: string): Promise<void> {
    await this.requireTenant(tenantId);
    const key = isKeyId(keyId) ? (await this.tenants.listKeys(tenantId)).find((k) => k.id === keyId) : undefined;
    if (!key) throw new NotFoundError('The tenant has no such API key');
    await this.revokeRecord(tenantId, key);
  }

  async revokeRecord(tenantId: string, key: ApiKeyRecord): Promise<void> {
    await this.tenants.revokeKey(tenantId, key.hash, key.id);
    this.cache.forget(key.hash);
  }

  /** A key stored before keys were listed: known only by its hash. */
  async revokeUnlisted(tenantId: string, keyHash: string): Promise<void> {
    await this.tenants.revokeKey(tenantId, keyHash);
    this.cache.forget(keyHash);
  }

  private async requireTenant(tenantId: string): Promise<void> {
    if (!isTenantId(tenantId) || !(await this.tenants.get(tenantId))) throw new NotFoundError('No such tenant');
  }
}
