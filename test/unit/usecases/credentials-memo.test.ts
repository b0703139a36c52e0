import { memoizeGets } from '../../../shared/usecases/batch-memo.ts';
import {
  CREDENTIALS_CACHE_MS,
  CredentialsCache,
  CredentialsMismatchError,
  CredentialsNotFoundError,
  credentialsSecretName,
  sealCredentials,
  type SealedCredentials,
} from '../../../shared/usecases/credentials.ts';
import type { SecretReader } from '../../../shared/usecases/ports.ts';

/** A secret store whose reads can be held open, to see which callers share one. */
class MemorySecrets implements SecretReader {
  readonly values = new Map<string, string>();
  reads: string[] = [];
  failNext = false;
  private held: (() => void)[] | undefined;
  async get(name: string): Promise<string | undefined> {
    this.reads.push(name);
    // The value as of the call: a held read answers what was stored when it was made.
    const value = this.values.get(name);
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    else await Promise.resolve();
    if (this.failNext) {
      this.failNext = false;
      throw new Error('Secrets Manager throttled');
    }
    return value;
  }
  /** Stores a tenant's secret: entries of (webhook id, version, signing secret). */
  setTenant(tenantId: string, entries: Record<string, SealedCredentials>): void {
    this.values.set(credentialsSecretName('p/', tenantId), JSON.stringify(entries));
  }
  hold(): void {
    this.held = [];
  }
  releaseAll(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    waiting.forEach((resolve) => resolve());
  }
}

const entry = (secret: string, version = 1, tenantId = 'ten_a', webhookId = 'wh_1') =>
  sealCredentials(tenantId, webhookId, version, { signing_secrets: [secret], auth: { type: 'none' } });
