/**
 * The writer of a tenant's credentials secret: a read-modify-write per change, one at a time per
 * tenant. Against a store that yields between the read and the write (as Secrets Manager does),
 * concurrent changes of one tenant's webhooks all survive, and without the lock they would not.
 */
import { credentialsSecretName, MAX_CREDENTIALS_SECRET_BYTES, parseTenantCredentials } from '../../../shared/usecases/credentials.ts';
import { CREDENTIALS_LOCK_MS, CredentialsWriter, type CredentialsLock } from '../../../shared/usecases/credentials-writer.ts';
import type { SecretStore } from '../../../shared/usecases/ports.ts';
import { HooklineError } from '../../../shared/errors.ts';
import { functionTimeouts, resolveSettings } from '../../../infra/stack/settings.ts';

/** Secrets Manager in memory: every call takes a turn of the event loop, as a network call would. */
class SlowSecrets implements Pick<SecretStore, 'get' | 'put'> {
  readonly values = new Map<string, string>();
  puts = 0;
  async get(name: string): Promise<string | undefined> {
    await new Promise((resolve) => setImmediate(resolve));
    return this.values.get(name);
  }
  async put(name: string, value: string): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.puts++;
    this.values.set(name, value);
  }
}

/** The lock item's semantics: taken while unexpired, released by its holder only. */
class MemoryLock implements CredentialsLock {
  private readonly held = new Map<string, { holder: string; until: number }>();
  contended = 0;
  async acquire(tenantId: string, holder: string, now: Date, until: Date): Promise<boolean> {
    const current = this.held.get(tenantId);
    if (current && current.until >= now.getTime()) {
      this.contended++;
      return false;
    }
    this.held.set(tenantId, { holder, until: until.getTime() });
    return true;
  }
  async release(tenantId: string, holder: string): Promise<void> {
    if (this.held.get(tenantId)?.holder === holder) this.held.delete(tenantId);
  }
  /** A lock left by a writer that died. */
  abandon(tenantId: string, until: number): void {
    this.held.set(tenantId, { holder: 'dead', until });
  }
}

/** A lock that never says no: what the writer would do without one. */
const noLock: CredentialsLock = { acquire: async () => true, release: async () => undefined };

const creds = (secret: string) => ({ signing_secrets: [secret], auth: { type: 'none' as const } });

function setup(lock: CredentialsLock = new MemoryLock(), now = () => new Date()) {
  const secrets = new SlowSecrets();
  const writer = new CredentialsWriter({ secrets, lock, clock: now, secretPrefix: 'p/', lockWaitMs: 5_000 });
  const stored = (tenantId = 'ten_a') => parseTenantCredentials(secrets.values.get(credentialsSecretName('p/', tenantId)));
  return { secrets, writer, stored };
}

