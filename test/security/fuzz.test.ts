/**
 * Issue 5, robustness: no bad input breaks it. fast-check throws arbitrary and adversarial bodies,
 * headers, query strings, path parameters and webhook URLs at every route of ROUTES. Invariants:
 * never a 5xx, every 4xx is JSON `{"error"}`, the runtime stays up, and a refused request writes
 * nothing (no webhook, no delivery). A failing property prints its seed and counterexample;
 * `FUZZ_SEED=<seed>` replays it.
 *
 * Network: the runtime and the one receiver are on 127.0.0.1. Webhooks created from fuzzed URLs
 * belong to a tenant that never publishes and are inactive, so nothing is ever sent to them.
 */
import fc from 'fast-check';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { ROUTES } from '../../shared/http/routes.ts';
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import { startRuntime, type Runtime } from '../support/runtime.ts';
import { quiet, startProbe, type Probe } from './helpers.ts';

const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined;
/** Each property's runs, and a time cap (including shrinking) so the file stays well under 40 s. */
const params = (numRuns: number) => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }), interruptAfterTimeLimit: 6_000, markInterruptAsFailure: false });

let rt: Runtime;
let sink: Probe;
let fuzzKey: string;
let urlKey: string;
let hookId: string;
/** Ids of events the fuzz tenant got a 202 for: the only ones the sink may ever see. */
const acceptedIds: string[] = [];
/** What each accepted id was published with (to name a lost event). */
const acceptedBodies = new Map<string, string>();
let urlTenantCreated = 0;
/** Events of the regression tests below, checked there and left out of the final tally. */
const regressionIds = new Set<string>();

const agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly json: any;
}

/** A raw HTTP request (node:http, so paths and headers go out exactly as generated). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(rt.baseUrl);
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The invariants every answer must keep; returns false (with the reason thrown) otherwise. */
function check(answer: Answer, what: string): void {
  if (answer.status >= 500) throw new Error(`${what} -> ${answer.status} ${answer.text.slice(0, 300)}`);
  if (answer.status >= 400) {
    const ok = /^application\/json\b/.test(answer.contentType) && typeof answer.json?.error === 'string' && answer.json.error.length > 0;
    if (!ok) throw new Error(`${what} -> ${answer.status} without a JSON {"error"}: content-type "${answer.contentType}", body ${JSON.stringify(answer.text.slice(0, 300))}`);
  }
}

function accept(ids: string[], body: string | Uint8Array | undefined): void {
  acceptedIds.push(...ids);
  for (const id of ids) acceptedBodies.set(id, short(body));
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const short = (s: string | Uint8Array | undefined) => (s === undefined ? 'no body' : typeof s === 'string' ? JSON.stringify(s.slice(0, 400)) : `${s.length} raw bytes`);

async function publish(body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const answer = await raw('POST', '/v1/events', { ...bearer(fuzzKey), 'content-type': 'application/json', ...headers }, body);
  check(answer, `POST /v1/events ${short(body)}`);
  if (answer.status === 202) accept(answer.json.ids, body);
  return answer;
}

beforeAll(async () => {
  rt = await startRuntime({ env: { HOOKLINE_RATE_LIMIT_PER_SECOND: '500', HOOKLINE_RATE_LIMIT_BURST: '1000', HOOKLINE_RETRY_DELAYS: '0' } });
  sink = await startProbe();
  const [fuzzTenant, urlTenant] = await Promise.all([createTenant(rt, 'fuzz-routes'), createTenant(rt, 'fuzz-urls')]);
  fuzzKey = fuzzTenant.key;
  urlKey = urlTenant.key;
  const hook = await fuzzTenant.api.post(WEBHOOKS, { url: `${sink.url}/sink`, events: ['*'], description: 'the one real webhook' });
  if (hook.status !== 201) throw new Error(`create webhook answered ${hook.status}: ${hook.text}`);
  hookId = hook.json.id;
});

afterAll(async () => {
  agent.destroy();
  await rt?.cleanup();
  await sink?.close();
});

// ------------------------------------------------------------------------------------------
// Generators

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  '',
  '*/*',
  'application/xml',
);
const headerText = fc.string({ maxLength: 300, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const oddAuthorization = fc.oneof(
  headerText,
  headerText.map((s) => `Bearer ${s}`),
  headerText.map((s) => `Basic ${s}`),
  fc.constantFrom('Bearer', 'Bearer ', 'bearer  x', 'Bearer a b', `Bearer ${'k'.repeat(8000)}`, 'Bearer hk_', 'Bearer hkadm_', 'Token abc', 'Bearer \t'),
);
const hugeNumbers = ['1e400', '-1e400', '12345678901234567890', '-9007199254740993', '5e-324', '1e-131', '1e126', '0.1e999', '-0', '1E+2', '0e0'];
const protoKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'];

/** Garbage at the ingest: arbitrary JSON, strings, raw bytes, deep nesting. */
const garbageBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.json(),
  fc.json({ stringUnit: 'binary' }),
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc.uint8Array({ maxLength: 2000 }),
  fc.integer({ min: 1, max: 5_000 }).chain((n) => fc.constantFrom('['.repeat(n) + ']'.repeat(n), '{"a":'.repeat(n) + '1' + '}'.repeat(n), '['.repeat(n), `{"event":"scan.completed","data":${'['.repeat(n)}`)),
  fc.constantFrom('', ' ', 'null', 'true', '0', '""', '[]', '{}', '{"events":[]}', '{"events":null}', '{"events":{}}', '\u0000', '\uFEFF{}', '{"event":"scan.completed"}', '{"event":"scan.completed","data":[]}', '{"event":"scan.completed","data":null}'),
  fc.constantFrom(...hugeNumbers).map((n) => `{"event":"scan.completed","data":[${n}]}`), // data must be an object: 400
  fc.constantFrom(...protoKeys).map((k) => `{"${k}":{"event":"scan.completed"},"event":"scan.completed","data":{}, "x": 1}`),
);

/** Events whose shape is valid: the data is arbitrary JSON (unicode, odd keys, any number). */
const eventType = fc.constantFrom('scan.completed', 'scan.started', 'alert.created', 'webhook.test');
const anyData = fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...protoKeys)), fc.jsonValue({ maxDepth: 6, stringUnit: 'binary' }), { maxKeys: 8 });
const validEvent = fc.record(
  {
    event: eventType,
    data: anyData,
    id: fc.stringMatching(/^[A-Za-z0-9._:~-]{1,128}$/),
    timestamp: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  },
  { requiredKeys: ['event', 'data'] },
);

