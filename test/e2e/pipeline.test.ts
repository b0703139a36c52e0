/**
 * End to end through the one-machine runtime (`node infra/local/main.mjs` as a child process):
 * webhooks are created over HTTP, events published over HTTP, and a real HTTP receiver checks
 * what arrives, the way a customer's endpoint would (CONTRACT.md sections 1-5 and 7).
 */
import { randomUUID } from 'node:crypto';
import { ROUTES } from '../../shared/http/routes.ts';
import { createTenant, verifyHex, verifyStandardWebhooks, verifyWebhook, WEBHOOKS, createWebhook, publish } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, sleep, startRuntime, type Api, type Runtime } from '../support/runtime.ts';

/** How long to keep listening to be sure that something does NOT arrive. */
const QUIET_MS = 1_500;

const NETRECON_TYPES = [
  'alert.created', 'alert.resolved', 'scan.started', 'scan.completed', 'scan.failed', 'device.discovered', 'device.offline',
  'ids.alert', 'honeypot.hit', 'rogue.detected', 'cve.matched', 'backup.completed', 'backup.failed', 'anomaly.detected',
];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let rt: Runtime;
let tenant: Api;
const receivers: Receiver[] = [];

async function receiver(status = 200): Promise<Receiver> {
  const r = await startReceiver({ status });
  receivers.push(r);
  return r;
}

/** The deliveries log of a webhook once it holds at least n attempts. */
async function deliveriesLog(client: Api, webhookId: string, n: number): Promise<any[]> {
  return eventually(`${n} attempt(s) in the deliveries log of ${webhookId}`, async () => {
    const res = await client.get(`${WEBHOOKS}/${webhookId}/deliveries?page=1&per_page=25`);
    expect(res.status).toBe(200);
    return res.json.items.length >= n ? (res.json.items as any[]) : undefined;
  });
}

