/**
 * Issue 13, portal sessions, against the real runtime: a tenant key makes a link whose token acts
 * for the tenant on the webhooks API, within its scope (some webhooks, read-only); a forged,
 * expired or revoked token gets 401 and no data; a token cannot make or revoke sessions, publish
 * events or reach the admin API. 127.0.0.1 only.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_PORTAL_TTL_SECONDS } from '../../shared/usecases/portal-sessions.ts';
import { createTenant, createWebhook, WEBHOOKS } from '../support/hookline.ts';
import { api, eventually, startRuntime, type Api, type ApiResponse, type Runtime } from '../support/runtime.ts';
import { expectJsonError } from './helpers.ts';

const SESSIONS = '/api/v1/portal-sessions';

let rt: Runtime;
let tenant: Api;
let hooks: { a: any; b: any };

beforeAll(async () => {
  rt = await startRuntime();
  tenant = api(rt.baseUrl, rt.apiKey);
  const body = { events: ['*'], description: 'portal' };
  hooks = {
    a: await createWebhook(tenant, { ...body, url: 'http://127.0.0.1:9/a' }),
    b: await createWebhook(tenant, { ...body, url: 'http://127.0.0.1:9/b' }),
  };
});
afterAll(async () => {
  await rt?.cleanup();
});

/** A session made with the tenant key; fails the test unless 201. */
async function session(body: Record<string, unknown> = {}, client: Api = tenant): Promise<{ id: string; url: string; expires_at: string; token: string; api: Api }> {
  const res = await client.post(SESSIONS, body);
  if (res.status !== 201) throw new Error(`POST ${SESSIONS} answered ${res.status}: ${res.text}`);
  const token = new URL(res.json.url).hash.replace(/^#token=/, '');
  return { ...res.json, token, api: api(rt.baseUrl, token) };
}

/** A 401 that carries nothing of the tenant's. */
function refused(res: ApiResponse): void {
  expectJsonError(res, 401);
  expect(Object.keys(res.json)).toEqual(['error']);
  expect(res.text).not.toContain(hooks.a.id);
}

const ids = (res: ApiResponse): string[] => res.json.items.map((w: { id: string }) => w.id);

describe('a portal session', () => {
  it('is a link to /portal with a signed token in its fragment, 1 h by default, that acts for the tenant', async () => {
    const before = Date.now();
    const s = await session();
    expect(s.id).toMatch(/^pss_[0-9A-Z]{26}$/);
    expect(s.url.startsWith(`${rt.baseUrl}/portal#token=pst_`)).toBe(true);
    expect(new URL(s.url).search).toBe('');
    expect(s.token).not.toContain(rt.apiKey);
    const expires = Date.parse(s.expires_at);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);

    const viaToken = await s.api.get(WEBHOOKS);
    expect(viaToken.status).toBe(200);
    expect(ids(viaToken).sort()).toEqual(ids(await tenant.get(WEBHOOKS)).sort());
    expect((await s.api.get('/api/v1/event-types')).status).toBe(200);
  });

  it('lasts at most 24 h: a longer or a non-positive expires_in is a 400, and so is an unknown field', async () => {
    const longest = await session({ expires_in: MAX_PORTAL_TTL_SECONDS });
    expect(Date.parse(longest.expires_at) - Date.now()).toBeGreaterThan((MAX_PORTAL_TTL_SECONDS - 60) * 1000);
    for (const body of [{ expires_in: MAX_PORTAL_TTL_SECONDS + 1 }, { expires_in: 0 }, { expires_in: -5 }, { expires_in: 1.5 }, { expires_in: '60' }, { scope: 'all' }]) {
      expectJsonError(await tenant.post(SESSIONS, body), 400);
    }
  });

  it('only scopes to webhooks of its own tenant', async () => {
    const other = await createTenant(rt);
    const theirs = await createWebhook(other.api, { url: 'http://127.0.0.1:9/c', events: ['*'] });
    expectJsonError(await tenant.post(SESSIONS, { webhook_ids: [theirs.id] }), 400);
    expectJsonError(await tenant.post(SESSIONS, { webhook_ids: ['wh_00000000000000000000000000'] }), 400);
    expectJsonError(await tenant.post(SESSIONS, { webhook_ids: ['not-an-id'] }), 400);
    // And a token of one tenant never sees another's webhooks.
    const s = await session({}, other.api);
    expect(ids(await s.api.get(WEBHOOKS))).toEqual([theirs.id]);
    expectJsonError(await s.api.get(`${WEBHOOKS}/${hooks.a.id}`), 404);
  });
});

