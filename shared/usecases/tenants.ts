import { createHash, timingSafeEqual } from 'node:crypto';
import { hashApiKey, newTenantId, PORTAL_TOKEN_PREFIX } from '../domain/ids.ts';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import type { ApiKeys } from './api-keys.ts';
import type { Clock, SecretReader } from './ports.ts';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly owner_email: string;
  readonly created_at: string;
}

/** One API key of a tenant as stored: never the key, only its SHA-256 and first characters. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly hash: string;
  readonly prefix: string;
  readonly created_at: string;
  /** The one-machine runtime's `HOOKLINE_API_KEY` (or the key it generated): replaced on change. */
  readonly bootstrap?: boolean;
}

/** Port: resolves a key hash to its tenant (the one read an authentication may cost). */
export interface KeyLookup {
  tenantIdForKey(keyHash: string): Promise<string | undefined>;
}

/** Port: where tenants and their keys live. */
export interface TenantDirectory extends KeyLookup {
  get(tenantId: string): Promise<Tenant | undefined>;
  createIfAbsent(tenant: Tenant): Promise<boolean>;
  listKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /**
   * Lists the key under the tenant, then makes it work. `full`: the tenant has `maxKeys` already;
   * `taken`: the same key belongs to another tenant (only a key chosen by the caller can).
   */
  addKey(tenantId: string, key: ApiKeyRecord, maxKeys: number): Promise<'added' | 'full' | 'taken'>;
  /** Makes the key stop working (if it is the tenant's), then unlists it (when `keyId` is given). */
  revokeKey(tenantId: string, keyHash: string, keyId?: string): Promise<void>;
}

/** Port: how many failed authentications a client address may still make. */
export interface AuthFailureLimit {
  /** Whole seconds the client must wait before another unknown key is checked, or undefined. */
  waitSeconds(client: string): number | undefined;
  recordFailure(client: string): void;
}

/** What a portal session allows (see usecases/portal-sessions.ts). */
export interface PortalScope {
  readonly sessionId: string;
  readonly readOnly: boolean;
  /** When set, the only webhooks the session sees. */
  readonly webhookIds?: readonly string[];
}

/** Who a tenant credential acts as: the tenant, and for a portal token its session's scope. */
export interface TenantCaller {
  readonly tenantId: string;
  readonly portal?: PortalScope;
}

/** Bearer credentials with this prefix are portal session tokens, not API keys. */
export { PORTAL_TOKEN_PREFIX };

/** Port: checks a portal session token; throws UnauthorizedError when forged, expired or revoked. */
export interface PortalTokenCheck {
  verify(token: string): Promise<TenantCaller>;
}

/** Failed authentications a client address may make a minute before it gets 429. */
export const FAILED_AUTHS_PER_MINUTE = 20;

/**
 * How long a key found in the table is trusted without reading it again. On AWS this bounds how
 * long a revoked key keeps working in a warm container; on one machine revocation is immediate.
 */
export const KEY_CACHE_MS = 30_000;
/** How long a key that was not found costs no table read. */
const BAD_KEY_CACHE_MS = 60_000;
/** How long a key once found counts as known (read again, not rate limited, when stale). */
const KNOWN_KEY_MS = 3_600_000;
const CACHE_ENTRIES = 10_000;

/** A Map with a size bound (least recently set goes first) and a deadline per entry. */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, until: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * Resolves a tenant API key to its tenant; keys are looked up by their SHA-256, never stored.
 * A key not found is remembered for a minute, so repeating it costs no table read; a client
 * address with too many failures gets 429 for any key not known to be good, before any read.
 */