describe('CredentialsWriter', () => {
  it('twenty concurrent creates of one tenant all keep their credentials, each at version 1', async () => {
    const lock = new MemoryLock();
    const { writer, stored } = setup(lock);
    const ids = Array.from({ length: 20 }, (_, i) => `wh_${i}`);
    const versions = await Promise.all(ids.map((id) => writer.change('ten_a', id, 0, () => creds(`s-${id}`), async (version) => version)));
    expect(versions).toEqual(Array(20).fill(1));
    const secret = stored();
    expect(Object.keys(secret).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(secret[id]).toMatchObject({ signing_secrets: [`s-${id}`], tenant_id: 'ten_a', webhook_id: id, credentials_version: 1 });
    expect(lock.contended).toBeGreaterThan(0);
  });

  it('without the lock the same creates lose updates (the test can fail)', async () => {
    const { writer, stored } = setup(noLock);
    const ids = Array.from({ length: 20 }, (_, i) => `wh_${i}`);
    await Promise.all(ids.map((id) => writer.change('ten_a', id, 0, () => creds(id), async () => undefined)));
    expect(Object.keys(stored()).length).toBeLessThan(20);
  });

  it('concurrent rotations of two webhooks and a delete of a third all land; versions only grow', async () => {
    const { writer, stored } = setup();
    for (const id of ['wh_a', 'wh_b', 'wh_c']) await writer.change('ten_a', id, 0, () => creds(`${id}-0`), async () => undefined);
    const rotate = (id: string, n: number) =>
      writer.change('ten_a', id, 1, (current) => ({ ...current!, signing_secrets: [`${id}-${n}`], previous_secrets: [] }), async (v) => v);
    const results = await Promise.all([rotate('wh_a', 1), rotate('wh_b', 1), rotate('wh_a', 2), writer.remove('ten_a', 'wh_c'), rotate('wh_b', 2)]);
    const secret = stored();
    expect(Object.keys(secret).sort()).toEqual(['wh_a', 'wh_b']);
    // Two rotations of one webhook from the same row version still get distinct, growing versions.
    expect([results[0], results[2]].sort()).toEqual([2, 3]);
    expect(secret['wh_a']!.credentials_version).toBe(3);
    expect(secret['wh_b']!.credentials_version).toBe(3);
    expect(secret['wh_a']!.signing_secrets[0]).toBe(results[0] === 3 ? 'wh_a-1' : 'wh_a-2');
  });

  it('the new version is above the entry and the row, even after a commit that failed', async () => {
    const { writer, stored } = setup();
    await writer.change('ten_a', 'wh_1', 0, () => creds('one'), async () => undefined);
    await expect(writer.change('ten_a', 'wh_1', 1, () => creds('two'), async () => Promise.reject(new Error('row write failed')))).rejects.toThrow('row write failed');
    expect(stored()['wh_1']!.credentials_version).toBe(2);
    // The row still says 1: the next change must not reuse 2, which a cache may hold with "two".
    expect(await writer.change('ten_a', 'wh_1', 1, () => creds('three'), async (v) => v)).toBe(3);
    // A row ahead of the entry (its entry lost) moves on from the row.
    expect(await writer.change('ten_a', 'wh_1', 9, () => creds('four'), async (v) => v)).toBe(10);
  });

  it("refuses, with 409 and nothing written, a change that would take the tenant's secret past its limit", async () => {
    const { writer, stored, secrets } = setup();
    const big = 'x'.repeat(4000);
    let i = 0;
    let refused: unknown;
    for (; i < 40; i++) {
      try {
        await writer.change('ten_a', `wh_${i}`, 0, () => ({ signing_secrets: ['s'], auth: { type: 'bearer', token: big } }), async () => undefined);
      } catch (err) {
        refused = err;
        break;
      }
    }
    expect(refused).toBeInstanceOf(HooklineError);
    expect((refused as HooklineError).statusCode).toBe(409);
    expect((refused as HooklineError).message).toContain(`${MAX_CREDENTIALS_SECRET_BYTES} bytes`);
    const puts = secrets.puts;
    expect(Object.keys(stored())).toHaveLength(i);
    expect(Buffer.byteLength(secrets.values.get('p/tenants/ten_a')!)).toBeLessThanOrEqual(MAX_CREDENTIALS_SECRET_BYTES);
    // Room is made by deleting a webhook; another tenant was never affected.
    await writer.remove('ten_a', 'wh_0');
    await writer.change('ten_a', `wh_${i}`, 0, () => ({ signing_secrets: ['s'], auth: { type: 'bearer', token: big } }), async () => undefined);
    await writer.change('ten_b', 'wh_0', 0, () => creds('b'), async () => undefined);
    expect(secrets.puts).toBe(puts + 3);
  });

  it('100 webhooks with rotations in progress and bearer tokens fit in one secret', async () => {
    const { writer, stored, secrets } = setup();
    const secret = () => `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    for (let i = 0; i < 100; i++) {
      const id = `wh_01JZ${String(i).padStart(22, '0')}`;
      await writer.change('ten_01JZ00000000000000000000', id, 0, () => ({
        signing_secrets: [secret()],
        previous_secrets: [{ secret: secret(), expires_at: '2025-06-02T12:00:00.000Z' }, { secret: secret(), expires_at: '2025-06-02T12:00:00.000Z' }],
        auth: { type: 'bearer', token: 'b'.repeat(64) },
      }), async () => undefined);
    }
    expect(Object.keys(stored('ten_01JZ00000000000000000000'))).toHaveLength(100);
    expect(Buffer.byteLength(secrets.values.get('p/tenants/ten_01JZ00000000000000000000')!)).toBeLessThan(MAX_CREDENTIALS_SECRET_BYTES);
  });

  it('waits out a lock left by a dead writer once it expires, and gives up with 409 while it holds', async () => {
    const lock = new MemoryLock();
    let now = Date.parse('2025-06-01T12:00:00.000Z');
    const { secrets, stored } = setup();
    const writer = new CredentialsWriter({ secrets, lock, clock: () => new Date(now), secretPrefix: 'p/', lockWaitMs: 200 });
    lock.abandon('ten_a', now + CREDENTIALS_LOCK_MS);
    const refused = writer.change('ten_a', 'wh_1', 0, () => creds('s'), async () => undefined);
    await expect(refused).rejects.toMatchObject({ statusCode: 409, message: expect.stringContaining('in progress') });
    expect(secrets.puts).toBe(0);
    now += CREDENTIALS_LOCK_MS + 1;
    await writer.change('ten_a', 'wh_1', 0, () => creds('s'), async () => undefined);
    expect(Object.keys(stored())).toEqual(['wh_1']);
  });

  it('the lock outlives any webhooks API invocation, so a stalled holder is stopped before its lock passes on', () => {
    for (const requestTimeoutMs of [1_000, 10_000, 30_000, 120_000]) {
      const timeout = functionTimeouts(resolveSettings({ requestTimeoutMs }))['webhooks-api'].toMilliseconds();
      expect(timeout).toBeLessThan(CREDENTIALS_LOCK_MS);
    }
  });
});