const hook = (id: string, credentials_version = 1, tenant_id = 'ten_a') => ({ tenant_id, id, credentials_version });
/** A clock the test moves. */
const testClock = () => {
  let now = Date.parse('2025-06-01T12:00:00.000Z');
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
};
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CredentialsCache', () => {
  it("reads the tenant's one secret once for concurrent gets of all its webhooks", async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('s1'), wh_2: entry('s2', 4, 'ten_a', 'wh_2') });
    const cache = new CredentialsCache(secrets, 'p/');
    const [a, b, c] = await Promise.all([cache.get(hook('wh_1')), cache.get(hook('wh_1')), cache.get(hook('wh_2', 4))]);
    expect(a).toEqual({ signing_secrets: ['s1'], auth: { type: 'none' } });
    expect(b).toEqual(a);
    expect(c.signing_secrets).toEqual(['s2']);
    expect(secrets.reads).toEqual(['p/tenants/ten_a']);
  });

  it('keeps the secret for an hour of the clock, then reads it again: one read per tenant an hour', async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('s1') });
    secrets.setTenant('ten_b', { wh_1: entry('b', 1, 'ten_b') });
    const time = testClock();
    const cache = new CredentialsCache(secrets, 'p/', { clock: time.clock });
    for (let minute = 0; minute < 60; minute += 10) {
      await cache.get(hook('wh_1'));
      time.advance(10 * 60_000 - 1);
    }
    expect(secrets.reads).toEqual(['p/tenants/ten_a']);
    time.advance(CREDENTIALS_CACHE_MS);
    await cache.get(hook('wh_1'));
    await cache.get(hook('wh_1', 1, 'ten_b'));
    expect(secrets.reads).toEqual(['p/tenants/ten_a', 'p/tenants/ten_a', 'p/tenants/ten_b']);
  });

  it("a row ahead of the cached entry (or a webhook missing from it) reads the secret again at once; older rows do not", async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('old', 3) });
    const cache = new CredentialsCache(secrets, 'p/');
    expect((await cache.get(hook('wh_1', 3))).signing_secrets).toEqual(['old']);
    // Rotated through the API: the entry is written at version 4, then the row.
    secrets.setTenant('ten_a', { wh_1: entry('new', 4), wh_2: entry('other', 1, 'ten_a', 'wh_2') });
    // A row read before the rotation still gets the cached entry, with no read.
    expect((await cache.get(hook('wh_1', 2))).signing_secrets).toEqual(['old']);
    expect(secrets.reads).toHaveLength(1);
    expect((await cache.get(hook('wh_1', 4))).signing_secrets).toEqual(['new']);
    expect((await cache.get(hook('wh_2', 1))).signing_secrets).toEqual(['other']);
    expect(secrets.reads).toHaveLength(2);
  });

  it('concurrent gets that find the cache stale share one read; a read started before the change is not trusted', async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('v1', 1) });
    const cache = new CredentialsCache(secrets, 'p/');
    // A read in flight when the credentials change...
    secrets.hold();
    const early = cache.get(hook('wh_1', 1));
    await flush();
    secrets.setTenant('ten_a', { wh_1: entry('v2', 2) });
    // ...a row read after the change, and four more deliveries at its version.
    const late = Promise.all(Array.from({ length: 5 }, () => cache.get(hook('wh_1', 2))));
    await flush();
    secrets.releaseAll();
    await flush();
    secrets.releaseAll();
    expect((await early).signing_secrets).toEqual(['v1']);
    expect((await late).map((c) => c.signing_secrets[0])).toEqual(Array(5).fill('v2'));
    // The early read, and one more for the five that found it stale.
    expect(secrets.reads).toHaveLength(2);
  });

  it('an entry still behind the row after a fresh read is used, and read again by the next delivery', async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('lagging', 1) });
    const cache = new CredentialsCache(secrets, 'p/');
    expect((await cache.get(hook('wh_1', 2))).signing_secrets).toEqual(['lagging']);
    secrets.setTenant('ten_a', { wh_1: entry('caught up', 2) });
    expect((await cache.get(hook('wh_1', 2))).signing_secrets).toEqual(['caught up']);
    expect(secrets.reads).toHaveLength(2);
  });

  it('a webhook missing from a fresh read, or a tenant with no secret, is an error', async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('s') });
    const cache = new CredentialsCache(secrets, 'p/');
    await expect(cache.get(hook('wh_missing'))).rejects.toBeInstanceOf(CredentialsNotFoundError);
    await expect(cache.get(hook('wh_1', 1, 'ten_none'))).rejects.toBeInstanceOf(CredentialsNotFoundError);
  });

  it("another tenant's webhook id never finds that tenant's credentials, and a copied entry is refused", async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_b', { wh_1: entry('b-secret', 1, 'ten_b', 'wh_1') });
    secrets.setTenant('ten_a', { wh_2: entry('a-secret', 1, 'ten_a', 'wh_2') });
    const cache = new CredentialsCache(secrets, 'p/');
    // A row of tenant A that carries tenant B's webhook id looks in A's secret only.
    await expect(cache.get(hook('wh_1', 1, 'ten_a'))).rejects.toBeInstanceOf(CredentialsNotFoundError);
    expect(secrets.reads.every((name) => name === 'p/tenants/ten_a')).toBe(true);
    // B's entry copied into A's secret still names B: it does not sign for A.
    secrets.setTenant('ten_a', { wh_1: entry('b-secret', 5, 'ten_b', 'wh_1') });
    await expect(cache.get(hook('wh_1', 5, 'ten_a'))).rejects.toBeInstanceOf(CredentialsMismatchError);
    // Nor does an entry of another webhook of A filed under this one's id.
    secrets.setTenant('ten_a', { wh_1: entry('a-secret', 6, 'ten_a', 'wh_2') });
    await expect(cache.get(hook('wh_1', 6, 'ten_a'))).rejects.toBeInstanceOf(CredentialsMismatchError);
    await expect(cache.get(hook('wh_1', 1, 'ten_b'))).resolves.toMatchObject({ signing_secrets: ['b-secret'] });
  });

  it('a failed read is not cached', async () => {
    const secrets = new MemorySecrets();
    secrets.setTenant('ten_a', { wh_1: entry('s') });
    const cache = new CredentialsCache(secrets, 'p/');
    secrets.failNext = true;
    await expect(cache.get(hook('wh_1'))).rejects.toThrow('throttled');
    await expect(cache.get(hook('wh_1'))).resolves.toMatchObject({ signing_secrets: ['s'] });
    expect(secrets.reads).toHaveLength(2);
  });
});

describe('memoizeGets', () => {
  it('reads each (tenant, id) once, keeps tenants apart, and forgets failures', async () => {
    const reads: string[] = [];
    let fail = true;
    const memo = memoizeGets({
      async get(tenantId: string, id: string) {
        reads.push(`${tenantId}/${id}`);
        if (id === 'flaky' && fail) {
          fail = false;
          throw new Error('boom');
        }
        return `${tenantId}:${id}`;
      },
    });
    expect(await Promise.all([memo.get('A', 'x'), memo.get('A', 'x'), memo.get('B', 'x')])).toEqual(['A:x', 'A:x', 'B:x']);
    expect(reads).toEqual(['A/x', 'B/x']);
    await expect(memo.get('A', 'flaky')).rejects.toThrow('boom');
    await expect(memo.get('A', 'flaky')).resolves.toBe('A:flaky');
  });
});
