/**
 * Tenants cannot see or reach each other's webhooks and events; bad requests are refused with the
 * right 4xx and a JSON `{error}`, and nothing of a refused request is kept (CONTRACT.md 2-4).
 */
import { randomUUID } from 'node:crypto';
import { createTenant, WEBHOOKS, createWebhook } from '../support/hookline.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, sleep, startRuntime, type ApiResponse, type Runtime } from '../support/runtime.ts';

const QUIET_MS = 1_500;

let rt: Runtime;
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

function expectError(res: ApiResponse, status: number): void {
  expect({ status: res.status, body: res.text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
  expect(typeof res.json?.error).toBe('string');
  expect(res.json.error.length).toBeGreaterThan(0);
}

beforeAll(async () => {
  rt = await startRuntime();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

describe('tenant isolation', () => {
  let a: Awaited<ReturnType<typeof createTenant>>;
  let b: Awaited<ReturnType<typeof createTenant>>;
  let rA: Receiver;
  let rB: Receiver;
  let hookA: any;
  let hookB: any;

  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant(rt, 'tenant-a'), createTenant(rt, 'tenant-b')]);
    [rA, rB] = await Promise.all([receiver(), receiver()]);
    hookA = await createWebhook(a.api, { url: `${rA.url}/a-private-path`, events: ['scan.*'], description: 'A only' });
    hookB = await createWebhook(b.api, { url: rB.url, events: ['scan.*'] });
  });

  it("answers 404 (never 403, never its data) to another tenant's webhook on every route", async () => {
    const path = `${WEBHOOKS}/${hookA.id}`;
    const answers = {
      get: await b.api.get(path),
      patch: await b.api.patch(path, { active: false, events: ['*'] }),
      delete: await b.api.del(path),
      test: await b.api.post(`${path}/test`),
      deliveries: await b.api.get(`${path}/deliveries?page=1&per_page=25`),
    };
    for (const res of Object.values(answers)) {
      expectError(res, 404);
      expect(res.text).not.toContain('a-private-path');
      expect(res.text).not.toContain('A only');
    }
    const list = await b.api.get(`${WEBHOOKS}?per_page=100`);
    expect(list.status).toBe(200);
    expect(list.json.items.map((w: any) => w.id)).toEqual([hookB.id]);

    // Nothing B tried changed A's webhook, and B's test did not reach A's receiver.
    const still = await a.api.get(path);
    expect(still.status).toBe(200);
    expect(still.json).toMatchObject({ id: hookA.id, active: true, events: ['scan.*'] });
    expect(rA.requests).toHaveLength(0);
  });

  it("delivers a tenant's events to its own webhooks only", async () => {
    const [fromB] = (await b.api.post('/v1/events', { event: 'scan.completed', data: { who: 'b' } })).json.ids;
    await rB.waitFor(1);
    const [fromA] = (await a.api.post('/v1/events', { event: 'scan.completed', data: { who: 'a' } })).json.ids;
    await rA.waitFor(1);
    await sleep(QUIET_MS);
    expect(rA.requests.map((q) => [q.json.id, q.json.tenant_id, q.json.data.who])).toEqual([[fromA, a.id, 'a']]);
    expect(rB.requests.map((q) => [q.json.id, q.json.tenant_id, q.json.data.who])).toEqual([[fromB, b.id, 'b']]);
    // Each tenant's log holds its own deliveries only.
    const logA = await a.api.get(`${WEBHOOKS}/${hookA.id}/deliveries`);
    expect(logA.status).toBe(200);
    expect(logA.json.items.every((i: any) => i.event_id === fromA)).toBe(true);
  });

  it('keeps idempotency keys per tenant: the same id from two tenants is two events', async () => {
    const id = `shared-${randomUUID()}`;
    const before = { a: rA.requests.length, b: rB.requests.length };
    expect((await a.api.post('/v1/events', { id, event: 'scan.started', data: { who: 'a' } })).json.ids).toEqual([id]);
    expect((await b.api.post('/v1/events', { id, event: 'scan.started', data: { who: 'b' } })).json.ids).toEqual([id]);
    await Promise.all([rA.waitFor(before.a + 1), rB.waitFor(before.b + 1)]);
    await sleep(QUIET_MS);
    expect(rA.requests.slice(before.a).map((q) => [q.json.id, q.json.tenant_id, q.json.data.who])).toEqual([[id, a.id, 'a']]);
    expect(rB.requests.slice(before.b).map((q) => [q.json.id, q.json.tenant_id, q.json.data.who])).toEqual([[id, b.id, 'b']]);
  });
});

describe('large events', () => {
  it('an event of nearly 256 KiB of non-ASCII text (CJK and emoji) is accepted, queued and delivered byte for byte', async () => {
    const r = await receiver();
    const t = await createTenant(rt);
    await createWebhook(t.api, { url: r.url, events: ['scan.completed'], format: 'data' });
    // ~250 KB of UTF-8: escaped as \u sequences it would have been 500-750 KB.
    const data = { cjk: '字'.repeat(50_000), emoji: '😀'.repeat(25_000) };
    const res = await t.api.post('/v1/events', { event: 'scan.completed', data });
    expect(res.status).toBe(202);
    const [req] = await r.waitFor(1, 20_000);
    expect(req!.json).toEqual(data);
    expect(req!.rawBody.equals(Buffer.from(JSON.stringify(data), 'utf8'))).toBe(true);
  });
});

