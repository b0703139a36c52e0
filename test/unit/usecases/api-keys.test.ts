/**
 * Issue 8, keys: a wrong key costs at most one table read a minute, an address that keeps
 * failing gets 429 before any read (a key known to be good still passes), and a revoked key is
 * refused at once by the authenticator that shares its cache. In-memory fakes, no network.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { AuthFailureBuckets } from '../../../shared/adapters/local/token-bucket.ts';
import { hashApiKey } from '../../../shared/domain/ids.ts';
import { RateLimitedError, UnauthorizedError } from '../../../shared/errors.ts';
import { apiHandler } from '../../../shared/http/api-handler.ts';
import { ApiKeys, MAX_KEYS_PER_TENANT } from '../../../shared/usecases/api-keys.ts';
import { BootstrapTenant, FAILED_AUTHS_PER_MINUTE, TenantAuthenticator, type ApiKeyRecord, type Tenant, type TenantDirectory, type TenantOwnerSetting } from '../../../shared/usecases/tenants.ts';
import { rejection } from '../../support/rejection.ts';
import { FakeClock } from './fakes.ts';

/** Tenants and keys in memory, with the adapter's semantics; counts the key lookups. */
class MemoryTenantDirectory implements TenantDirectory, TenantOwnerSetting {
  readonly tenants = new Map<string, Tenant>();
  readonly listed = new Map<string, Map<string, ApiKeyRecord>>();
  readonly lookup = new Map<string, string>();
  lookups = 0;

  async get(id: string) {
    return this.tenants.get(id);
  }
  async setOwnerEmail(id: string, ownerEmail: string) {
    const tenant = this.tenants.get(id);
    if (tenant) this.tenants.set(id, { ...tenant, owner_email: ownerEmail });
  }
  async createIfAbsent(tenant: Tenant) {
    if (this.tenants.has(tenant.id)) return false;
    this.tenants.set(tenant.id, tenant);
    this.listed.set(tenant.id, new Map());
    return true;
  }
  async listKeys(tenantId: string) {
    return [...(this.listed.get(tenantId)?.values() ?? [])];
  }
  async addKey(tenantId: string, key: ApiKeyRecord, maxKeys: number) {
    const keys = this.listed.get(tenantId);
    if (!keys || keys.size >= maxKeys) return 'full' as const;
    const owner = this.lookup.get(key.hash);
    if (owner !== undefined && owner !== tenantId) return 'taken' as const;
    keys.set(key.id, key);
    this.lookup.set(key.hash, tenantId);
    return 'added' as const;
  }
  async revokeKey(tenantId: string, keyHash: string, keyId?: string) {
    if (this.lookup.get(keyHash) === tenantId) this.lookup.delete(keyHash);
    if (keyId !== undefined) this.listed.get(tenantId)?.delete(keyId);
  }
  async tenantIdForKey(keyHash: string) {
    this.lookups++;
    return this.lookup.get(keyHash);
  }
}

const CLIENT = '203.0.113.7';

function setup() {
  const clock = new FakeClock();
  const directory = new MemoryTenantDirectory();
  const now = () => clock.now.getTime();
  const auth = new TenantAuthenticator(directory, new AuthFailureBuckets(FAILED_AUTHS_PER_MINUTE, now), now);
  const keys = new ApiKeys({ tenants: directory, cache: auth, clock: clock.clock });
  return { clock, directory, auth, keys };
}

async function tenantWithKey(s: ReturnType<typeof setup>, id = 'ten_A') {
  await s.directory.createIfAbsent({ id, name: id, owner_email: `${id}@example.com`, created_at: s.clock.now.toISOString() });
  return (await s.keys.create(id)).api_key;
}