export class TenantAuthenticator {
  private readonly keys: KeyLookup;
  private readonly failures: AuthFailureLimit | undefined;
  private readonly now: () => number;
  private readonly good = new ExpiringCache<{ tenantId: string; freshUntil: number }>(CACHE_ENTRIES);
  private readonly bad = new ExpiringCache<true>(CACHE_ENTRIES);
  /** Lookups in flight: the same key sent many times at once still costs one read. */
  private readonly pending = new Map<string, Promise<string | undefined>>();
  /** Counts revocations: a read that a revocation overtook is not cached. */
  private revocations = 0;
  private portal: PortalTokenCheck | undefined;
  constructor(keys: KeyLookup, failures?: AuthFailureLimit, now: () => number = Date.now) {
    this.keys = keys;
    this.failures = failures;
    this.now = now;
  }

  async authenticate(key: string, client?: string): Promise<string> {
    // A portal token where only API keys act (publishing): refused as what it is, not counted
    // as a wrong key, and never looked up.
    if (key.startsWith(PORTAL_TOKEN_PREFIX)) throw new ForbiddenError('A portal session token acts on the webhooks API only; publish with an API key of the tenant');
    const hash = hashApiKey(key);
    const now = this.now();
    const known = this.good.get(hash, now);
    if (known && known.freshUntil > now) return known.tenantId;
    if (!known && client !== undefined) {
      const wait = this.failures?.waitSeconds(client);
      if (wait !== undefined) throw new RateLimitedError(wait);
    }
    if (this.bad.get(hash, now)) return this.refuse(client);
    const tenantId = await this.lookup(hash);
    if (!tenantId) return this.refuse(client);
    return tenantId;
  }

  private lookup(hash: string): Promise<string | undefined> {
    const inFlight = this.pending.get(hash);
    if (inFlight) return inFlight;
    const revocations = this.revocations;
    const read = this.keys.tenantIdForKey(hash).then((tenantId) => {
      if (!tenantId) {
        this.good.delete(hash);
        this.bad.set(hash, true, this.now() + BAD_KEY_CACHE_MS);
      } else if (revocations === this.revocations) {
        this.remember(hash, tenantId);
      }
      return tenantId;
    });
    this.pending.set(hash, read);
    const settled = () => {
      if (this.pending.get(hash) === read) this.pending.delete(hash);
    };
    read.then(settled, settled);
    return read;
  }

  /**
   * Lets `authenticateCaller` accept portal tokens (the webhooks API does; ingest, which calls
   * `authenticate`, never does).
   */
  acceptPortalTokens(check: PortalTokenCheck): void {
    this.portal = check;
  }

  /**
   * An API key, or a portal token once accepted. A valid token is never rate limited (its check
   * costs no read unless it is well signed); a refused one counts as a failed authentication.
   */
  async authenticateCaller(key: string, client?: string): Promise<TenantCaller> {
    if (!this.portal || !key.startsWith(PORTAL_TOKEN_PREFIX)) return { tenantId: await this.authenticate(key, client) };
    try {
      return await this.portal.verify(key);
    } catch (err) {
      if (err instanceof UnauthorizedError && client !== undefined && this.failures) {
        const wait = this.failures.waitSeconds(client);
        if (wait !== undefined) throw new RateLimitedError(wait);
        this.failures.recordFailure(client);
      }
      throw err;
    }
  }

  /** A key just created: it works at once, even from an address that is being rate limited. */
  remember(keyHash: string, tenantId: string): void {
    const now = this.now();
    this.bad.delete(keyHash);
    this.good.set(keyHash, { tenantId, freshUntil: now + KEY_CACHE_MS }, now + KNOWN_KEY_MS);
  }

  /** A key just revoked: the next use reads the table (and finds nothing). */
  forget(keyHash: string): void {
    this.revocations++;
    this.good.delete(keyHash);
    this.pending.delete(keyHash);
  }

  private refuse(client: string | undefined): never {
    if (client !== undefined) this.failures?.recordFailure(client);
    throw new UnauthorizedError();
  }
}