describe('bad input is refused and nothing of it is kept', () => {
  let t: Awaited<ReturnType<typeof createTenant>>;
  let r: Receiver;
  let hook: any;
  const goodInBadBatch = `good-${randomUUID()}`;

  beforeAll(async () => {
    t = await createTenant(rt, 'tenant-input');
    r = await receiver();
    // Listens to everything: any event that was kept would arrive here.
    hook = await createWebhook(t.api, { url: r.url, events: ['*'] });
  });

  it('malformed JSON: 400', async () => {
    expectError(await t.api.request('POST', '/v1/events', '{"event": "scan.completed", "data": {'), 400);
  });

  it('an unknown event type: 400', async () => {
    expectError(await t.api.post('/v1/events', { event: 'scan.exploded', data: { x: 1 } }), 400);
  });

  it('a missing event or data, or no body at all: 400', async () => {
    expectError(await t.api.post('/v1/events', { event: 'scan.completed' }), 400);
    expectError(await t.api.post('/v1/events', { data: { x: 1 } }), 400);
    expectError(await t.api.request('POST', '/v1/events'), 400);
  });

  it('an id over 128 characters: 400', async () => {
    expectError(await t.api.post('/v1/events', { id: 'x'.repeat(129), event: 'scan.completed', data: {} }), 400);
  });

  it('a body over 256 KiB: 413', async () => {
    const body = { event: 'scan.completed', data: { blob: 'x'.repeat(300 * 1024) } };
    expectError(await t.api.post('/v1/events', body), 413);
  });

  it('a batch of 101 events: 400', async () => {
    const events = Array.from({ length: 101 }, (_, i) => ({ event: 'scan.completed', data: { i } }));
    expectError(await t.api.post('/v1/events', { events }), 400);
  });

  it('a batch with one bad event among good ones: 400', async () => {
    const events = [
      { id: goodInBadBatch, event: 'scan.completed', data: { i: 0 } },
      { event: 'not.a.type', data: { i: 1 } },
      { event: 'alert.created', data: { i: 2 } },
    ];
    expectError(await t.api.post('/v1/events', { events }), 400);
    const missingData = [{ event: 'scan.completed', data: { i: 0 } }, { event: 'scan.failed' }];
    expectError(await t.api.post('/v1/events', { events: missingData }), 400);
  });

  it('a missing or wrong API key: 401', async () => {
    const event = { event: 'scan.completed', data: { sneaky: true } };
    expectError(await api(rt.baseUrl, undefined).post('/v1/events', event), 401);
    expectError(await api(rt.baseUrl, `${t.key}x`).post('/v1/events', event), 401);
    expectError(await api(rt.baseUrl, 'hk_not-a-key').get(WEBHOOKS), 401);
    expectError(await t.api.request('POST', '/v1/events', event, { authorization: `Basic ${Buffer.from(`x:${t.key}`).toString('base64')}` }), 401);
  });

  it('none of the refused events was kept: nothing delivered, and the good id of the bad batch is new later', async () => {
    await sleep(QUIET_MS);
    expect(r.requests.map((q) => q.body)).toEqual([]);
    const log = await t.api.get(`${WEBHOOKS}/${hook.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.json.items).toEqual([]);

    const ids = (await t.api.post('/v1/events', { id: goodInBadBatch, event: 'scan.completed', data: { later: true } })).json.ids;
    expect(ids).toEqual([goodInBadBatch]);
    await r.waitFor(1);
    await sleep(QUIET_MS);
    expect(r.requests.map((q) => [q.json.id, q.json.data])).toEqual([[goodInBadBatch, { later: true }]]);
  });

  it('webhook create with a bad URL, an unknown event pattern or no events: 400 and the list is unchanged', async () => {
    const before = await t.api.get(`${WEBHOOKS}?per_page=100`);
    expect(before.status).toBe(200);
    const bad: unknown[] = [
      { url: 'ftp://files.example.com/hook', events: ['scan.completed'] },
      { url: 'not a url', events: ['scan.completed'] },
      { url: `${r.url}/x`, events: ['scan.exploded'] },
      { url: `${r.url}/x`, events: ['nope.*'] },
      { url: `${r.url}/x` },
      { url: `${r.url}/x`, events: [] },
      { events: ['scan.completed'] },
      { url: `${r.url}/x`, events: ['scan.completed'], secret: 'short' },
      // whsec_ secrets a Standard Webhooks verifier cannot decode (Node would: to other bytes, or none).
      { url: `${r.url}/x`, events: ['scan.completed'], secret: 'whsec_hello-world!' },
      { url: `${r.url}/x`, events: ['scan.completed'], secret: 'whsec_!!!!!!!!' },
      { url: `${r.url}/x`, events: ['scan.completed'], secret: 'whsec_abcdefghi' },
      { url: `${r.url}/x`, events: ['scan.completed'], secret: `whsec_${Buffer.alloc(16).toString('base64')}` },
      { url: `${r.url}/x`, events: ['scan.completed'], auth: { type: 'bearer' } },
      // The URL parser would drop the line break and store another URL than the one sent.
      { url: `${r.url}/x\r\nX-Injected: 1`, events: ['scan.completed'] },
      { url: `${r.url}/x\ty`, events: ['scan.completed'] },
      // Within 2048 characters as written, six times that once percent-encoded (as it is stored and shown).
      { url: `${r.url}/${'\u00e9'.repeat(2000)}`, events: ['scan.completed'] },
    ];
    for (const body of bad) {
      const res = await t.api.post(WEBHOOKS, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expectError(res, 400);
    }
    expectError(await t.api.request('POST', WEBHOOKS, '{"url":'), 400);
    const patch = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: 'ftp://files.example.com/hook' });
    expectError(patch, 400);
    expectError(await t.api.patch(`${WEBHOOKS}/${hook.id}`, { secret: 'whsec_!!!!!!!!' }), 400);

    const after = await t.api.get(`${WEBHOOKS}?per_page=100`);
    expect(after.json.items).toEqual(before.json.items);
    expect(after.json.items.map((w: any) => w.id)).toEqual([hook.id]);
  });
});