beforeAll(async () => {
  rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0,1' } });
  tenant = api(rt.baseUrl, rt.apiKey);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

describe('webhooks and what a receiver gets', () => {
  it('creates a webhook without a secret: 201 with a generated whsec_ secret shown once, then only auth.type', async () => {
    const r = await receiver();
    const created = await createWebhook(tenant, { url: `${r.url}/hooks/netrecon`, events: ['scan.*'], description: 'scanner results' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(created).toMatchObject({
      url: `${r.url}/hooks/netrecon`,
      events: ['scan.*'],
      active: true,
      status: 'healthy',
      description: 'scanner results',
      format: 'standard',
      auth: { type: 'none' },
      owner_email: 'owner@localhost',
    });
    expect(typeof created.id).toBe('string');
    expect(created.created_at).toMatch(ISO);
    expect(created.updated_at).toMatch(ISO);

    const got = await tenant.get(`${WEBHOOKS}/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.json).not.toHaveProperty('secret');
    // The default owner address, as handed out, is taken back (it has no dotted domain).
    expect((await tenant.patch(`${WEBHOOKS}/${created.id}`, { owner_email: got.json.owner_email })).status).toBe(200);
    expect(got.json.auth).toEqual({ type: 'none' });
    const { secret: _secret, ...view } = created;
    expect(got.json).toEqual(view);
    expect(got.text).not.toContain(created.secret.slice('whsec_'.length));

    const list = await tenant.get(`${WEBHOOKS}?page=1&per_page=100`);
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ page: 1, per_page: 100, has_more: false });
    expect(list.json.items.map((w: any) => w.id)).toContain(created.id);
    expect(list.text).not.toContain(created.secret.slice('whsec_'.length));

    // The bootstrap tenant's events reach it with tenant_id "default".
    const [id] = await publish(tenant, { event: 'scan.completed', data: { scan_id: 'bootstrap' } });
    const [req] = await r.waitFor(1);
    expect(req!.path).toBe('/hooks/netrecon');
    expect(req!.json).toMatchObject({ id, event: 'scan.completed', tenant_id: 'default', data: { scan_id: 'bootstrap' } });
    expect(verifyHex(req!, created.secret)).toBe(true);
    await tenant.del(`${WEBHOOKS}/${created.id}`);
  });

  it('delivers scan.completed as the standard body, signed for the seed snippet and for Standard Webhooks', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.*'] });
    const data = { scan_id: 'scan-42', hosts_up: 3, open_ports: [22, 443], note: 'café ✓', nested: { ok: true, none: null } };
    const published = await t.api.post('/v1/events', { event: 'scan.completed', data, timestamp: '2026-03-15T10:30:00Z' });
    expect(published.status).toBe(202);
    expect(published.json.ids).toHaveLength(1);
    const id: string = published.json.ids[0];

    const [req] = await r.waitFor(1);
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toMatch(/^application\/json\b/);
    expect(req!.headers['user-agent']).toMatch(/^Hookline\/\S+/);
    expect(Object.keys(req!.json).sort()).toEqual(['data', 'event', 'id', 'tenant_id', 'timestamp']);
    expect(req!.json).toMatchObject({ id, event: 'scan.completed', tenant_id: t.id, data });
    expect(req!.json.timestamp).toMatch(ISO);
    expect(Date.parse(req!.json.timestamp)).toBe(Date.parse('2026-03-15T10:30:00Z'));

    // The seed's own snippet, fed the raw body, the header and the secret string exactly as given.
    const signature = req!.headers['x-hookline-signature'];
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook(req!.rawBody, signature as string, hook.secret)).toBe(true);
    expect(verifyWebhook(req!.body, signature as string, hook.secret)).toBe(true);
    expect(verifyWebhook(req!.rawBody, signature as string, `${hook.secret}x`)).toBe(false);
    expect(verifyHex({ ...req!, rawBody: Buffer.from(req!.body.replace('scan-42', 'scan-43')) }, hook.secret)).toBe(false);

    // Standard Webhooks, checked by the reference package.
    expect(req!.headers['webhook-id']).toBe(id);
    expect(req!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(req!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/);
    expect(verifyStandardWebhooks(req!, hook.secret)).toEqual(req!.json);
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(() => verifyStandardWebhooks(req!, other)).toThrow();
    // Without a bearer/basic/header auth there is no Authorization header.
    expect(req!.headers['authorization']).toBeUndefined();
  });

  it('sends Authorization: Bearer <token> for bearer auth and never shows the token', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const token = `tok_${randomUUID()}`;
    const res = await t.api.post(WEBHOOKS, { url: r.url, events: ['scan.completed'], auth: { type: 'bearer', token } });
    expect(res.status).toBe(201);
    expect(res.json.auth).toEqual({ type: 'bearer' });
    expect(res.text).not.toContain(token);
    const got = await t.api.get(`${WEBHOOKS}/${res.json.id}`);
    expect(got.status).toBe(200);
    expect(got.json.auth).toEqual({ type: 'bearer' });
    expect(got.text).not.toContain(token);
    const list = await t.api.get(WEBHOOKS);
    expect(list.text).not.toContain(token);

    const [id] = await publish(t.api, { event: 'scan.completed', data: { scan_id: 'auth' } });
    const [req] = await r.waitFor(1);
    expect(req!.json.id).toBe(id);
    expect(req!.headers['authorization']).toBe(`Bearer ${token}`);
    expect(verifyHex(req!, res.json.secret)).toBe(true);
    expect(() => verifyStandardWebhooks(req!, res.json.secret)).not.toThrow();
    expect(rt.stdout() + rt.stderr()).not.toContain(token);
  });

  it('signs with a secret the customer chose (UTF-8 bytes for both signatures) and does not echo it', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const secret = 'my-own-secret-20char';
    expect(secret).toHaveLength(20);
    const res = await t.api.post(WEBHOOKS, { url: r.url, events: ['scan.completed'], secret });
    expect(res.status).toBe(201);
    expect(res.json).not.toHaveProperty('secret');
    expect(res.text).not.toContain(secret);

    const [id] = await publish(t.api, { event: 'scan.completed', data: { scan_id: 'own-secret' } });
    const [req] = await r.waitFor(1);
    expect(req!.headers['webhook-id']).toBe(id);
    expect(verifyWebhook(req!.rawBody, req!.headers['x-hookline-signature'] as string, secret)).toBe(true);
    expect(() => verifyStandardWebhooks(req!, secret)).not.toThrow();
    expect(rt.stdout() + rt.stderr()).not.toContain(secret);
  });

  it('delivers an event id published twice (alone and inside a batch) exactly once', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    await createWebhook(t.api, { url: r.url, events: ['scan.*'] });
    const id = `scan-${randomUUID()}`;
    const other = `scan-${randomUUID()}`;
    expect(await publish(t.api, { id, event: 'scan.completed', data: { run: 1 } })).toEqual([id]);
    await r.waitFor(1);
    expect(await publish(t.api, { id, event: 'scan.completed', data: { run: 2 } })).toEqual([id]);
    expect(
      await publish(t.api, {
        events: [
          { id, event: 'scan.completed', data: { run: 3 } },
          { id: other, event: 'scan.started', data: { run: 1 } },
        ],
      }),
    ).toEqual([id, other]);
    await r.waitFor(2);
    await sleep(QUIET_MS);
    expect(r.requests.map((q) => q.json.id).sort()).toEqual([id, other].sort());
    expect(r.requests.find((q) => q.json.id === id)!.json.data).toEqual({ run: 1 });
  });

  it('delivers every event of a batch to the webhooks whose patterns match, and nothing to an inactive webhook', async () => {
    const t = await createTenant(rt);
    const [rExact, rAlerts, rAll, rInactive] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    await createWebhook(t.api, { url: rExact.url, events: ['scan.completed', 'scan.failed'] });
    await createWebhook(t.api, { url: rAlerts.url, events: ['alert.*'] });
    await createWebhook(t.api, { url: rAll.url, events: ['*'] });
    const inactive = await createWebhook(t.api, { url: rInactive.url, events: ['*'], active: false });
    expect(inactive.active).toBe(false);

    const types = ['scan.completed', 'scan.failed', 'scan.started', 'alert.created', 'device.offline', 'alert.resolved'];
    const ids = await publish(t.api, { events: types.map((event, i) => ({ event, data: { n: i } })) });
    expect(ids).toHaveLength(types.length);
    expect(new Set(ids).size).toBe(types.length);
    const idOf = Object.fromEntries(types.map((type, i) => [type, ids[i]]));

    await Promise.all([rAll.waitFor(6), rExact.waitFor(2), rAlerts.waitFor(2)]);
    await sleep(QUIET_MS);
    const received = (r: Receiver) => r.requests.map((q) => `${q.json.event} ${q.json.id} ${q.json.data.n}`).sort();
    const expected = (list: string[]) => list.map((type) => `${type} ${idOf[type]} ${types.indexOf(type)}`).sort();
    expect(received(rAll)).toEqual(expected(types));
    expect(received(rExact)).toEqual(expected(['scan.completed', 'scan.failed']));
    expect(received(rAlerts)).toEqual(expected(['alert.created', 'alert.resolved']));
    expect(rInactive.requests).toHaveLength(0);
  });
});

describe('body formats', () => {
  it('sends the body of each format, signed the same way', async () => {
    const t = await createTenant(rt);
    const formats = ['standard', 'wrapped', 'subject_body', 'data', 'cloudevents'] as const;
    const hooks: Record<string, { r: Receiver; secret: string }> = {};
    for (const format of formats) {
      const r = await receiver();
      const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'], format });
      expect(hook.format).toBe(format);
      hooks[format] = { r, secret: hook.secret };
    }
    const data = { scan_id: 'fmt-1', hosts_up: 2, target: '10.0.0.0/24' };
    const timestamp = '2026-03-15T10:30:00Z';
    const [id] = await publish(t.api, { event: 'scan.completed', data, timestamp });
    const got: Record<string, any> = {};
    for (const format of formats) {
      const { r, secret } = hooks[format]!;
      const [req] = await r.waitFor(1);
      // CloudEvents goes out in structured mode (format-receivers.test.ts runs the SDK on it).
      expect(req!.headers['content-type']).toMatch(format === 'cloudevents' ? /^application\/cloudevents\+json\b/ : /^application\/json\b/);
      expect(verifyHex(req!, secret)).toBe(true);
      expect(req!.headers['webhook-id']).toBe(id);
      expect(() => verifyStandardWebhooks(req!, secret)).not.toThrow();
      got[format] = req!.json;
    }
    expect(got['standard']).toEqual({ id, event: 'scan.completed', timestamp: got['standard'].timestamp, tenant_id: t.id, data });
    expect(got['data']).toEqual(data);
    expect(got['wrapped']).toEqual({
      event: { type: 'scan.completed', data, version: 1 },
      time: Date.parse(timestamp) / 1000,
      host: got['wrapped'].host,
    });
    expect(got['subject_body'].subject).toBe('Scan completed');
    expect(typeof got['subject_body'].body).toBe('string');
    for (const value of ['fmt-1', '10.0.0.0/24']) expect(got['subject_body'].body).toContain(value);
    expect(got['cloudevents']).toMatchObject({ specversion: '1.0', id, type: 'scan.completed', datacontenttype: 'application/json', data });
    expect(Date.parse(got['cloudevents'].time)).toBe(Date.parse(timestamp));
    expect(typeof got['cloudevents'].source).toBe('string');
    expect(got['cloudevents'].source.length).toBeGreaterThan(0);
    expect(typeof got['wrapped'].host).toBe('string');
    expect(got['wrapped'].host.length).toBeGreaterThan(0);
  });

  it('names the deployment host by the port it listens on, not the "<host>:0" it was asked for (PORT=0)', async () => {
    const t = await createTenant(rt);
    const [rWrapped, rCloud] = await Promise.all([receiver(), receiver()]);
    await createWebhook(t.api, { url: rWrapped.url, events: ['scan.started'], format: 'wrapped' });
    await createWebhook(t.api, { url: rCloud.url, events: ['scan.started'], format: 'cloudevents' });
    await publish(t.api, { event: 'scan.started', data: { scan_id: 'host' } });
    const [[wrapped], [cloud]] = await Promise.all([rWrapped.waitFor(1), rCloud.waitFor(1)]);
    expect(wrapped!.json.host).not.toMatch(/:0$/);
    expect(cloud!.json.source).not.toMatch(/:0(\/|$)/);
  });
});

describe('the deliveries log', () => {
  it('lists attempts newest first, paginated', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'] });
    const [first] = await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    await r.waitFor(1);
    await deliveriesLog(t.api, hook.id, 1);
    await sleep(20);
    const [second] = await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    await r.waitFor(2);
    await deliveriesLog(t.api, hook.id, 2);

    const res = await t.api.get(`${WEBHOOKS}/${hook.id}/deliveries?page=1&per_page=25`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ page: 1, per_page: 25, has_more: false });
    expect(res.json.items.map((a: any) => a.event_id)).toEqual([second, first]);
    for (const a of res.json.items) {
      expect(a).toMatchObject({ attempt: 1, success: true, status_code: 200, event: 'scan.completed' });
      expect(typeof a.id).toBe('string');
      expect(typeof a.delivery_id).toBe('string');
      expect(typeof a.response_time_ms).toBe('number');
      expect(a.response_time_ms).toBeGreaterThanOrEqual(0);
      expect(a.attempted_at).toMatch(ISO);
    }
    expect(Date.parse(res.json.items[0].attempted_at)).toBeGreaterThanOrEqual(Date.parse(res.json.items[1].attempted_at));
    expect(res.json.items[0].delivery_id).not.toBe(res.json.items[1].delivery_id);

    const page1 = await t.api.get(`${WEBHOOKS}/${hook.id}/deliveries?page=1&per_page=1`);
    expect(page1.status).toBe(200);
    expect(page1.json).toMatchObject({ page: 1, per_page: 1, has_more: true });
    expect(page1.json.items.map((a: any) => a.event_id)).toEqual([second]);
    const page2 = await t.api.get(`${WEBHOOKS}/${hook.id}/deliveries?page=2&per_page=1`);
    expect(page2.status).toBe(200);
    expect(page2.json).toMatchObject({ page: 2, per_page: 1, has_more: false });
    expect(page2.json.items.map((a: any) => a.event_id)).toEqual([first]);
  });

  it('logs an attempt answered 500 as failed with its status code', async () => {
    const t = await createTenant(rt);
    const r = await receiver(500);
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.failed'] });
    const [id] = await publish(t.api, { event: 'scan.failed', data: { reason: 'timeout' } });
    await r.waitFor(1);
    const items = await deliveriesLog(t.api, hook.id, 1);
    const first = items.find((a) => a.attempt === 1);
    expect(first).toMatchObject({ event_id: id, event: 'scan.failed', attempt: 1, success: false, status_code: 500 });
    expect(typeof first.response_time_ms).toBe('number');
    expect(first.attempted_at).toMatch(ISO);
    for (const a of items) expect(a).toMatchObject({ event_id: id, success: false, status_code: 500 });
  });
});

describe('test event, update and delete', () => {
  it('POST /{id}/test sends a signed webhook.test event now and answers with the outcome', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'] });
    const res = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
    expect(typeof res.json.response_time_ms).toBe('number');
    expect(r.requests.length).toBeGreaterThanOrEqual(1);
    const [req] = await r.waitFor(1);
    expect(req!.json).toMatchObject({ event: 'webhook.test', tenant_id: t.id });
    expect(verifyHex(req!, hook.secret)).toBe(true);
    expect(() => verifyStandardWebhooks(req!, hook.secret)).not.toThrow();

    const failing = await receiver(500);
    const bad = await createWebhook(t.api, { url: failing.url, events: ['scan.completed'] });
    const badRes = await t.api.post(`${WEBHOOKS}/${bad.id}/test`);
    expect(badRes.status).toBe(200);
    expect(badRes.json).toMatchObject({ delivered: false, status_code: 500 });
    // Logged like a scheduled attempt, with what the receiver answered.
    const logged = (await t.api.get(`${WEBHOOKS}/${bad.id}/deliveries`)).json.items;
    expect(logged).toEqual([expect.objectContaining({ trigger: 'test', success: false, status_code: 500, response_body: '{"ok":false}' })]);
  });

  it('PATCH changes what a webhook receives; DELETE removes it', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['alert.*'] });

    const patched = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { events: ['scan.completed'], description: 'now scans' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id: hook.id, events: ['scan.completed'], description: 'now scans', active: true });
    expect(patched.json).not.toHaveProperty('secret');
    expect(Date.parse(patched.json.updated_at)).toBeGreaterThanOrEqual(Date.parse(hook.updated_at));
    expect((await t.api.get(`${WEBHOOKS}/${hook.id}`)).json.events).toEqual(['scan.completed']);

    await publish(t.api, { event: 'alert.created', data: { n: 0 } });
    const [first] = await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    await r.waitFor(1);

    const off = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { active: false });
    expect(off.status).toBe(200);
    expect(off.json.active).toBe(false);
    await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    await sleep(QUIET_MS);
    expect(r.requests.map((q) => q.json.id)).toEqual([first]);

    const on = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { active: true });
    expect(on.status).toBe(200);
    const [third] = await publish(t.api, { event: 'scan.completed', data: { n: 3 } });
    await r.waitFor(2);
    // The old signing secret still applies after a PATCH that did not change it.
    expect(verifyHex(r.requests[1]!, hook.secret)).toBe(true);

    const deleted = await t.api.del(`${WEBHOOKS}/${hook.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await t.api.get(`${WEBHOOKS}/${hook.id}`);
    expect(gone.status).toBe(404);
    expect(typeof gone.json.error).toBe('string');
    expect((await t.api.get(WEBHOOKS)).json.items).toEqual([]);
    expect((await t.api.del(`${WEBHOOKS}/${hook.id}`)).status).toBe(404);
    expect((await t.api.patch(`${WEBHOOKS}/${hook.id}`, { active: false })).status).toBe(404);

    await publish(t.api, { event: 'scan.completed', data: { n: 4 } });
    await sleep(QUIET_MS);
    expect(r.requests.map((q) => q.json.id)).toEqual([first, third]);
  });
});

describe('catalogue and API description', () => {
  it('GET /api/v1/event-types lists the 14 NetRecon types and webhook.test', async () => {
    const res = await tenant.get('/api/v1/event-types');
    expect(res.status).toBe(200);
    const types = res.json.items.map((i: any) => i.type);
    expect([...types].sort()).toEqual([...NETRECON_TYPES, 'webhook.test'].sort());
    for (const item of res.json.items) {
      expect(typeof item.title).toBe('string');
      expect(item.title.length).toBeGreaterThan(0);
      expect(typeof item.description).toBe('string');
    }
    expect(res.json.items.find((i: any) => i.type === 'honeypot.hit').description).toBe('Honeypot interaction');
  });

  it('GET /openapi.json is an OpenAPI 3.1 document with every route', async () => {
    const res = await api(rt.baseUrl, undefined).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\.1\./);
    expect(typeof res.json.info?.title).toBe('string');
    const missing = ROUTES.filter((r) => !res.json.paths?.[r.path]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });
});

describe('admin API and keys', () => {
  it('creates a tenant with the admin key: 201 {tenant_id, api_key}, and the new key works', async () => {
    const admin = api(rt.baseUrl, rt.adminKey);
    const res = await admin.post('/admin/v1/tenants', { name: 'acme', owner_email: 'ops@acme.example' });
    expect(res.status).toBe(201);
    expect(typeof res.json.tenant_id).toBe('string');
    expect(typeof res.json.api_key).toBe('string');
    expect(res.json.api_key.length).toBeGreaterThanOrEqual(20);
    const acme = api(rt.baseUrl, res.json.api_key);
    const list = await acme.get(WEBHOOKS);
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([]);
    // The owner email of the tenant is the default owner of its webhooks.
    const r = await receiver();
    expect((await createWebhook(acme, { url: r.url, events: ['*'] })).owner_email).toBe('ops@acme.example');

    // An address at localhost, as the bootstrap tenant's default, is one too.
    expect((await admin.post('/admin/v1/tenants', { name: 'acme-local', owner_email: 'ops@localhost' })).status).toBe(201);
    const again = await admin.post('/admin/v1/tenants', { name: 'acme-2', owner_email: 'ops@acme.example' });
    expect(again.status).toBe(201);
    expect(again.json.tenant_id).not.toBe(res.json.tenant_id);
    expect(again.json.api_key).not.toBe(res.json.api_key);

    const invalid = await admin.post('/admin/v1/tenants', { name: 'no-email' });
    expect(invalid.status).toBe(400);
    expect(typeof invalid.json.error).toBe('string');
  });

  it('keeps tenant keys off admin routes and the admin key off tenant routes (401 with a JSON error)', async () => {
    const body = { name: 'intruder', owner_email: 'x@example.com' };
    const asTenant = await tenant.post('/admin/v1/tenants', body);
    const anonymous = await api(rt.baseUrl, undefined).post('/admin/v1/tenants', body);
    const wrong = await api(rt.baseUrl, `${rt.adminKey}x`).post('/admin/v1/tenants', body);
    const admin = api(rt.baseUrl, rt.adminKey);
    const adminOnTenant = [
      await admin.get(WEBHOOKS),
      await admin.post(WEBHOOKS, { url: 'https://example.com/hook', events: ['*'] }),
      await admin.post('/v1/events', { event: 'scan.completed', data: {} }),
      await admin.get('/api/v1/event-types'),
    ];
    for (const res of [asTenant, anonymous, wrong, ...adminOnTenant]) {
      expect(res.status).toBe(401);
      expect(typeof res.json?.error).toBe('string');
      expect(res.json.error.length).toBeGreaterThan(0);
    }
  });
});