const pathSegment = fc.oneof(
  fc.string({ maxLength: 60 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, 'x'))),
  fc.integer({ min: 1, max: 1000 }).map((n) => 'w'.repeat(n)),
  fc.constantFrom('%2F', 'a%2Fb', '..', '%2e%2e', '%2E%2E%2F%2E%2E', '.', '%00', '%20', 'whk_', 'null', 'undefined', '__proto__', 'constructor', '%C3%A9', '*', '%2A', "'", '%22', '%5C'),
);
const queryString = fc.oneof(
  fc.constant(''),
  fc.record({ page: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('0', '-1', '1e3', '1.5', 'NaN', 'Infinity', '99999999999999999999', '0x10', ' 1', '10001', '')), per_page: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('0', '101', '100', '-5', '1e2', '', 'abc')) }, { requiredKeys: [] }).map(
    (q) => '?' + new URLSearchParams(q as Record<string, string>).toString(),
  ),
  fc.constantFrom('?page=1&page=2', '?per_page=1&per_page=100', '?page', '?=', '?&&&', '?page=%zz', `?page=${'9'.repeat(500)}`),
);

// ------------------------------------------------------------------------------------------

describe('fuzzing the ingest: never a 5xx, always a JSON error', () => {
  it('garbage bodies with any content type', async () => {
    await fc.assert(
      fc.asyncProperty(garbageBody, contentTypes, async (body, contentType) => {
        await publish(body, { 'content-type': contentType });
      }),
      params(250),
    );
  });

  it('valid-shaped events with arbitrary data (unicode, prototype keys, any JSON number), singly and in batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(validEvent, fc.array(validEvent, { minLength: 1, maxLength: 5 }).map((events) => ({ events }))), async (body) => {
        await publish(JSON.stringify(body));
      }),
      params(150),
    );
  });
});

