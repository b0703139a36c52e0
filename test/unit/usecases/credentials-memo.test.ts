import { memoizeGets } from '../../../shared/usecases/batch-memo.ts';
import { CredentialsCache, CredentialsNotFoundError, credentialsSecretName } from '../../../shared/usecases/credentials.ts';
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
  const creds = (secret: string) => JSON.stringify({ signing_secrets: [secret], auth: { type: 'none' } });

  it('reads the secret named under the prefix, once for concurrent gets of one version', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('hookline/webhooks/wh_1', creds('s1'));
    const cache = new CredentialsCache(secrets, 'hookline/');
    const [a, b] = await Promise.all([cache.get({ id: 'wh_1', credentials_version: 1 }), cache.get({ id: 'wh_1', credentials_version: 1 })]);
    expect(a.signing_secrets).toEqual(['s1']);
    expect(b).toBe(a);
    expect(secrets.reads).toEqual([credentialsSecretName('hookline/', 'wh_1')]);
  });

  it('a new credentials_version is read again at once', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/wh_1', creds('old'));
    const cache = new CredentialsCache(secrets, 'p/');
    expect((await cache.get({ id: 'wh_1', credentials_version: 1 })).signing_secrets).toEqual(['old']);
    secrets.values.set('p/webhooks/wh_1', creds('new'));
    expect((await cache.get({ id: 'wh_1', credentials_version: 1 })).signing_secrets).toEqual(['old']);
    expect((await cache.get({ id: 'wh_1', credentials_version: 2 })).signing_secrets).toEqual(['new']);
  });

  it('missing credentials are an error; an empty secret means none', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/wh_empty', '');
    const cache = new CredentialsCache(secrets, 'p/');
    await expect(cache.get({ id: 'wh_missing', credentials_version: 1 })).rejects.toBeInstanceOf(CredentialsNotFoundError);
    expect(await cache.get({ id: 'wh_empty', credentials_version: 1 })).toEqual({ signing_secrets: [], auth: { type: 'none' } });
  });

  it('a failed read is not cached', async () => {
    const secrets = new MemorySecrets();
    secrets.values.set('p/webhooks/wh_1', creds('s'));
    const cache = new CredentialsCache(secrets, 'p/');
    secrets.failNext = true;
    await expect(cache.get({ id: 'wh_1', credentials_version: 1 })).rejects.toThrow('throttled');
    await expect(cache.get({ id: 'wh_1', credentials_version: 1 })).resolves.toMatchObject({ signing_secrets: ['s'] });
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
