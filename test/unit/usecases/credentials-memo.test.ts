import { memoizeGets } from '../../../shared/usecases/batch-memo.ts';
import { CredentialsCache, CredentialsMismatchError, CredentialsNotFoundError, credentialsSecretName, sealCredentials } from '../../../shared/usecases/credentials.ts';
import type { SecretStore } from '../../../shared/usecases/ports.ts';

class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  reads: string[] = [];
  failNext = false;
  async get(name: string): Promise<string | undefined> {
    this.reads.push(name);
    await Promise.resolve();
    if (this.failNext) {
      this.failNext = false;
      throw new Error('Secrets Manager throttled');
    }
    return this.values.get(name);
  }
  async put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }
  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
}

describe('CredentialsCache', () => {
  const creds = (secret: string, tenantId = 'ten_a', webhookId = 'wh_1') =>
    sealCredentials(tenantId, webhookId, { signing_secrets: [secret], auth: { type: 'none' } });
  const hook = (id: string, credentials_version = 1, tenant_id = 'ten_a') => ({ tenant_id, id, credentials_version });

  it('reads the secret named under the prefix, once for concurrent gets of one version', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('hookline/webhooks/ten_a/wh_1', creds('s1'));
    const cache = new CredentialsCache(secrets, 'hookline/');
    const [a, b] = await Promise.all([cache.get(hook('wh_1')), cache.get(hook('wh_1'))]);
    expect(a.signing_secrets).toEqual(['s1']);
    expect(b).toBe(a);
    expect(secrets.reads).toEqual([credentialsSecretName('hookline/', 'ten_a', 'wh_1')]);
  });

  it('a new credentials_version is read again at once', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/ten_a/wh_1', creds('old'));
    const cache = new CredentialsCache(secrets, 'p/');
    expect((await cache.get(hook('wh_1'))).signing_secrets).toEqual(['old']);
    secrets.values.set('p/webhooks/ten_a/wh_1', creds('new'));
    expect((await cache.get(hook('wh_1'))).signing_secrets).toEqual(['old']);
    expect((await cache.get(hook('wh_1', 2))).signing_secrets).toEqual(['new']);
  });

  it('missing credentials are an error; an empty secret means none', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/ten_a/wh_empty', '');
    const cache = new CredentialsCache(secrets, 'p/');
    await expect(cache.get(hook('wh_missing'))).rejects.toBeInstanceOf(CredentialsNotFoundError);
    expect(await cache.get(hook('wh_empty'))).toEqual({ signing_secrets: [], auth: { type: 'none' } });
  });

  it("another tenant's webhook id never finds that tenant's credentials, and a copied secret is refused", async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/ten_b/wh_1', creds('b-secret', 'ten_b', 'wh_1'));
    const cache = new CredentialsCache(secrets, 'p/');
    // A row of tenant A that carries tenant B's webhook id looks under A's name only.
    await expect(cache.get(hook('wh_1', 1, 'ten_a'))).rejects.toBeInstanceOf(CredentialsNotFoundError);
    expect(secrets.reads).toEqual(['p/webhooks/ten_a/wh_1']);
    // B's secret copied under A's name still names B: it does not sign for A.
    secrets.values.set('p/webhooks/ten_a/wh_1', secrets.values.get('p/webhooks/ten_b/wh_1')!);
    await expect(cache.get(hook('wh_1', 2, 'ten_a'))).rejects.toBeInstanceOf(CredentialsMismatchError);
    await expect(cache.get(hook('wh_1', 1, 'ten_b'))).resolves.toMatchObject({ signing_secrets: ['b-secret'] });
  });

  it('a failed read is not cached', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/ten_a/wh_1', creds('s'));
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