describe('fuzzing every route of ROUTES', () => {
  it('odd paths, query strings, bodies and Authorization values: never a 5xx, always a JSON error', async () => {
    const routeArb = fc.constantFrom(...ROUTES);
    const bodyArb = fc.option(fc.oneof(fc.json(), fc.string({ maxLength: 200 }), fc.constantFrom('{}', '[]', '{"url":"ftp://x/","events":["*"]}')), { nil: undefined });
    const authArb = fc.oneof({ weight: 4, arbitrary: fc.constant('the right key') }, { weight: 1, arbitrary: oddAuthorization });
    await fc.assert(
      fc.asyncProperty(routeArb, pathSegment, pathSegment, queryString, bodyArb, authArb, contentTypes, async (route, id, deliveryId, query, body, auth, contentType) => {
        const path = route.path.replace('{id}', id).replace('{delivery_id}', deliveryId) + query;
        const key = route.path.startsWith('/admin') ? rt.adminKey : fuzzKey;
        const headers: Record<string, string> = { authorization: auth === 'the right key' ? `Bearer ${key}` : auth, 'content-type': contentType };
        // The real webhook is left to the dedicated PATCH property below.
        if (decodeURIComponent(id) === hookId) return;
        const answer = await raw(route.method, path, headers, body);
        check(answer, `${route.method} ${path.slice(0, 200)} auth=${JSON.stringify(headers.authorization.slice(0, 40))} body=${short(body)}`);
        if (route.path === '/v1/events' && answer.status === 202) accept(answer.json.ids, body);
      }),
      params(400),
    );
  });

  it('a refused PATCH of the real webhook changes nothing, not even its valid fields', async () => {
    const before = await raw('GET', `${WEBHOOKS}/${hookId}`, bearer(fuzzKey));
    const invalid = fc.constantFrom<Record<string, unknown>>(
      { events: [] },
      { events: ['no.such.type'] },
      { secret: 'short' },
      { url: 'ftp://127.0.0.1/' },
      { url: 'http://u:p@127.0.0.1:9/' },
      { active: 'yes' },
      { format: 'xml' },
      { auth: { type: 'bearer' } },
      { auth: { type: 'oauth2', token_url: 'file:///etc/passwd', client_id: 'a', client_secret: 'b' } },
      { filter: {} },
      { owner_email: 'not an email' },
      { unknown_field: 1 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 50 }), invalid, fc.boolean(), async (description, bad, activeFlag) => {
        const body = JSON.stringify({ description, active: activeFlag, events: ['scan.completed'], ...bad });
        const answer = await raw('PATCH', `${WEBHOOKS}/${hookId}`, { ...bearer(fuzzKey), 'content-type': 'application/json' }, body);
        check(answer, `PATCH the real webhook ${body}`);
        if (answer.status !== 400) throw new Error(`PATCH ${body} -> ${answer.status} ${answer.text.slice(0, 200)}, expected 400`);
      }),
      params(80),
    );
    const after = await raw('GET', `${WEBHOOKS}/${hookId}`, bearer(fuzzKey));
    expect(after.json).toEqual(before.json);
  });
});

describe('fuzzing webhook URLs (an inactive tenant that never publishes)', () => {
  it('fc.webUrl and adversarial strings: 201 or a JSON 4xx, and exactly the 201s exist afterwards', async () => {
    const adversarial = fc.constantFrom(
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://[::1',
      'http://%zz/',
      'http://a b/',
      'http://\u0000/',
      'https://[fe80::1%25eth0]/',
      'http://999.999.999.999/',
      'https://xn--/',
      'http://' + 'a'.repeat(300) + '/',
      `https://x/${'%'.repeat(100)}`,
      'https:///',
      '//no-scheme/',
      'https://ok.example/?a=1#frag',
      'HTTPS://EXAMPLE.COM/',
      'https://example.com:99999/',
      'https://example.com:0/',
      'https://u:p@example.com/',
      'ws://example.com/',
    );
    const urlArb = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.webUrl({ validSchemes: ['http', 'https', 'ftp', 'file', 'gopher'] }), adversarial, fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }));
    await fc.assert(
      fc.asyncProperty(urlArb, async (url) => {
        const body = JSON.stringify({ url, events: ['*'], active: false });
        const answer = await raw('POST', WEBHOOKS, { ...bearer(urlKey), 'content-type': 'application/json' }, body);
        check(answer, `POST webhook url=${JSON.stringify(url.slice(0, 200))}`);
        if (answer.status === 201) {
          urlTenantCreated++;
          if (answer.json.active !== false) throw new Error(`created an active webhook for ${url}`);
        }
      }),
      params(200),
    );
    let listed = 0;
    for (let page = 1; ; page++) {
      const res = await raw('GET', `${WEBHOOKS}?page=${page}&per_page=100`, bearer(urlKey));
      expect(res.status).toBe(200);
      listed += res.json.items.length;
      for (const item of res.json.items) expect(item.active).toBe(false);
      if (!res.json.has_more) break;
    }
    expect(listed).toBe(urlTenantCreated);
  });
});

