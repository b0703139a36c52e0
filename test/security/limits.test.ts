/**
 * Issue 5, limits: no bad input breaks it, no tenant or webhook takes all the capacity
 * (README "Security": the limits table). Two runtimes: one with small per-tenant/per-webhook
 * limits, one with a tiny rate limit. Receivers are on 127.0.0.1 only.
 */
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import { api, eventually, startRuntime, type Api, type Runtime } from '../support/runtime.ts';
import { expectJsonError, quiet, startProbe, type Probe } from './helpers.ts';

const MAX_BODY = 256 * 1024;

let rt: Runtime;
let limited: Runtime;
const probes: Probe[] = [];
async function probe(options: Parameters<typeof startProbe>[0] = {}): Promise<Probe> {
  const p = await startProbe(options);
  probes.push(p);
  return p;
}

beforeAll(async () => {
  [rt, limited] = await Promise.all([
    startRuntime({
      env: {
        HOOKLINE_RETRY_DELAYS: '0',
        HOOKLINE_MAX_WEBHOOKS_PER_TENANT: '3',
        HOOKLINE_MAX_CONCURRENT_PER_WEBHOOK: '2',
        HOOKLINE_RATE_LIMIT_PER_SECOND: '500',
        HOOKLINE_RATE_LIMIT_BURST: '1000',
      },
    }),
    startRuntime({ env: { HOOKLINE_RATE_LIMIT_PER_SECOND: '2', HOOKLINE_RATE_LIMIT_BURST: '3' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([rt?.cleanup(), limited?.cleanup()]);
  await Promise.all(probes.map((p) => p.close()));
});

async function createWebhook(client: Api, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await client.post(WEBHOOKS, body);
  if (res.status !== 201) throw new Error(`create webhook answered ${res.status}: ${res.text}`);
  return res.json;
}

/** A publish body whose JSON nesting is `levels` deep, counting the body object as level 1. */
function nestedBody(levels: number): string {
  let inner: unknown = { v: 1 };
  for (let level = levels - 1; level >= 2; level--) inner = { a: inner };
  return JSON.stringify({ event: 'scan.completed', data: inner });
}

/** A valid publish body of exactly `bytes` bytes. */
function bodyOfSize(bytes: number): string {
  const base = JSON.stringify({ event: 'scan.completed', data: { pad: '' } });
  const body = JSON.stringify({ event: 'scan.completed', data: { pad: 'x'.repeat(bytes - base.length) } });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

describe('input limits on POST /v1/events and webhooks (nothing of a refused request is kept)', () => {
  let client: Api;
  let sink: Probe;
  /** Ids of every event the API accepted with 202: the only ones the sink may ever see. */
  const accepted: string[] = [];

  beforeAll(async () => {
    const tenant = await createTenant(rt, 'limits-ingest');
    client = tenant.api;
    sink = await probe();
    await createWebhook(client, { url: `${sink.url}/sink`, events: ['*'] });
  });

  async function publish(body: string, status: number) {
    const res = await client.post('/v1/events', body);
    if (status === 202) {
      expect({ status: res.status, body: res.text.slice(0, 300) }).toMatchObject({ status: 202 });
      accepted.push(...res.json.ids);
    } else {
      expectJsonError(res, status);
    }
    return res;
  }

  it('JSON nesting: 40 levels -> 400, 33 -> 400, 32 and 31 -> 202', async () => {
    const res = await publish(nestedBody(40), 400);
    expect(res.json.error).toMatch(/nest/i);
    await publish(nestedBody(33), 400);
    await publish(nestedBody(32), 202);
    await publish(nestedBody(31), 202);
    await publish('['.repeat(40) + ']'.repeat(40), 400);
    // The whole 256 KiB of brackets: still a plain 400, no stack overflow.
    await publish('['.repeat(MAX_BODY / 2) + ']'.repeat(MAX_BODY / 2), 400);
  });

  it('body size: one byte over 256 KiB -> 413, exactly 256 KiB and just under -> 202; bytes are counted, not characters', async () => {
    const res = await publish(bodyOfSize(MAX_BODY + 1), 413);
    expect(res.json.error).toMatch(/large|size|bytes/i);
    await publish(bodyOfSize(MAX_BODY), 202);
    await publish(bodyOfSize(MAX_BODY - 100), 202);
    // 200 000 characters but 400 000 bytes of UTF-8.
    await publish(JSON.stringify({ event: 'scan.completed', data: { pad: 'é'.repeat(200_000) } }), 413);
  });

  it('event id: 129 characters -> 400, 128 -> 202; type name over 100 characters -> 400', async () => {
    await publish(JSON.stringify({ event: 'scan.completed', id: 'a'.repeat(129), data: {} }), 400);
    await publish(JSON.stringify({ event: 'scan.completed', id: `lim-${'b'.repeat(124)}`, data: {} }), 202);
    const res = await publish(JSON.stringify({ event: 'a'.repeat(101), data: {} }), 400);
    expect(JSON.stringify(res.json)).toMatch(/event/);
    await publish(JSON.stringify({ event: `scan.${'x'.repeat(200)}`, data: {} }), 400);
  });

  it('batch: 101 events -> 400 and none of them is kept; 100 -> 202', async () => {
    const batch = (n: number, prefix: string) =>
      JSON.stringify({ events: Array.from({ length: n }, (_, i) => ({ event: 'scan.completed', id: `${prefix}-${i}`, data: { i } })) });
    const res = await publish(batch(101, 'too-many'), 400);
    expect(JSON.stringify(res.json)).toMatch(/events/);
    // (100 events from a tenant without webhooks: the sink's webhook is limited to 2 attempts at once.)
    const quiet100 = await createTenant(rt, 'limits-batch');
    const ok = await quiet100.api.post('/v1/events', batch(100, 'just-right'));
    expect({ status: ok.status, ids: ok.json?.ids?.length }).toEqual({ status: 202, ids: 100 });
  });

  it('webhook URL over 2048 characters -> 400, nothing created', async () => {
    const before = (await client.get(`${WEBHOOKS}?per_page=100`)).json.items.length;
    const url = `${sink.url}/${'p'.repeat(2049 - sink.url.length)}`;
    expect(url.length).toBe(2050);
    expectJsonError(await client.post(WEBHOOKS, { url, events: ['*'] }), 400);
    expect((await client.get(`${WEBHOOKS}?per_page=100`)).json.items).toHaveLength(before);
  });

  it('the sink got exactly the accepted events, each once, and nothing of the refused requests', async () => {
    await sink.waitUntil(`${accepted.length} deliveries`, (rs) => rs.length >= accepted.length, 20_000);
    await quiet(1_000);
    const delivered = sink.requests.map((r) => r.json?.id as string);
    expect(delivered.slice().sort()).toEqual(accepted.slice().sort());
    expect(delivered.some((id) => id?.startsWith('too-many'))).toBe(false);
  });
});

describe('per-tenant webhook limit (HOOKLINE_MAX_WEBHOOKS_PER_TENANT=3)', () => {
  it('the 4th webhook is refused with 409 JSON; after a delete there is room again', async () => {
    const { api: client } = await createTenant(rt, 'limits-webhooks');
    // Inactive webhooks on a closed local port: nothing is ever sent to them.
    const body = { url: 'http://127.0.0.1:9/never', events: ['*'], active: false };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createWebhook(client, body)).id);
    const fourth = await client.post(WEBHOOKS, body);
    expectJsonError(fourth, 409);
    expect(fourth.json.error).toMatch(/3/);
    expect((await client.get(WEBHOOKS)).json.items).toHaveLength(3);
    expect((await client.del(`${WEBHOOKS}/${ids[0]}`)).status).toBe(204);
    expect((await client.post(WEBHOOKS, body)).status).toBe(201);
    expectJsonError(await client.post(WEBHOOKS, body), 409);
  });

  it('concurrent creates do not overshoot the limit', async () => {
    const { api: client } = await createTenant(rt, 'limits-webhooks-race');
    const body = { url: 'http://127.0.0.1:9/never', events: ['*'], active: false };
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.post(WEBHOOKS, body)));
    for (const a of answers) if (a.status !== 201) expectJsonError(a, 409);
    const created = answers.filter((a) => a.status === 201).length;
    const listed = (await client.get(WEBHOOKS)).json.items.length;
    expect({ created, listed }).toEqual({ created: 3, listed: 3 });
  });
});

describe("a receiver's huge answer", () => {
  it('a 1 MiB response body: the log keeps at most 1024 characters, never half an emoji, and the runtime stays healthy', async () => {
    const { api: client } = await createTenant(rt, 'limits-huge-answer');
    // Three UTF-16 units a repeat: a cut at 1024 would fall inside a surrogate pair.
    const huge = await probe({ respond: () => ({ status: 200, body: '\u{1F600}a'.repeat(350_000), headers: { 'content-type': 'text/plain; charset=utf-8' } }) });
    const hook = await createWebhook(client, { url: `${huge.url}/huge`, events: ['scan.completed'] });
    expect((await client.post('/v1/events', { event: 'scan.completed', data: { n: 1 } })).status).toBe(202);
    const attempt = await eventually('the attempt in the delivery log', async () => {
      const log = await client.get(`${WEBHOOKS}/${hook.id}/deliveries`);
      return log.json?.items?.[0];
    });
    expect(attempt).toMatchObject({ success: true, status_code: 200 });
    expect(typeof attempt.response_body === 'string' ? attempt.response_body.length : 0).toBeLessThanOrEqual(1024);
    expect(attempt.response_body.length).toBeGreaterThan(1000);
    // A lone surrogate is not Unicode: strict JSON parsers refuse the whole answer.
    expect(attempt.response_body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect((await fetch(`${rt.baseUrl}/healthz`)).status).toBe(200);
    // And the test endpoint, which reads the same answer synchronously, stays within bounds too.
    const test = await client.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(test.status).toBe(200);
    expect(test.text.length).toBeLessThan(2_000);
  });
});

describe('per-webhook concurrency (HOOKLINE_MAX_CONCURRENT_PER_WEBHOOK=2)', () => {
  it('a slow webhook gets at most 2 requests at once and does not hold up another webhook', async () => {
    const { api: client } = await createTenant(rt, 'limits-concurrency');
    const slow = await probe({ respond: () => ({ status: 200, delayMs: 2_000 }) });
    const fast = await probe();
    await createWebhook(client, { url: `${slow.url}/a`, events: ['scan.completed'] });
    await createWebhook(client, { url: `${fast.url}/b`, events: ['scan.started'] });
    const batch = { events: Array.from({ length: 10 }, (_, i) => ({ event: 'scan.completed', data: { i } })) };
    expect((await client.post('/v1/events', batch)).status).toBe(202);
    expect((await client.post('/v1/events', { event: 'scan.started', data: {} })).status).toBe(202);

    await fast.waitUntil("webhook B's delivery", (rs) => rs.length >= 1, 10_000);
    const slowSoFar = slow.requests.length;
    expect(slowSoFar).toBeLessThan(10);
    // Keep watching A through two more rounds of its slow answers.
    await slow.waitUntil('4 requests to the slow webhook', (rs) => rs.length >= 4, 12_000);
    expect(slow.maxOpen()).toBeLessThanOrEqual(2);
    expect(slow.maxOpen()).toBeGreaterThanOrEqual(1);
  });
});

describe('per-tenant rate limit (HOOKLINE_RATE_LIMIT_PER_SECOND=2, HOOKLINE_RATE_LIMIT_BURST=3)', () => {
  it("a burst of 10 from one tenant gets 429 + Retry-After + JSON; another tenant's request at the same moment passes", async () => {
    const noisy = await createTenant(limited, 'noisy');
    const calm = api(limited.baseUrl, limited.apiKey);
    const [burst, other] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => noisy.api.get(WEBHOOKS))),
      calm.get(WEBHOOKS),
    ]);
    expect(other.status).toBe(200);
    const ok = burst.filter((r) => r.status === 200);
    const limitedAnswers = burst.filter((r) => r.status === 429);
    expect(ok.length + limitedAnswers.length).toBe(10);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(4);
    expect(limitedAnswers.length).toBeGreaterThanOrEqual(6);
    for (const r of limitedAnswers) {
      expectJsonError(r, 429);
      const retryAfter = r.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Publishing is limited by the same bucket, and a limited publish keeps nothing.
    const publish = await noisy.api.post('/v1/events', { event: 'scan.completed', data: {} });
    expectJsonError(publish, 429);
    // After Retry-After, the tenant is served again.
    await quiet(Number(limitedAnswers[0]!.headers.get('retry-after')) * 1000 + 100);
    expect((await noisy.api.get(WEBHOOKS)).status).toBe(200);
  });
});
