/**
 * Issue 8, keys, against the real runtime: replacing the bootstrap key revokes the old one,
 * the admin API lists, adds and revokes a tenant's keys (a revoked key gets 401 at once), and an
 * address that keeps sending wrong keys gets 429 while good keys still work. 127.0.0.1 only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FAILED_AUTHS_PER_MINUTE } from '../../shared/usecases/tenants.ts';
import { MAX_KEYS_PER_TENANT } from '../../shared/usecases/api-keys.ts';
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import { api, randomKey, startRuntime, type Runtime } from '../support/runtime.ts';
import { expectJsonError } from './helpers.ts';

const keysOf = (tenantId: string) => `/admin/v1/tenants/${tenantId}/keys`;
const status = async (rt: Runtime, key: string) => (await api(rt.baseUrl, key).get(WEBHOOKS)).status;

describe('replacing the bootstrap key', () => {
  /** The runtime of the running test (each restart replaces it); removed after each test. */
  let current: Runtime | undefined;
  const started = (rt: Runtime): Runtime => (current = rt);
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });

  it('a restart with a new HOOKLINE_API_KEY: the old key 401, the new one 200, admin-created keys stay', async () => {
    let rt = started(await startRuntime());
    const first = rt.apiKey;
    expect(await status(rt, first)).toBe(200);
    const extra = await api(rt.baseUrl, rt.adminKey).post(keysOf('default'), undefined);
    expect(extra.status).toBe(201);

    const second = randomKey('hk_e2e_second_');
    rt = started(await rt.restart({ HOOKLINE_API_KEY: second }));
    expectJsonError(await api(rt.baseUrl, first).get(WEBHOOKS), 401);
    expect(await status(rt, second)).toBe(200);
    expect(await status(rt, extra.json.api_key)).toBe(200);
    const listed = await api(rt.baseUrl, rt.adminKey).get(keysOf('default'));
    expect(listed.json.items.map((k: { id: string }) => k.id)).toContain(extra.json.id);
    expect(listed.json.items).toHaveLength(2);

    // The same key again: nothing changes.
    rt = started(await rt.restart());
    expect(await status(rt, second)).toBe(200);
    expect((await api(rt.baseUrl, rt.adminKey).get(keysOf('default'))).json.items).toHaveLength(2);
  });

  it('the generated key (no HOOKLINE_API_KEY) is revoked once HOOKLINE_API_KEY replaces it, and never comes back', async () => {
    let rt = started(await startRuntime({ env: { HOOKLINE_API_KEY: '' } }));
    const credentials = async () => JSON.parse(await readFile(join(rt.dataDir, 'credentials.json'), 'utf8'));
    const generated: string = (await credentials()).api_key;
    expect(rt.stdout()).toContain(generated);
    expect(await status(rt, generated)).toBe(200);

    const chosen = randomKey('hk_e2e_chosen_');
    rt = started(await rt.restart({ HOOKLINE_API_KEY: chosen }));
    expectJsonError(await api(rt.baseUrl, generated).get(WEBHOOKS), 401);
    expect(await status(rt, chosen)).toBe(200);
    expect((await credentials()).api_key).toBeUndefined();

    // Without HOOKLINE_API_KEY again: a new key, not the revoked one; the chosen one is revoked too.
    rt = started(await rt.restart({ HOOKLINE_API_KEY: '' }));
    const regenerated: string = (await credentials()).api_key;
    expect(regenerated).not.toBe(generated);
    expect(await status(rt, regenerated)).toBe(200);
    expect(await status(rt, generated)).toBe(401);
    expect(await status(rt, chosen)).toBe(401);
  });
});