describe('inputs fuzzing found to break it (kept as regressions)', () => {
  const event = (data: string) => `{"event":"scan.completed","data":${data}}`;
  it.each([
    ['a number beyond 2^53', event('{"n":12345678901234567890}')],
    ['a number overflowing to Infinity', event('{"n":1e400}')],
    ['a large float', event('{"n":1e126}')],
    ['a tiny float', event('{"n":5e-324}')],
    ['a data key named "constructor"', event('{"constructor":1}')],
    ['a data key named "constructor" holding a prototype', event('{"constructor":{"prototype":{"polluted":true}}}')],
  ])('POST /v1/events with %s: not a 5xx', async (_what, body) => {
    const answer = await raw('POST', '/v1/events', { ...bearer(fuzzKey), 'content-type': 'application/json' }, body);
    if (answer.status === 202) accept(answer.json.ids, body);
    check(answer, `POST /v1/events ${body}`);
  });

  it.each([
    ['a malformed percent-escape', `${WEBHOOKS}/%zz`],
    ['a truncated UTF-8 escape', `${WEBHOOKS}/%E0%A4%A/deliveries`],
    ['an id of 1100 characters', `${WEBHOOKS}/${'w'.repeat(1100)}`],
    ['an id of 5000 characters', `${WEBHOOKS}/${'w'.repeat(5000)}/deliveries`],
    ['a delivery id of 2000 characters', `${WEBHOOKS}/whk_x/deliveries/${'d'.repeat(2000)}/retry`],
    ['a path of 20000 characters', `${WEBHOOKS}/${'w'.repeat(20_000)}`],
  ])('%s in the path: a JSON 4xx, not a 5xx', async (_what, path) => {
    for (const method of path.endsWith('/retry') ? ['POST'] : ['GET', 'DELETE', 'PATCH']) {
      const answer = await raw(method, path, { ...bearer(fuzzKey), 'content-type': 'application/json' }, method === 'PATCH' ? '{}' : undefined);
      check(answer, `${method} ${path.slice(0, 120)}…`);
      expect(answer.status).toBeGreaterThanOrEqual(400);
    }
  });

  /** Publishes outside the fuzz's bookkeeping; resolves with the delivered request, if any, within `ms`. */
  async function publishAndWait(body: string, ms = 4_000) {
    const answer = await raw('POST', '/v1/events', { ...bearer(fuzzKey), 'content-type': 'application/json' }, body);
    check(answer, `POST /v1/events ${body}`);
    if (answer.status !== 202) return { answer, delivered: undefined };
    const id: string = answer.json.ids[0];
    regressionIds.add(id);
    await sink.waitUntil(`delivery of ${id}`, (rs) => rs.some((r) => r.json?.id === id), ms).catch(() => undefined);
    return { answer, delivered: sink.requests.find((r) => r.json?.id === id) };
  }

  it('prototype-pollution keys in data are delivered as published', async () => {
    const { answer, delivered } = await publishAndWait('{"event":"scan.completed","data":{"__proto__":{"polluted":true},"kept":1}}');
    expect(answer.status).toBe(202);
    expect(delivered?.body).toContain('"kept":1');
    expect(delivered?.body).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  // 202 means the event reaches every matching webhook (CONTRACT.md 3).
  it.each([
    ['an emoji (a character outside the BMP)', '{"event":"scan.completed","data":{"summary":"scan finished \ud83c\udf89"}}'],
    ['an emoji in a key', '{"event":"scan.completed","data":{"\ud83d\udd25":1}}'],
    ['the noncharacter U+FFFF', '{"event":"scan.completed","data":{"s":"\uffff"}}'],
  ])('an accepted event with %s in its data is delivered, not stuck', async (_what, body) => {
    const { answer, delivered } = await publishAndWait(body);
    if (answer.status === 202) expect({ body, delivered: delivered !== undefined }).toEqual({ body, delivered: true });
    else expect(answer.status).toBe(400);
  });
});

describe('after the fuzz', () => {
  it('the runtime is alive, and the receiver got exactly the accepted events, each once', async () => {
    const health = await fetch(`${rt.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const expected = [...new Set(acceptedIds)];
    const isEvent = (r: { json?: any }) => !String(r.json?.id).startsWith('evt_test_') && !regressionIds.has(r.json?.id);
    await sink.waitUntil(`${expected.length} deliveries`, (rs) => new Set(rs.filter(isEvent).map((r) => r.json?.id)).size >= expected.length, 8_000).catch(() => undefined);
    await quiet(500);
    const delivered = sink.requests.filter(isEvent).map((r) => r.json?.id as string);
    expect(delivered.filter((id) => !expected.includes(id))).toEqual([]);
    expect(new Set(delivered).size).toBe(delivered.length);
    const lost = expected.filter((id) => !delivered.includes(id)).map((id) => `${id}: ${acceptedBodies.get(id)}`);
    expect(lost).toEqual([]);
  });
});
