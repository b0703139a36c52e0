/**
 * The ports on the tenants' side (TenantDirectory and its keys, WebhookQuota, TenantRateLimits,
 * EmailQuota, RequestWindows, CredentialsLock, WebhookLeases), one contract run on both adapter
 * sets: every limit holds under concurrent callers, and keys stop working when revoked. The
 * queues' lag records (LagRecords), which only the one-machine store keeps, run on SQLite alone.
 */
import { rateWindow } from '../../shared/domain/rate-limits.ts';
import { LAG_WINDOW_MS } from '../../shared/usecases/queue-lag.ts';
import type { ApiKeyRecord } from '../../shared/usecases/tenants.ts';
import { ADAPTER_SETS, EMAILS_PER_HOUR, sqliteAdapters, uid, useBackend, type MakeAdapters, type SqliteAdapters } from './adapter-sets.ts';

const HOUR = 3_600_000;
/** The start of the current hour: recent enough that nothing written from it has expired. */
const T0 = new Date(Math.floor(Date.now() / HOUR) * HOUR);
const at = (ms: number) => new Date(T0.getTime() + ms);

const key = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({ id: uid('key'), hash: uid('hash'), prefix: 'hk_abcd', created_at: T0.toISOString(), ...overrides });

export function describeTenantContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`tenants contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const tenants = () => backend().adapters.tenants;
    const newTenant = async () => {
      const id = uid('ten');
      await tenants().createIfAbsent({ id, name: 'n', owner_email: 'o@example.com', created_at: T0.toISOString() });
      return id;
    };

    it('createIfAbsent is conditional: true, then false without overwriting', async () => {
      const tenant = { id: uid('ten'), name: 'Acme', owner_email: 'ops@acme.example', created_at: T0.toISOString() };
      await expect(tenants().createIfAbsent(tenant)).resolves.toBe(true);
      await expect(tenants().createIfAbsent({ ...tenant, name: 'Impostor' })).resolves.toBe(false);
      await expect(tenants().get(tenant.id)).resolves.toEqual(tenant);
      await expect(tenants().get(uid('ten'))).resolves.toBeUndefined();
    });

    it('a key added is listed and works; at most maxKeys, also when added concurrently; none for a tenant that does not exist', async () => {
      const tenantId = await newTenant();
      const k = key({ bootstrap: true });
      await expect(tenants().addKey(tenantId, k, 4)).resolves.toBe('added');
      await expect(tenants().listKeys(tenantId)).resolves.toEqual([k]);
      await expect(tenants().tenantIdForKey(k.hash)).resolves.toBe(tenantId);
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => tenants().addKey(tenantId, key(), 4)));
      expect(outcomes.filter((o) => o === 'added')).toHaveLength(3);
      expect(await tenants().listKeys(tenantId)).toHaveLength(4);
      const orphan = key();
      await expect(tenants().addKey(uid('ten'), orphan, 10)).resolves.toBe('full');
      await expect(tenants().tenantIdForKey(orphan.hash)).resolves.toBeUndefined();
    });

    it("a key hash of another tenant is 'taken': not listed, not moved; a tenant id is not a key", async () => {
      const [a, b] = [await newTenant(), await newTenant()];
      const shared = key();
      await tenants().addKey(a, shared, 10);
      await expect(tenants().addKey(b, { ...shared, id: uid('key') }, 10)).resolves.toBe('taken');
      await expect(tenants().tenantIdForKey(shared.hash)).resolves.toBe(a);
      await expect(tenants().listKeys(b)).resolves.toEqual([]);
      await expect(tenants().tenantIdForKey(a)).resolves.toBeUndefined();
    });

    it('revokeKey stops the key at once and unlists it, frees its slot, is harmless twice, and never touches another tenant’s key', async () => {
      const [a, b] = [await newTenant(), await newTenant()];
      const [keep, gone] = [key(), key()];
      await tenants().addKey(a, keep, 2);
      await tenants().addKey(a, gone, 2);
      await expect(tenants().addKey(a, key(), 2)).resolves.toBe('full');
      await tenants().revokeKey(b, gone.hash, gone.id);
      await expect(tenants().tenantIdForKey(gone.hash)).resolves.toBe(a);
      await tenants().revokeKey(a, gone.hash, gone.id);
      await expect(tenants().tenantIdForKey(gone.hash)).resolves.toBeUndefined();
      await expect(tenants().listKeys(a)).resolves.toEqual([keep]);
      await tenants().revokeKey(a, gone.hash, gone.id);
      await expect(tenants().addKey(a, key(), 2)).resolves.toBe('added');
      await expect(tenants().addKey(a, key(), 2)).resolves.toBe('full');
    });

    it('an unlisted key (stored before keys were listed) works and is revoked by its hash', async () => {
      const tenantId = await newTenant();
      const hash = uid('hash');
      await expect(tenants().putKey(hash, tenantId)).resolves.toBe(true);
      await expect(tenants().putKey(hash, uid('ten'))).resolves.toBe(false);
      await expect(tenants().tenantIdForKey(hash)).resolves.toBe(tenantId);
      await tenants().revokeKey(tenantId, hash);
      await expect(tenants().tenantIdForKey(hash)).resolves.toBeUndefined();
    });

    it('the webhook quota never overshoots under concurrent reserves; a release frees one slot, never below zero', async () => {
      const tenantId = await newTenant();
      const reserved = await Promise.all(Array.from({ length: 8 }, () => tenants().reserve(tenantId, 3)));
      expect(reserved.filter(Boolean)).toHaveLength(3);
      await tenants().release(tenantId);
      await expect(tenants().reserve(tenantId, 3)).resolves.toBe(true);
      await expect(tenants().reserve(tenantId, 3)).resolves.toBe(false);
      for (let i = 0; i < 5; i++) await tenants().release(tenantId);
      const again = await Promise.all(Array.from({ length: 4 }, () => tenants().reserve(tenantId, 3)));
      expect(again.filter(Boolean)).toHaveLength(3);
      await expect(tenants().reserve(uid('ten'), 3)).resolves.toBe(false);
    });

    it("a tenant's own rate limit is stored and read back; refused for a tenant that does not exist", async () => {
      const id = await newTenant();
      await expect(tenants().rateLimitOf(id)).resolves.toEqual({});
      await expect(tenants().setRateLimit(id, { requestsPerSecond: 20, burst: 40 })).resolves.toBe(true);
      await expect(tenants().rateLimitOf(id)).resolves.toEqual({ limit: { requestsPerSecond: 20, burst: 40 } });
      await expect(tenants().get(id)).resolves.toMatchObject({ id, name: 'n' });
      const nobody = uid('ten');
      await expect(tenants().setRateLimit(nobody, { requestsPerSecond: 20, burst: 40 })).resolves.toBe(false);
      await expect(tenants().rateLimitOf(nobody)).resolves.toBeUndefined();
    });

    it(`the email quota lets ${EMAILS_PER_HOUR} of 12 concurrent emails through in an hour, per tenant, and starts again the next hour`, async () => {
      const quota = backend().adapters.emailQuota;
      const tenant = uid('ten');
      const taken = await Promise.all(Array.from({ length: 12 }, () => quota.take(tenant, at(5 * 60_000))));
      expect(taken.filter(Boolean)).toHaveLength(EMAILS_PER_HOUR);
      await expect(quota.take(tenant, at(59 * 60_000))).resolves.toBe(false);
      await expect(quota.take(uid('ten'), at(0))).resolves.toBe(true);
      await expect(quota.take(tenant, at(HOUR))).resolves.toBe(true);
    });

    it('an email given back is taken again within its hour; giving back never goes below zero', async () => {
      const quota = backend().adapters.emailQuota;
      const tenant = uid('ten');
      for (let i = 0; i < EMAILS_PER_HOUR; i++) await expect(quota.take(tenant, at(0))).resolves.toBe(true);
      await expect(quota.take(tenant, at(60_000))).resolves.toBe(false);
      await quota.giveBack(tenant, at(30_000));
      await expect(quota.take(tenant, at(59 * 60_000))).resolves.toBe(true);
      await expect(quota.take(tenant, at(59 * 60_000))).resolves.toBe(false);
      // Another hour's counter, and one that does not exist, are left as they are.
      await quota.giveBack(tenant, at(HOUR));
      await expect(quota.take(tenant, at(HOUR))).resolves.toBe(true);
      const fresh = uid('ten');
      await quota.giveBack(fresh, at(0));
      for (let i = 0; i < EMAILS_PER_HOUR; i++) await expect(quota.take(fresh, at(0))).resolves.toBe(true);
      await expect(quota.take(fresh, at(0))).resolves.toBe(false);
    });

    it("a request window counts exactly its limit under concurrent takes; the next window and another tenant start from zero", async () => {
      const windows = backend().adapters.requestWindows;
      const tenant = uid('ten');
      const window = rateWindow({ requestsPerSecond: 4, burst: 8 }, T0.getTime() + 100);
      const taken = await Promise.all(Array.from({ length: 20 }, () => windows.take(tenant, window)));
      expect(taken.filter(Boolean)).toHaveLength(8);
      await expect(windows.take(tenant, rateWindow({ requestsPerSecond: 4, burst: 8 }, window.endMs))).resolves.toBe(true);
      await expect(windows.take(uid('ten'), window)).resolves.toBe(true);
    });

    it('the credentials lock: one holder at a time; an expired lock is taken over; only its holder releases it', async () => {
      const lock = backend().adapters.credentialsLock;
      const tenant = uid('ten');
      const takes = await Promise.all(['a', 'x', 'y'].map((holder) => lock.acquire(tenant, holder, at(0), at(30_000))));
      expect(takes.filter(Boolean)).toHaveLength(1);
      const holder = ['a', 'x', 'y'][takes.indexOf(true)]!;
      await expect(lock.acquire(uid('ten'), 'b', at(10_000), at(40_000))).resolves.toBe(true);
      await lock.release(tenant, 'b');
      await expect(lock.acquire(tenant, 'c', at(20_000), at(50_000))).resolves.toBe(false);
      await expect(lock.acquire(tenant, 'c', at(30_001), at(60_001))).resolves.toBe(true);
      await lock.release(tenant, holder);
      await expect(lock.acquire(tenant, 'd', at(30_002), at(60_002))).resolves.toBe(false);
      await lock.release(tenant, 'c');
      await expect(lock.acquire(tenant, 'd', at(30_003), at(60_003))).resolves.toBe(true);
    });

    it('webhook leases: never past the limit under concurrent takes; a drop or an expiry frees a slot; no limit means always', async () => {
      const leases = backend().adapters.webhookLeases;
      const w = { tenant_id: uid('ten'), webhook_id: uid('wh') };
      const takes = await Promise.all(Array.from({ length: 10 }, (_, i) => leases.take(w, `c${i}.1`, at(60_000), at(0), 3)));
      // DynamoDB's optimistic takes may lose every round of a race (busy, not over the limit); SQLite's never do.
      expect(takes.filter(Boolean).length).toBeLessThanOrEqual(3);
      expect(takes.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      const held = takes.map((t, i) => (t ? `c${i}.1` : undefined)).filter((id) => id !== undefined);
      for (let i = held.length; i < 3; i++) await expect(leases.take(w, `fill.${i}`, at(60_000), at(0), 3)).resolves.toBe(true);
      await expect(leases.take(w, 'late.1', at(60_000), at(0), 3)).resolves.toBe(false);
      await leases.drop(w, held[0]!);
      await leases.drop(w, 'never.1');
      await expect(leases.take(w, 'late.1', at(60_000), at(0), 3)).resolves.toBe(true);
      await expect(leases.take(w, 'late.2', at(120_000), at(59_999), 3)).resolves.toBe(false);
      // At 60 s every lease (all taken until 60 s) has expired: even a limit of 1 has room; without a limit there always is.
      await expect(leases.take(w, 'late.2', at(120_000), at(60_000), 1)).resolves.toBe(true);
      await expect(leases.take(w, 'slow.1', at(120_000), at(60_000))).resolves.toBe(true);
      await expect(leases.take(w, 'late.3', at(120_000), at(60_000), 2)).resolves.toBe(false);
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeTenantContract(name, make);

/**
 * The queues' lag records are the one-machine runtime's only (its reconciler reads them): no
 * Lambda writes or reads them, so there is no DynamoDB adapter for them any more.
 */
describe('tenants contract, one-machine store only: SQLite adapters', () => {
  const backend = useBackend<SqliteAdapters>(sqliteAdapters);

  it('queue lag keeps the oldest front of a window, takes a newer one after it, and reads many keys at once', async () => {
    const lag = backend().adapters.queueLag;
    const k = uid('events');
    const front = async () => (await lag.read([k])).get(k);
    await expect(front()).resolves.toBeUndefined();
    await lag.record(k, at(-20 * 60_000), at(0));
    await lag.record(k, at(-5 * 60_000), at(10_000));
    await expect(front()).resolves.toEqual({ dueAt: at(-20 * 60_000), observedAt: at(0) });
    await lag.record(k, at(-30 * 60_000), at(20_000));
    await expect(front()).resolves.toEqual({ dueAt: at(-30 * 60_000), observedAt: at(20_000) });
    await lag.record(k, at(-2 * 60_000), at(20_000 + LAG_WINDOW_MS + 1));
    await expect(front()).resolves.toEqual({ dueAt: at(-2 * 60_000), observedAt: at(20_000 + LAG_WINDOW_MS + 1) });

    const keys = Array.from({ length: 150 }, (_, i) => `deliveries#ten_x#wh_${i}-${uid('k')}`);
    for (const i of [0, 120, 149]) await lag.record(keys[i]!, at(-i * 1000), at(0));
    const read = await lag.read([...keys, keys[0]!]);
    expect([...read.keys()].sort()).toEqual([keys[0], keys[120], keys[149]].sort());
    expect(read.get(keys[120]!)).toEqual({ dueAt: at(-120_000), observedAt: at(0) });
    await expect(lag.read([])).resolves.toEqual(new Map());
  });
});