/** Checks the admin key against the one in the secret store, in constant time. */
export class AdminAuthenticator {
  private readonly secrets: SecretReader;
  private readonly secretName: string;
  private readonly failures: AuthFailureLimit | undefined;
  private expected: { digest: Buffer; until: number } | undefined;
  constructor(secrets: SecretReader, secretName: string, failures?: AuthFailureLimit) {
    this.secrets = secrets;
    this.secretName = secretName;
    this.failures = failures;
  }

  async authenticate(key: string, client?: string): Promise<void> {
    if (!this.expected || this.expected.until < Date.now()) {
      const value = await this.secrets.get(this.secretName);
      if (!value) throw new UnauthorizedError('The admin API is not configured');
      this.expected = { digest: sha256(value), until: Date.now() + KEY_CACHE_MS };
    }
    if (timingSafeEqual(sha256(key), this.expected.digest)) return;
    if (client !== undefined && this.failures) {
      const wait = this.failures.waitSeconds(client);
      if (wait !== undefined) throw new RateLimitedError(wait);
      this.failures.recordFailure(client);
    }
    throw new UnauthorizedError();
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Admin use case: a new tenant with its first API key (returned once). */
/** What the two use cases that make a tenant need. */
interface TenantSetupDeps {
  readonly tenants: TenantDirectory;
  readonly keys: ApiKeys;
  readonly clock: Clock;
}

export class CreateTenant {
  private readonly deps: TenantSetupDeps;
  constructor(deps: TenantSetupDeps) {
    this.deps = deps;
  }

  async execute(input: { name: string; owner_email: string }) {
    const { tenants, keys, clock } = this.deps;
    const tenant: Tenant = { id: newTenantId(), name: input.name, owner_email: input.owner_email, created_at: clock().toISOString() };
    await tenants.createIfAbsent(tenant);
    const { api_key } = await keys.issue(tenant.id);
    return { tenant_id: tenant.id, api_key };
  }
}

/**
 * The one-machine runtime's tenant `default` and its key (`HOOKLINE_API_KEY` or generated). A
 * new key replaces the previous bootstrap key, which stops working; keys an admin created stay.
 * `superseded`: keys known to have been the bootstrap key before keys were listed.
 */
/** Port: the one-machine runtime's setting of its bootstrap tenant's owner address. */
export interface TenantOwnerSetting {
  /** Sets the tenant's `owner_email` (nothing when there is no such tenant). */
  setOwnerEmail(tenantId: string, ownerEmail: string): Promise<void>;
}

/**
 * The one-machine runtime's tenant `default`, as its settings say at each start: its owner
 * address (`HOOKLINE_OWNER_EMAIL`, which nothing else changes) and its key (`HOOKLINE_API_KEY`,
 * a new one revoking the one before).
 */
export class BootstrapTenant {
  private readonly deps: TenantSetupDeps & { readonly owners: TenantOwnerSetting };
  constructor(deps: BootstrapTenant['deps']) {
    this.deps = deps;
  }

  async execute(tenant: { id: string; name: string; owner_email: string }, apiKey: string, superseded: readonly string[] = []): Promise<void> {
    const { tenants, owners, keys, clock } = this.deps;
    const created = await tenants.createIfAbsent({ ...tenant, created_at: clock().toISOString() });
    // Webhooks keep the address they were given (each is its own owner's); new ones default to this.
    if (!created && (await tenants.get(tenant.id))?.owner_email !== tenant.owner_email) await owners.setOwnerEmail(tenant.id, tenant.owner_email);
    const hash = hashApiKey(apiKey);
    const listed = await tenants.listKeys(tenant.id);
    // Revoke first: the new key must find room under the tenant's key limit.
    for (const old of listed) if (old.bootstrap && old.hash !== hash) await keys.revokeRecord(tenant.id, old);
    for (const old of superseded) if (hashApiKey(old) !== hash) await keys.revokeUnlisted(tenant.id, hashApiKey(old));
    if (!listed.some((k) => k.hash === hash)) await keys.issue(tenant.id, { key: apiKey, bootstrap: true });
    else keys.remember(tenant.id, apiKey);
  }
}