describe('key management in the admin API, and wrong keys', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime();
  });
  afterAll(async () => {
    await rt?.cleanup();
  });

  it('POST /admin/v1/tenants still answers tenant_id + api_key, and that key is listed', async () => {
    const tenant = await createTenant(rt, 'keys-created');
    expect(tenant.key).toMatch(/^hk_/);
    expect(await status(rt, tenant.key)).toBe(200);
    const listed = await api(rt.baseUrl, rt.adminKey).get(keysOf(tenant.id));
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual([{ id: expect.stringMatching(/^key_/), created_at: expect.any(String), prefix: tenant.key.slice(0, 7) }]);
  });

  it('a second key for rotation: both work, the list shows both without key material, a revoked key is refused at once', async () => {
    const tenant = await createTenant(rt, 'keys-rotation');
    const admin = api(rt.baseUrl, rt.adminKey);
    const second = await admin.post(keysOf(tenant.id), undefined);
    expect(second.status).toBe(201);
    expect(Object.keys(second.json).sort()).toEqual(['api_key', 'id']);
    expect(await status(rt, tenant.key)).toBe(200);
    expect(await status(rt, second.json.api_key)).toBe(200);

    const listed = await admin.get(keysOf(tenant.id));
    expect(listed.json.items).toHaveLength(2);
    for (const key of [tenant.key, second.json.api_key]) expect(listed.text).not.toContain(key.slice(8));

    // Both keys were just used (and cached): revoking one is felt on the very next request.
    const first = listed.json.items.find((k: { id: string }) => k.id !== second.json.id);
    expect((await admin.del(`${keysOf(tenant.id)}/${first.id}`)).status).toBe(204);
    expectJsonError(await api(rt.baseUrl, tenant.key).get(WEBHOOKS), 401);
    expectJsonError(await api(rt.baseUrl, tenant.key).post('/v1/events', { event: 'scan.completed', data: {} }), 401);
    expect(await status(rt, second.json.api_key)).toBe(200);
    expect((await admin.get(keysOf(tenant.id))).json.items.map((k: { id: string }) => k.id)).toEqual([second.json.id]);
    // Revoking it again: 404.
    expectJsonError(await admin.del(`${keysOf(tenant.id)}/${first.id}`), 404);
  });

  it('unknown tenant or key: 404 JSON; a key of another tenant cannot be revoked through this one', async () => {
    const admin = api(rt.baseUrl, rt.adminKey);
    const a = await createTenant(rt, 'keys-a');
    const b = await createTenant(rt, 'keys-b');
    const [keyOfB] = (await admin.get(keysOf(b.id))).json.items;
    expectJsonError(await admin.get(keysOf('ten_00000000000000000000000000')), 404);
    expectJsonError(await admin.post(keysOf('ten_00000000000000000000000000'), undefined), 404);
    expectJsonError(await admin.del(`${keysOf(a.id)}/${keyOfB.id}`), 404);
    expectJsonError(await admin.del(`${keysOf(a.id)}/key_00000000000000000000000000`), 404);
    expectJsonError(await admin.del(`${keysOf(a.id)}/not-a-key-id`), 404);
    expect(await status(rt, b.key)).toBe(200);
  });

  it(`at most ${MAX_KEYS_PER_TENANT} keys a tenant: 409 JSON beyond`, async () => {
    const tenant = await createTenant(rt, 'keys-many');
    const admin = api(rt.baseUrl, rt.adminKey);
    for (let i = 1; i < MAX_KEYS_PER_TENANT; i++) expect((await admin.post(keysOf(tenant.id), undefined)).status).toBe(201);
    expectJsonError(await admin.post(keysOf(tenant.id), undefined), 409);
  });

  it('tenant keys cannot manage keys', async () => {
    const tenant = await createTenant(rt, 'keys-not-admin');
    const asTenant = api(rt.baseUrl, tenant.key);
    expectJsonError(await asTenant.get(keysOf(tenant.id)), 401);
    expectJsonError(await asTenant.post(keysOf(tenant.id), undefined), 401);
  });

  // Last in this runtime: it leaves 127.0.0.1 limited for unknown keys for a minute.
  it(`wrong keys from one address: after ${FAILED_AUTHS_PER_MINUTE}, 429 with Retry-After; good keys still served`, async () => {
    const tenant = await createTenant(rt, 'keys-limited');
    const answers = [];
    for (let i = 0; i < FAILED_AUTHS_PER_MINUTE + 10; i++) answers.push(await api(rt.baseUrl, randomKey('hk_guess_')).get(WEBHOOKS));
    const codes = answers.map((a) => a.status);
    expect(codes.slice(0, FAILED_AUTHS_PER_MINUTE - 5).every((c) => c === 401)).toBe(true);
    expect(codes.slice(-10)).toEqual(Array(10).fill(429));
    const limited = answers.at(-1)!;
    expectJsonError(limited, 429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Wrong admin keys are counted from the same address too.
    expectJsonError(await api(rt.baseUrl, `${rt.adminKey}x`).get(keysOf(tenant.id)), 429);
    // Keys known to be good are still served: the bootstrap key, a tenant's key, the admin key.
    expect(await status(rt, rt.apiKey)).toBe(200);
    expect(await status(rt, tenant.key)).toBe(200);
    expect((await api(rt.baseUrl, rt.adminKey).get(keysOf(tenant.id))).status).toBe(200);
    // And a key created now works at once.
    const fresh = await api(rt.baseUrl, rt.adminKey).post(keysOf(tenant.id), undefined);
    expect(await status(rt, fresh.json.api_key)).toBe(200);
  });
});

describe('the headers of answers about keys', () => {
  // A runtime of its own: the wrong keys sent here would count towards the limit the test above measures.
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime();
  });
  afterAll(async () => {
    await rt?.cleanup();
  });

  it('answers carrying a key are never cached, and a 401 says it wants a Bearer key', async () => {
    const tenant = await createTenant(rt, 'keys-headers');
    const made = await fetch(`${rt.baseUrl}${keysOf(tenant.id)}`, { method: 'POST', headers: { authorization: `Bearer ${rt.adminKey}` } });
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    // Refused before the body by the server, and by a handler: the same headers.
    for (const path of [WEBHOOKS, keysOf(tenant.id)]) {
      const refused = await fetch(`${rt.baseUrl}${path}`, { headers: { authorization: 'Bearer hk_not_a_key_of_anyone_at_all' } });
      expect({ path, status: refused.status, scheme: refused.headers.get('www-authenticate') }).toEqual({ path, status: 401, scheme: 'Bearer' });
    }
  });
});