describe('what a portal token may not do', () => {
  it('make or revoke portal sessions or publish events (403), or call the admin API (401)', async () => {
    const s = await session();
    expectJsonError(await s.api.post(SESSIONS, {}), 403);
    expectJsonError(await s.api.post(SESSIONS, { expires_in: 60 }), 403);
    expectJsonError(await s.api.del(`${SESSIONS}/${s.id}`), 403);
    // Refused as what it is, and not counted as a wrong key: past the wrong-key limit (20 a
    // minute from one address) an unknown key still gets its 401, not a 429.
    for (let i = 0; i < 25; i++) expectJsonError(await s.api.post('/v1/events', { event: 'webhook.test', data: {} }), 403);
    expectJsonError(await api(rt.baseUrl, `hk_unknown_${randomBytes(8).toString('hex')}`).get(WEBHOOKS), 401);
    expectJsonError(await s.api.get('/admin/v1/tenants/default/keys'), 401);
    // The session still works: nothing above revoked it.
    expect((await s.api.get(WEBHOOKS)).status).toBe(200);
  });

  it('a read-only token reads, and every write is a 403 that changes nothing', async () => {
    const s = await session({ read_only: true });
    expect((await s.api.get(`${WEBHOOKS}/${hooks.a.id}`)).status).toBe(200);
    expect((await s.api.get(`${WEBHOOKS}/${hooks.a.id}/deliveries`)).status).toBe(200);
    const base = `${WEBHOOKS}/${hooks.a.id}`;
    expectJsonError(await s.api.patch(base, { description: 'changed' }), 403);
    expectJsonError(await s.api.post(base + '/test'), 403);
    expectJsonError(await s.api.post(base + '/rotate-secret', {}), 403);
    expectJsonError(await s.api.post(base + '/recover', { since: new Date().toISOString() }), 403);
    expectJsonError(await s.api.del(base), 403);
    expectJsonError(await s.api.post(WEBHOOKS, { url: 'http://127.0.0.1:9/new', events: ['*'] }), 403);
    const after = await tenant.get(base);
    expect(after.json.description).toBe('portal');
    expect(ids(await tenant.get(WEBHOOKS))).toHaveLength(2);
  });

  it('a token scoped to one webhook lists only it, and any other is a 404 as if absent', async () => {
    const s = await session({ webhook_ids: [hooks.a.id] });
    expect(ids(await s.api.get(WEBHOOKS))).toEqual([hooks.a.id]);
    expect((await s.api.get(`${WEBHOOKS}/${hooks.a.id}`)).status).toBe(200);
    const other = `${WEBHOOKS}/${hooks.b.id}`;
    expectJsonError(await s.api.get(other), 404);
    expectJsonError(await s.api.get(`${other}/deliveries`), 404);
    expectJsonError(await s.api.patch(other, { description: 'changed' }), 404);
    expectJsonError(await s.api.post(`${other}/test`), 404);
    expectJsonError(await s.api.del(other), 404);
    expectJsonError(await s.api.post(WEBHOOKS, { url: 'http://127.0.0.1:9/new', events: ['*'] }), 403);
    expect((await tenant.get(other)).json.description).toBe('portal');
    // Within its scope it may write.
    const changed = await s.api.patch(`${WEBHOOKS}/${hooks.a.id}`, { description: 'portal' });
    expect(changed.status).toBe(200);
  });

  it('a token scoped to some webhooks pages them as asked, and refuses a cursor (its list gives none)', async () => {
    const s = await session({ webhook_ids: [hooks.a.id, hooks.b.id] });
    const first = await s.api.get(`${WEBHOOKS}?per_page=1`);
    expect(ids(first)).toEqual([hooks.a.id]);
    expect(first.json).toMatchObject({ page: 1, per_page: 1 });
    const second = await s.api.get(`${WEBHOOKS}?per_page=1&page=2`);
    expect(ids(second)).toEqual([hooks.b.id]);
    expect(second.json).toMatchObject({ page: 2, per_page: 1 });
    expect(ids(await s.api.get(`${WEBHOOKS}?per_page=1&page=3`))).toEqual([]);
    expectJsonError(await s.api.get(`${WEBHOOKS}?cursor=garbage`), 400);
  });
});

describe('a token that gets 401 and no data', () => {
  it('forged: a changed signature, a changed payload, another key, or garbage', async () => {
    const s = await session();
    const [payload, signature] = s.token.slice('pst_'.length).split('.') as [string, string];
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherTenant = Buffer.from(JSON.stringify({ ...claims, t: 'ten_other' })).toString('base64url');
    const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 86_400 })).toString('base64url');
    const ownKey = (p: string) => `pst_${p}.${createHmac('sha256', randomBytes(32)).update(`pst_${p}`).digest('base64url')}`;
    for (const forged of [
      `pst_${payload}.${flipped}`,
      `pst_${otherTenant}.${signature}`,
      `pst_${longer}.${signature}`,
      ownKey(payload),
      `pst_${payload}`,
      'pst_',
      `pst_${payload}.${signature}x`,
    ]) {
      refused(await api(rt.baseUrl, forged).get(WEBHOOKS));
    }
  });

  it('expired: a clear message once its time is up', async () => {
    const s = await session({ expires_in: 1 });
    const res = await eventually('the short session to expire', async () => {
      const r = await s.api.get(WEBHOOKS);
      return r.status === 401 ? r : undefined;
    });
    refused(res);
    expect(res.json.error).toMatch(/expired/i);
  });

  it('revoked: at once, by the tenant only; revoking an unknown session is a 404', async () => {
    const s = await session();
    expect((await s.api.get(WEBHOOKS)).status).toBe(200);
    const other = await createTenant(rt);
    expectJsonError(await other.api.del(`${SESSIONS}/${s.id}`), 404);
    expect((await s.api.get(WEBHOOKS)).status).toBe(200);

    const revoked = await tenant.del(`${SESSIONS}/${s.id}`);
    expect(revoked.status).toBe(204);
    const res = await s.api.get(WEBHOOKS);
    refused(res);
    expect(res.json.error).toMatch(/revoked/i);
    refused(await s.api.get(`${WEBHOOKS}/${hooks.a.id}`));
    expectJsonError(await tenant.del(`${SESSIONS}/pss_00000000000000000000000000`), 404);
    expectJsonError(await tenant.del(`${SESSIONS}/nonsense`), 404);
  });
});

it('the signing key is a 0600 secret file of the data directory, made on first use', async () => {
  const file = join(rt.dataDir, 'secrets', `${encodeURIComponent('hookline/portal-signing-key')}.secret`);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
});