describe('TenantAuthenticator: wrong keys', () => {
  it('the same wrong key, 50 times: one table read, 401 each time', async () => {
    const s = setup();
    for (let i = 0; i < 50; i++) expect(await rejection(s.auth.authenticate('hk_wrong'))).toBeInstanceOf(UnauthorizedError);
    expect(s.directory.lookups).toBe(1);
  });

  it('the same wrong key 50 times at once: one table read', async () => {
    const s = setup();
    const errors = await Promise.all(Array.from({ length: 50 }, () => rejection(s.auth.authenticate('hk_wrong'))));
    for (const e of errors) expect(e).toBeInstanceOf(UnauthorizedError);
    expect(s.directory.lookups).toBe(1);
  });

  it('a wrong key is read again after a minute (a bounded memory, not a permanent ban)', async () => {
    const s = setup();
    await rejection(s.auth.authenticate('hk_wrong'));
    s.clock.advance(61_000);
    await rejection(s.auth.authenticate('hk_wrong'));
    expect(s.directory.lookups).toBe(2);
  });

  it('the negative cache is bounded: 10 001 distinct wrong keys push the first one out', async () => {
    const s = setup();
    for (let i = 0; i <= 10_000; i++) await rejection(s.auth.authenticate(`hk_wrong_${i}`));
    expect(s.directory.lookups).toBe(10_001);
    await rejection(s.auth.authenticate('hk_wrong_0'));
    expect(s.directory.lookups).toBe(10_002);
  });

  it(`after ${FAILED_AUTHS_PER_MINUTE} failures a minute from one address: 429 with a wait, and no table read`, async () => {
    const s = setup();
    const good = await tenantWithKey(s);
    for (let i = 0; i < FAILED_AUTHS_PER_MINUTE; i++) expect(await rejection(s.auth.authenticate(`hk_guess_${i}`, CLIENT))).toBeInstanceOf(UnauthorizedError);
    const readsBefore = s.directory.lookups;
    for (let i = 0; i < 100; i++) {
      const error = await rejection(s.auth.authenticate(`hk_more_${i}`, CLIENT));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(s.directory.lookups).toBe(readsBefore);
    // A key known to be good still passes from that address, and other addresses are not limited.
    await expect(s.auth.authenticate(good, CLIENT)).resolves.toBe('ten_A');
    expect(await rejection(s.auth.authenticate('hk_other', '198.51.100.1'))).toBeInstanceOf(UnauthorizedError);
    // A minute later the address may try again (and is read again).
    s.clock.advance(60_000);
    expect(await rejection(s.auth.authenticate('hk_later', CLIENT))).toBeInstanceOf(UnauthorizedError);
    expect(s.directory.lookups).toBe(readsBefore + 2);
  });

  it('a known key whose cache entry went stale is read again, even from a limited address', async () => {
    const s = setup();
    const good = await tenantWithKey(s);
    for (let i = 0; i < FAILED_AUTHS_PER_MINUTE; i++) await rejection(s.auth.authenticate(`hk_guess_${i}`, CLIENT));
    s.clock.advance(31_000);
    const reads = s.directory.lookups;
    await expect(s.auth.authenticate(good, CLIENT)).resolves.toBe('ten_A');
    expect(s.directory.lookups).toBe(reads + 1);
  });
});

describe('AuthFailureBuckets', () => {
  it('counts per address and refills over a minute', () => {
    const clock = new FakeClock();
    const limit = new AuthFailureBuckets(3, () => clock.now.getTime());
    for (let i = 0; i < 3; i++) {
      expect(limit.waitSeconds('a')).toBeUndefined();
      limit.recordFailure('a');
    }
    expect(limit.waitSeconds('a')).toBe(20);
    expect(limit.waitSeconds('b')).toBeUndefined();
    clock.advance(20_000);
    expect(limit.waitSeconds('a')).toBeUndefined();
  });
});

describe('ApiKeys: list, create, revoke', () => {
  it('a second key works next to the first; the list shows both, without key material', async () => {
    const s = setup();
    const first = await tenantWithKey(s);
    const second = await s.keys.create('ten_A');
    await expect(s.auth.authenticate(first)).resolves.toBe('ten_A');
    await expect(s.auth.authenticate(second.api_key)).resolves.toBe('ten_A');
    const list = await s.keys.list('ten_A');
    expect(list).toHaveLength(2);
    expect(list.map((k) => k.id)).toContain(second.id);
    for (const k of list) expect(Object.keys(k).sort()).toEqual(['created_at', 'id', 'prefix']);
    const shown = JSON.stringify(list);
    for (const key of [first, second.api_key]) {
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(hashApiKey(key));
    }
  });

  it('a revoked key is refused at once, though it was cached a moment ago; the other still works', async () => {
    const s = setup();
    const first = await tenantWithKey(s);
    const second = await s.keys.create('ten_A');
    await s.auth.authenticate(second.api_key);
    await s.keys.revoke('ten_A', second.id);
    expect(await rejection(s.auth.authenticate(second.api_key))).toBeInstanceOf(UnauthorizedError);
    await expect(s.auth.authenticate(first)).resolves.toBe('ten_A');
    expect((await s.keys.list('ten_A')).map((k) => k.id)).not.toContain(second.id);
  });

  it('unknown tenant or key: 404; another tenant cannot revoke a key by its id', async () => {
    const s = setup();
    await tenantWithKey(s, 'ten_A');
    await tenantWithKey(s, 'ten_B');
    const [keyOfB] = await s.keys.list('ten_B');
    for (const p of [s.keys.list('ten_nobody'), s.keys.create('ten_nobody'), s.keys.revoke('ten_nobody', keyOfB!.id), s.keys.revoke('ten_A', keyOfB!.id), s.keys.revoke('ten_A', 'key_x'), s.keys.list('x'.repeat(5000))]) {
      expect(await rejection(p)).toMatchObject({ statusCode: 404 });
    }
    expect(await s.keys.list('ten_B')).toHaveLength(1);
  });

  it(`a tenant has at most ${MAX_KEYS_PER_TENANT} keys: 409, then room again after a revoke`, async () => {
    const s = setup();
    await tenantWithKey(s);
    for (let i = 1; i < MAX_KEYS_PER_TENANT; i++) await s.keys.create('ten_A');
    expect(await rejection(s.keys.create('ten_A'))).toMatchObject({ statusCode: 409 });
    const [oldest] = await s.keys.list('ten_A');
    await s.keys.revoke('ten_A', oldest!.id);
    await expect(s.keys.create('ten_A')).resolves.toMatchObject({ api_key: expect.stringMatching(/^hk_/) });
  });
});

describe('BootstrapTenant: a new bootstrap key replaces the previous one only', () => {
  it('old bootstrap key 401, new one works, an admin-created key stays', async () => {
    const s = setup();
    const bootstrap = new BootstrapTenant({ tenants: s.directory, owners: s.directory, keys: s.keys, clock: s.clock.clock });
    const tenant = { id: 'default', name: 'default', owner_email: 'owner@localhost' };
    await bootstrap.execute(tenant, 'hk_first_bootstrap_key');
    await bootstrap.execute(tenant, 'hk_first_bootstrap_key');
    expect(await s.keys.list('default')).toHaveLength(1);
    const extra = await s.keys.create('default');
    await bootstrap.execute(tenant, 'hk_second_bootstrap_key');
    expect(await rejection(s.auth.authenticate('hk_first_bootstrap_key'))).toBeInstanceOf(UnauthorizedError);
    await expect(s.auth.authenticate('hk_second_bootstrap_key')).resolves.toBe('default');
    await expect(s.auth.authenticate(extra.api_key)).resolves.toBe('default');
    expect(await s.keys.list('default')).toHaveLength(2);
  });

  it("sets the tenant's owner address as the start's settings say (HOOKLINE_OWNER_EMAIL), its key kept", async () => {
    const s = setup();
    const bootstrap = new BootstrapTenant({ tenants: s.directory, owners: s.directory, keys: s.keys, clock: s.clock.clock });
    await bootstrap.execute({ id: 'default', name: 'default', owner_email: 'first@example.com' }, 'hk_bootstrap_key');
    const created = (await s.directory.get('default'))!;
    await bootstrap.execute({ id: 'default', name: 'default', owner_email: 'second@example.com' }, 'hk_bootstrap_key');
    expect(await s.directory.get('default')).toEqual({ ...created, owner_email: 'second@example.com' });
    await expect(s.auth.authenticate('hk_bootstrap_key')).resolves.toBe('default');
  });

  it('a key stored before keys were listed (known from credentials.json) is revoked too', async () => {
    const s = setup();
    const bootstrap = new BootstrapTenant({ tenants: s.directory, owners: s.directory, keys: s.keys, clock: s.clock.clock });
    await s.directory.createIfAbsent({ id: 'default', name: 'default', owner_email: 'o@localhost', created_at: s.clock.now.toISOString() });
    s.directory.lookup.set(hashApiKey('hk_legacy_generated'), 'default');
    await expect(s.auth.authenticate('hk_legacy_generated')).resolves.toBe('default');
    await bootstrap.execute({ id: 'default', name: 'default', owner_email: 'o@localhost' }, 'hk_from_env', ['hk_legacy_generated']);
    expect(await rejection(s.auth.authenticate('hk_legacy_generated'))).toBeInstanceOf(UnauthorizedError);
    await expect(s.auth.authenticate('hk_from_env')).resolves.toBe('default');
  });
});

describe('the API handler on AWS: failed keys limited by requestContext.http.sourceIp', () => {
  const event = (key: string, sourceIp: string): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'GET /api/v1/event-types',
      rawPath: '/api/v1/event-types',
      rawQueryString: '',
      headers: { authorization: `Bearer ${key}` },
      requestContext: { http: { method: 'GET', path: '/api/v1/event-types', protocol: 'HTTP/1.1', sourceIp, userAgent: '' } },
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;

  it(`${FAILED_AUTHS_PER_MINUTE} wrong keys, then 429 + Retry-After without a read; the right key and other addresses still served`, async () => {
    const s = setup();
    const good = await tenantWithKey(s);
    await s.auth.authenticate(good);
    const handler = apiHandler({
      auth: { kind: 'tenant', authenticate: (key, client) => s.auth.authenticate(key, client) },
      logError: () => undefined,
      routes: { 'GET /api/v1/event-types': async (req) => ({ statusCode: 200, body: { tenant: req.tenantId } }) },
    });
    const call = (key: string, ip = CLIENT) => handler(event(key, ip), {} as Context);
    for (let i = 0; i < FAILED_AUTHS_PER_MINUTE; i++) expect((await call(`hk_guess_${i}`)).statusCode).toBe(401);
    const reads = s.directory.lookups;
    const limited = await call('hk_one_more');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.body as string).error).toMatch(/too many/i);
    expect(s.directory.lookups).toBe(reads);
    expect(await call(good)).toMatchObject({ statusCode: 200 });
    expect((await call('hk_guess_x', '198.51.100.9')).statusCode).toBe(401);
  });
});
