/**
 * Hookline as the sender for each of the four vendor documents in /work/shared/seeds/. For every
 * document the receiver below is written from that document alone: it checks what the document
 * says a receiver checks, answers as the document says (401 for bad credentials, 400 for a body it
 * cannot use, 200 otherwise), and the test asserts that Hookline's deliveries are accepted by it.
 * One runtime (child process) for the whole file, with the hex signature header branded as
 * NetRecon's (seed 004).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createTenant, WEBHOOKS, createWebhook, publish } from '../support/hookline.ts';
import type { ReceivedRequest } from '../support/receiver.ts';
import { eventually, sleep, startRuntime, type Api, type Runtime } from '../support/runtime.ts';
import {
  basicCredentials,
  describeExchanges,
  pathOf,
  startScriptedReceiver,
  type Exchange,
  type ScriptedAnswer,
  type ScriptedHandler,
  type ScriptedReceiver,
} from '../support/scripted-receiver.ts';

// Seed 004's Node.js snippet, verbatim, as a CommonJS file (it starts with require('crypto')).
const { verifyWebhook: netReconVerifyWebhook } = createRequire(import.meta.url)('../support/netrecon-verify.cjs') as {
  verifyWebhook: (payload: string | Buffer, signature: string, secret: string) => boolean;
};

const QUIET_MS = 1_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let rt: Runtime;
const receivers: ScriptedReceiver[] = [];
/** Every credential handed to Hookline in this file: none may show up in its output. */
const credentials: string[] = [];

const cred = (label: string): string => {
  const value = `${label}-${randomBytes(18).toString('base64url')}`;
  credentials.push(value);
  return value;
};

async function receiver(handler: ScriptedHandler, name: string): Promise<ScriptedReceiver> {
  const r = await startScriptedReceiver(handler, name);
  receivers.push(r);
  return r;
}

/** The webhook's delivery log once `ready` holds for its items. */
async function deliveryLog(client: Api, webhookId: string, what: string, ready: (items: any[]) => boolean): Promise<any[]> {
  return eventually(`${what} in the delivery log of ${webhookId}`, async () => {
    const res = await client.get(`${WEBHOOKS}/${webhookId}/deliveries?page=1&per_page=25`);
    if (res.status !== 200) throw new Error(`deliveries answered ${res.status}: ${res.text}`);
    return ready(res.json.items) ? (res.json.items as any[]) : undefined;
  });
}

/** Waits until the receiver has accepted (2xx) n requests on `path`. */
function accepted(r: ScriptedReceiver, n: number, path = '/'): Promise<Exchange[]> {
  return r
    .waitUntil(`${n} accepted request(s) on ${path}`, () => r.on(path).filter((e) => e.answer.status < 300).length >= n)
    .then(() => r.on(path).filter((e) => e.answer.status < 300));
}

const refuse = (status: number, error: string): ScriptedAnswer => ({ status, body: { error }, reason: error });
const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isJson = (req: ReceivedRequest): boolean => /^application\/json\b/i.test(req.headers['content-type'] ?? '');

beforeAll(async () => {
  // The second rung is an hour away: a refused delivery is logged once and not retried during the file.
  rt = await startRuntime({ env: { HOOKLINE_SIGNATURE_HEADER: 'X-NetRecon-Signature', HOOKLINE_RETRY_DELAYS: '0,3600' } });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

// ---------------------------------------------------------------------------------------------
// 001: a scanner's scan-results webhook.
// ---------------------------------------------------------------------------------------------

/**
 * 001's receiver: "All webhook requests include a bearer token in the Authorization header"
 * (`Authorization: Bearer YOUR_BEARER_TOKEN`); "Scan results are sent as JSON in the body of a POST
 * request" with scanId, status ("completed" | "in_progress" | "failed"), results {threatsFound,
 * details[]} and an ISO 8601 timestamp. Error Handling: 200 with an acknowledgement, 401 for an
 * authentication failure, 400 with an `error` field for anything else it cannot use.
 */
function scanResultsEndpoint(bearerToken: string): ScriptedHandler {
  return (req) => {
    if (req.method !== 'POST') return refuse(405, 'POST only');
    if (req.headers.authorization !== `Bearer ${bearerToken}`) return refuse(401, 'Invalid authentication');
    if (!isJson(req)) return refuse(400, 'Content-Type must be application/json');
    const scan = req.json;
    if (!isObject(scan)) return refuse(400, 'body is not a JSON object');
    if (typeof scan.scanId !== 'string' || scan.scanId === '') return refuse(400, 'scanId missing');
    if (!['completed', 'in_progress', 'failed'].includes(scan.status)) return refuse(400, 'status invalid');
    if (!isObject(scan.results) || typeof scan.results.threatsFound !== 'number' || !Array.isArray(scan.results.details)) {
      return refuse(400, 'results invalid');
    }
    if (typeof scan.timestamp !== 'string' || !ISO.test(scan.timestamp)) return refuse(400, 'timestamp is not ISO 8601');
    return { status: 200, body: { message: 'Scan results received successfully.' } };
  };
}

describe('seed 001: scan results webhook (bearer token, raw scan result JSON)', () => {
  it('POSTs the published scan result exactly as the body, with Authorization: Bearer <token>, and the receiver accepts it', async () => {
    const t = await createTenant(rt);
    const token = cred('scan-bearer');
    const r = await receiver(scanResultsEndpoint(token), '001 receiver');
    const hook = await createWebhook(t.api, {
      url: `${r.url}/your-endpoint`,
      events: ['scan.completed', 'scan.failed'],
      format: 'data',
      auth: { type: 'bearer', token },
    });
    expect(hook).toMatchObject({ format: 'data', auth: { type: 'bearer' } });

    // The document's example request body, and one with a threat found.
    const clean = { scanId: 'abc123', status: 'completed', results: { threatsFound: 0, details: [] }, timestamp: '2023-10-23T14:55:00Z' };
    const dirty = {
      scanId: 'def456',
      status: 'failed',
      results: { threatsFound: 1, details: [{ name: 'EICAR-Test-File', path: '/tmp/eicar.com', severity: 'high' }] },
      timestamp: '2023-10-23T15:00:00.123Z',
    };
    const [cleanId] = await publish(t.api, { event: 'scan.completed', data: clean });
    const [dirtyId] = await publish(t.api, { event: 'scan.failed', data: dirty });

    const got = await accepted(r, 2, '/your-endpoint');
    expect(describeExchanges(r.exchanges)).not.toMatch(/-> [^2]\d\d/);
    const bodies = got.map((e) => e.req.json);
    // "format: data": the body is the published data, nothing added, nothing missing.
    expect(bodies).toContainEqual(clean);
    expect(bodies).toContainEqual(dirty);
    for (const e of got) {
      expect(e.req.method).toBe('POST');
      expect(e.req.headers.authorization).toBe(`Bearer ${token}`);
      expect(e.req.headers['content-type']).toMatch(/^application\/json\b/);
      expect(JSON.parse(e.req.body)).toStrictEqual(e.req.json);
    }

    const log = await deliveryLog(t.api, hook.id, 'both attempts', (items) => items.length >= 2);
    for (const id of [cleanId, dirtyId]) {
      expect(log.find((a) => a.event_id === id)).toMatchObject({ success: true, status_code: 200, attempt: 1 });
    }
  });

  it('a webhook registered with the wrong token: the receiver answers 401 and the delivery log shows the attempt failed with 401', async () => {
    const t = await createTenant(rt);
    const r = await receiver(scanResultsEndpoint(cred('right-token')), '001 receiver (wrong token)');
    const wrong = cred('wrong-token');
    const hook = await createWebhook(t.api, { url: `${r.url}/your-endpoint`, events: ['scan.completed'], format: 'data', auth: { type: 'bearer', token: wrong } });
    const [id] = await publish(t.api, {
      event: 'scan.completed',
      data: { scanId: 'abc123', status: 'completed', results: { threatsFound: 0, details: [] }, timestamp: '2023-10-23T14:55:00Z' },
    });

    await r.waitUntil('the refused attempt', (ex) => ex.length >= 1);
    expect(r.exchanges[0]!.req.headers.authorization).toBe(`Bearer ${wrong}`);
    expect(r.exchanges[0]!.answer.status).toBe(401);

    const log = await deliveryLog(t.api, hook.id, 'the failed attempt', (items) => items.some((a) => a.event_id === id));
    const attempt = log.find((a) => a.event_id === id);
    expect(attempt).toMatchObject({ event_id: id, event: 'scan.completed', attempt: 1, success: false, status_code: 401 });
    expect(typeof attempt.response_time_ms).toBe('number');
  });
});

// ---------------------------------------------------------------------------------------------
// 002: Data Theorem.
// ---------------------------------------------------------------------------------------------

/**
 * 002's receiver. Its auth is "HTTP Bearer Token Authentication", "URL Authentication" (a token in
 * the webhook URL: here the `token` query parameter) or none. An event is
 * `{"event": {"type", "data", "version": 1}, "time": <unix seconds>, "host"}`.
 */
function dataTheoremEndpoint(auth: { bearer?: string; urlToken?: string }): ScriptedHandler {
  return (req) => {
    if (req.method !== 'POST') return refuse(405, 'POST only');
    if (auth.bearer !== undefined && req.headers.authorization !== `Bearer ${auth.bearer}`) return refuse(401, 'bad bearer token');
    if (auth.urlToken !== undefined && new URL(req.path, 'http://receiver').searchParams.get('token') !== auth.urlToken) {
      return refuse(401, 'bad URL token');
    }
    if (!isJson(req)) return refuse(400, 'Content-Type must be application/json');
    const body = req.json;
    if (!isObject(body) || Object.keys(body).sort().join() !== 'event,host,time') return refuse(400, 'not {event, time, host}');
    const { event, time, host } = body;
    if (!isObject(event) || Object.keys(event).sort().join() !== 'data,type,version') return refuse(400, 'event is not {type, data, version}');
    if (typeof event.type !== 'string' || event.type === '') return refuse(400, 'event.type');
    if (!isObject(event.data)) return refuse(400, 'event.data');
    if (event.version !== 1) return refuse(400, 'event.version must be 1');
    if (!Number.isInteger(time) || time < 1_000_000_000 || time > 10_000_000_000) return refuse(400, 'time is not unix seconds');
    if (typeof host !== 'string' || host === '') return refuse(400, 'host');
    return { status: 200, body: {} };
  };
}

/** The "Example Event" of 002 (its data). */
const DATA_THEOREM_VIOLATION = {
  uuid: '924f1fb0-ebaa-4dfd-9297-390c0df18b44',
  affected_asset: {
    uuid: 'ed1d9485-5672-4db0-81aa-f8e5c96ba750',
    name: 'gumtree.com.au',
    portal_url: 'https://dev-acheron.appspot.com/api/network-services/ed1d9485-5672-4db0-81aa-f8e5c96ba750',
    date_created: '2020-07-23T08:18:30.450602+00:00',
    discovered_via: 'WEBSITE_CRAWLER',
    url: 'https://gumtree.com.au',
    hosted_on: 'UNKNOWN',
    type: 'NETWORK_SERVICE',
    belongs_to_asset_group: { name: 'CA Business Unit', uuid: '8cc7e379-1c9a-47df-aad1-a129afba337a' },
    cloud_console_url: null,
  },
  policy_violation_status: 'RESOLVED',
  date_created: '2021-01-19T12:04:15.714371+00:00',
  relevance: 'IMPORTANT',
  description:
    'The server leverages a certificate for SSL/TLS connections that will expire in less than the configured number of days.\n\nIf the SSL certificate is not renewed in time, clients including browsers and mobile applications will not allow\nconnecting to the server, and will instead display an error to the end-user stating that the connection is not secure.',
  recommendation: 'Deploy a new SSL/TLS certificate on the affected server.',
  additional_information: null,
  portal_url: 'https://dev-acheron.appspot.com/api/inspect/policy-violations/924f1fb0-ebaa-4dfd-9297-390c0df18b44',
  policy_name: 'Data Theorem',
  policy_uuid: '17e0e14d-e6f1-4b35-a5c0-976dbbf41436',
  policy_portal_url: 'https://dev-acheron.appspot.com/api/policy/17e0e14d-e6f1-4b35-a5c0-976dbbf41436',
  violated_policy_rule_uuid: '471284cb-e96a-49e0-a729-674cfe18f506',
  violated_policy_rule_type_uuid: '5c3b1f37-8509-5c6e-abed-6ee9f3497c17',
  exception_explanation: null,
  exception_date_created: null,
};

describe('seed 002: Data Theorem (wrapped envelope, bearer or URL authentication, "Hello, world!" test)', () => {
  it('sends {event: {type, data, version: 1}, time: <unix seconds of the event timestamp>, host} with bearer auth', async () => {
    const t = await createTenant(rt);
    const token = cred('dt-bearer');
    const r = await receiver(dataTheoremEndpoint({ bearer: token }), '002 receiver (bearer)');
    const hook = await createWebhook(t.api, { url: `${r.url}/datatheorem`, events: ['alert.resolved'], format: 'wrapped', auth: { type: 'bearer', token } });
    // The document's example has "time": 1611733052; a fractional second is cut, not rounded.
    await publish(t.api, { event: 'alert.resolved', data: DATA_THEOREM_VIOLATION, timestamp: '2021-01-27T07:37:32.999Z' });

    const [got] = await accepted(r, 1, '/datatheorem');
    expect(got!.req.json).toStrictEqual({
      event: { type: 'alert.resolved', data: DATA_THEOREM_VIOLATION, version: 1 },
      time: 1611733052,
      host: new URL(rt.baseUrl).host,
    });
    expect(got!.req.headers.authorization).toBe(`Bearer ${token}`);

    // With a zone offset the instant is what counts.
    await publish(t.api, { event: 'alert.resolved', data: { uuid: 'tz' }, timestamp: '2021-01-27T09:37:32+02:00' });
    const both = await accepted(r, 2, '/datatheorem');
    expect(both[1]!.req.json.time).toBe(1611733052);
    expect(hook.format).toBe('wrapped');
  });

  it('POST /{id}/test sends a "Hello, world!" webhook.test event in the wrapped format with the bearer token, and answers delivered', async () => {
    const t = await createTenant(rt);
    const token = cred('dt-bearer-test');
    const r = await receiver(dataTheoremEndpoint({ bearer: token }), '002 receiver (test endpoint)');
    const hook = await createWebhook(t.api, { url: `${r.url}/datatheorem`, events: ['alert.*'], format: 'wrapped', auth: { type: 'bearer', token } });

    const before = Math.floor(Date.now() / 1000);
    const res = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
    expect(typeof res.json.response_time_ms).toBe('number');
    expect(res.json.error).toBeUndefined();

    expect(r.exchanges).toHaveLength(1);
    const { req, answer } = r.exchanges[0]!;
    expect(answer.status).toBe(200);
    expect(req.headers.authorization).toBe(`Bearer ${token}`);
    expect(req.json.event.type).toBe('webhook.test');
    expect(req.json.event.version).toBe(1);
    expect(req.json.event.data.message).toBe('Hello, world!');
    expect(req.json.time).toBeGreaterThanOrEqual(before - 1);
    expect(req.json.time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(req.json.host).toBe(new URL(rt.baseUrl).host);

    const log = await deliveryLog(t.api, hook.id, 'the test attempt', (items) => items.length >= 1);
    expect(log[0]).toMatchObject({ event: 'webhook.test', success: true, status_code: 200 });
  });

  it('URL authentication: the token reaches the receiver in the query string, every API answer shows it masked, the logs never hold it', async () => {
    const t = await createTenant(rt);
    const token = cred('dt-url-token');
    const r = await receiver(dataTheoremEndpoint({ urlToken: token }), '002 receiver (URL auth)');
    const hook = await createWebhook(t.api, { url: `${r.url}/datatheorem/hook?token=${token}`, events: ['alert.resolved'], format: 'wrapped' });
    const masked = `${r.url}/datatheorem/hook?token=****`;

    expect(hook.url).toBe(masked);
    const get = await t.api.get(`${WEBHOOKS}/${hook.id}`);
    const list = await t.api.get(`${WEBHOOKS}?page=1&per_page=100`);
    expect(get.status).toBe(200);
    expect(get.json.url).toBe(masked);
    expect(list.status).toBe(200);
    expect(list.json.items.find((w: any) => w.id === hook.id)?.url).toBe(masked);
    const patched = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { description: 'Data Theorem via URL auth' });
    expect(patched.status).toBe(200);
    expect(patched.json.url).toBe(masked);

    // A published event and the connectivity test both carry the real token.
    await publish(t.api, { event: 'alert.resolved', data: DATA_THEOREM_VIOLATION, timestamp: '2021-01-27T07:37:32Z' });
    await accepted(r, 1, '/datatheorem/hook');
    const test = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(test.json).toMatchObject({ delivered: true, status_code: 200 });
    const got = await accepted(r, 2, '/datatheorem/hook');
    for (const e of got) {
      expect(new URL(e.req.path, 'http://x').searchParams.get('token')).toBe(token);
      expect(e.req.headers.authorization).toBeUndefined();
    }
    expect(got.map((e) => e.req.json.event.type).sort()).toEqual(['alert.resolved', 'webhook.test']);

    const log = await t.api.get(`${WEBHOOKS}/${hook.id}/deliveries?page=1&per_page=25`);
    for (const text of [JSON.stringify(hook), get.text, list.text, patched.text, test.text, log.text]) expect(text).not.toContain(token);
    expect(rt.stdout()).not.toContain(token);
    expect(rt.stderr()).not.toContain(token);
  });
});

// ---------------------------------------------------------------------------------------------
// 003: ConnectSecure.
// ---------------------------------------------------------------------------------------------

/**
 * 003's receiver: "Webhook events are sent via HTTP POST in JSON format: {subject, body}", "The
 * JSON structure is always consistent (subject, body)", `subject` the event category or title (the
 * routing key), `body` human-readable, possibly multi-line text. The credentials are a username and
 * password, or an authentication header key and value, or an authentication URL (a token endpoint).
 */
function connectSecureEndpoint(authenticate: (req: ReceivedRequest) => string | undefined): ScriptedHandler {
  return (req) => {
    if (req.method !== 'POST') return refuse(405, 'POST only');
    const authProblem = authenticate(req);
    if (authProblem) return refuse(401, authProblem);
    if (!isJson(req)) return refuse(400, 'Content-Type must be application/json');
    const body = req.json;
    if (!isObject(body) || Object.keys(body).sort().join() !== 'body,subject') return refuse(400, 'not {subject, body}');
    if (typeof body.subject !== 'string' || body.subject.trim() === '') return refuse(400, 'subject must be text');
    if (typeof body.body !== 'string' || body.body.trim() === '') return refuse(400, 'body must be text');
    return { status: 200, body: { ok: true } };
  };
}

/** 003's asset and vulnerability examples as event data, nested. */
const ASSET = {
  ip: '192.168.1.100',
  hostname: 'server-01.example.com',
  mac: '00:1B:44:11:3A:B7',
  company: { name: 'Acme Corporation', id: 4242 },
  vulnerability: { id: 'CVE-2021-44228', product: 'Apache HTTP Server', severity: 'Critical', details: { cvss: 10, exploited: true } },
  open_ports: [443, 8443],
};

/** Each scalar of `value` with the key it sits under (array items under their array's key). */
function leaves(value: unknown, key = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, key));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => leaves(v, k));
  return [[key, String(value)]];
}

/** The `body` is readable text holding every value of the data, nested ones too, each on a line with its name. */
function expectReadableBody(body: string, data: Record<string, unknown>): void {
  expect(body).toContain('\n');
  expect(() => JSON.parse(body)).toThrow(); // text, not JSON in a string
  const lines = body.split('\n');
  for (const [key, value] of leaves(data)) {
    expect(body).toContain(value);
    const onItsLine = lines.some((l) => l.includes(value) && l.includes(key));
    const underItsKey = lines.some((l, i) => l.includes(value) && lines.slice(0, i).some((p) => p.includes(key)));
    if (!onItsLine && !underItsKey) throw new Error(`body does not name "${key}" for ${value}:\n${body}`);
  }
}

describe('seed 003: ConnectSecure ({subject, body}, username/password, header key/value, authentication URL)', () => {
  it('basic auth: subject is the catalogue title, body readable multi-line text with every value; Authorization decodes to user:password', async () => {
    const t = await createTenant(rt);
    const username = 'connectsecure-user';
    const password = cred('cs-password');
    const r = await receiver(
      connectSecureEndpoint((req) => {
        const pair = basicCredentials(req.headers.authorization);
        return pair && pair[0] === username && pair[1] === password ? undefined : 'bad username or password';
      }),
      '003 receiver (basic)',
    );
    await createWebhook(t.api, { url: `${r.url}/cs`, events: ['scan.completed', 'device.discovered', 'cve.matched'], format: 'subject_body', auth: { type: 'basic', username, password } });
    await publish(t.api, { event: 'scan.completed', data: { scan_id: 'scan-7', hosts_up: 12, summary: { critical: 1, high: 3 } } });
    await publish(t.api, { event: 'device.discovered', data: ASSET });
    await publish(t.api, { event: 'cve.matched', data: { cve: 'CVE-2021-44228', device: { ip: '192.168.1.100', hostname: 'server-01.example.com' } } });

    const got = await accepted(r, 3, '/cs');
    const bySubject = new Map(got.map((e) => [e.req.json.subject as string, e.req.json.body as string]));
    expect([...bySubject.keys()].sort()).toEqual(['CVE matched', 'Device discovered', 'Scan completed']);
    expectReadableBody(bySubject.get('Scan completed')!, { scan_id: 'scan-7', hosts_up: 12, summary: { critical: 1, high: 3 } });
    expectReadableBody(bySubject.get('Device discovered')!, ASSET);
    expectReadableBody(bySubject.get('CVE matched')!, { cve: 'CVE-2021-44228', device: { ip: '192.168.1.100', hostname: 'server-01.example.com' } });
    for (const e of got) expect(basicCredentials(e.req.headers.authorization)).toEqual([username, password]);
  });

  it('header key and value: the custom header arrives as configured', async () => {
    const t = await createTenant(rt);
    const value = cred('cs-header-value');
    const r = await receiver(
      connectSecureEndpoint((req) => (req.headers['x-connectsecure-key'] === value ? undefined : 'bad authentication header')),
      '003 receiver (header)',
    );
    const hook = await createWebhook(t.api, { url: `${r.url}/cs`, events: ['device.discovered'], format: 'subject_body', auth: { type: 'header', name: 'X-ConnectSecure-Key', value } });
    expect(hook.auth).toEqual({ type: 'header' });
    await publish(t.api, { event: 'device.discovered', data: ASSET });
    const [got] = await accepted(r, 1, '/cs');
    expect(got!.req.json.subject).toBe('Device discovered');
    expect(got!.req.headers['x-connectsecure-key']).toBe(value);
    expect(got!.req.headers.authorization).toBeUndefined();

    const test = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(test.json).toMatchObject({ delivered: true, status_code: 200 });
    const [, ping] = await accepted(r, 2, '/cs');
    expect(ping!.req.json.subject).toBe('Test event');
    expect(ping!.req.json.body).toContain('Hello, world!');
  });

  /**
   * A receiver behind an authentication URL: `/oauth/token` is an RFC 6749 section 4.4 token
   * endpoint (client authenticated by HTTP Basic, section 2.3.1); `/cs` accepts any token it issued
   * and has not revoked (or, with `latestTokenOnly`, only the token it issued last, as servers that
   * allow one active token per client do).
   */
  async function oauthReceiver(name: string, options: { latestTokenOnly?: boolean } = {}) {
    const clientId = 'hookline-client';
    const clientSecret = cred('cs-client-secret');
    const scope = 'alerts:write';
    const issued: string[] = [];
    const revoked = new Set<string>();
    const tokenProblems: string[] = [];
    const bearer = (req: ReceivedRequest) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const webhookEndpoint = connectSecureEndpoint((req) => {
      const token = bearer(req);
      const current = options.latestTokenOnly ? token === issued.at(-1) : token !== undefined && issued.includes(token);
      return current && !revoked.has(token!) ? undefined : 'invalid or revoked access token';
    });
    /** How long the endpoint takes to answer 401 (a slow auth check keeps deliveries in flight together). */
    const slow = { unauthorizedDelayMs: 0, tokenDelayMs: 0 };
    const r = await receiver((req) => {
      if (pathOf(req) !== '/oauth/token') {
        const answer = webhookEndpoint(req);
        return answer.status === 401 ? { ...answer, delayMs: slow.unauthorizedDelayMs } : answer;
      }
      const problem = ((): string | undefined => {
        if (req.method !== 'POST') return 'POST only';
        if (!/^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] ?? '')) return `content-type ${req.headers['content-type']}`;
        const form = new URLSearchParams(req.body);
        if (form.get('grant_type') !== 'client_credentials') return `grant_type ${form.get('grant_type')}`;
        if (form.get('scope') !== scope) return `scope ${form.get('scope')}`;
        const pair = basicCredentials(req.headers.authorization);
        if (!pair || decodeURIComponent(pair[0]) !== clientId || decodeURIComponent(pair[1]) !== clientSecret) return 'client authentication';
        return undefined;
      })();
      if (problem) {
        tokenProblems.push(problem);
        return { status: 401, body: { error: 'invalid_client' }, reason: problem };
      }
      const accessToken = cred(`cs-access-token-${issued.length + 1}`);
      issued.push(accessToken);
      return {
        status: 200,
        body: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 },
        headers: { 'cache-control': 'no-store' },
        delayMs: slow.tokenDelayMs,
      };
    }, name);
    const auth = { type: 'oauth2', token_url: `${r.url}/oauth/token`, client_id: clientId, client_secret: clientSecret, scope };
    return { r, auth, issued, revoked, tokenProblems, bearer, slow };
  }

  const alert = (n: number | string) => ({ event: 'alert.created', data: { alert_id: `a-${n}`, title: 'Critical Problems Found', severity: 'critical' } });

  it('authentication URL (OAuth2 client credentials): one token for several deliveries; on a 401 one new token and a retry that succeeds', async () => {
    const t = await createTenant(rt);
    const { r, auth, issued, revoked, tokenProblems } = await oauthReceiver('003 receiver (OAuth2)');
    const hook = await createWebhook(t.api, { url: `${r.url}/cs`, events: ['alert.created'], format: 'subject_body', auth });
    expect(hook.auth).toEqual({ type: 'oauth2' });

    // Three deliveries at once (one batch): one token request, shared.
    await publish(t.api, { events: [alert(1), alert(2), alert(3)] });
    const first = await accepted(r, 3, '/cs');
    expect(tokenProblems).toEqual([]);
    expect(r.on('/oauth/token')).toHaveLength(1);
    for (const e of first) expect(e.req.headers.authorization).toBe(`Bearer ${issued[0]}`);
    expect(r.on('/cs').every((e) => e.answer.status === 200)).toBe(true);
    // One more, later: still the cached token.
    await publish(t.api, alert(4));
    await accepted(r, 4, '/cs');
    expect(r.on('/oauth/token')).toHaveLength(1);

    // The receiver revokes the token: it now answers 401 to it.
    revoked.add(issued[0]!);
    const [id] = await publish(t.api, alert(5));
    await accepted(r, 5, '/cs');
    expect(r.on('/oauth/token')).toHaveLength(2);
    const tail = r.on('/cs').slice(4).map((e) => [e.req.headers.authorization, e.answer.status]);
    expect(tail).toEqual([
      [`Bearer ${issued[0]}`, 401],
      [`Bearer ${issued[1]}`, 200],
    ]);
    const log = await deliveryLog(t.api, hook.id, 'the fifth delivery', (items) => items.some((a) => a.event_id === id));
    expect(log.filter((a) => a.event_id === id)).toEqual([expect.objectContaining({ attempt: 1, success: true, status_code: 200 })]);

    // And the new token is cached in turn.
    await publish(t.api, alert(6));
    await accepted(r, 6, '/cs');
    expect(r.on('/oauth/token')).toHaveLength(2);
    expect(r.on('/cs').at(-1)!.req.headers.authorization).toBe(`Bearer ${issued[1]}`);
    expect(tokenProblems).toEqual([]);
  });

  it('authentication URL: when several deliveries in flight get 401 for a revoked token, one new token is fetched and all of them succeed', async () => {
    const t = await createTenant(rt);
    const { r, auth, issued, revoked, tokenProblems, bearer, slow } = await oauthReceiver('003 receiver (OAuth2, concurrent 401s)');
    const hook = await createWebhook(t.api, { url: `${r.url}/cs`, events: ['alert.created'], format: 'subject_body', auth });
    await publish(t.api, alert('warm-up'));
    await accepted(r, 1, '/cs');
    expect(issued).toHaveLength(1);

    revoked.add(issued[0]!);
    // The 401s take 500 ms, so the whole burst is in flight with the revoked token at once.
    slow.unauthorizedDelayMs = 500;
    const ids = await publish(t.api, { events: [1, 2, 3, 4, 5, 6].map((n) => alert(`burst-${n}`)) });
    await accepted(r, 7, '/cs');
    const log = await deliveryLog(t.api, hook.id, 'the burst', (items) => ids.every((id) => items.some((a) => a.event_id === id)));
    expect(tokenProblems).toEqual([]);
    // Every delivery of the burst succeeded on its first attempt ...
    for (const id of ids) expect(log.filter((a) => a.event_id === id)).toEqual([expect.objectContaining({ attempt: 1, success: true, status_code: 200 })]);
    // ... and the revoked token was replaced once, not once per delivery that saw the 401.
    const tokensUsed = new Set(r.on('/cs').filter((e) => e.answer.status === 200).slice(1).map((e) => bearer(e.req)));
    expect({ tokenRequests: r.on('/oauth/token').length, tokensUsedAfterRevocation: tokensUsed.size }).toEqual({ tokenRequests: 2, tokensUsedAfterRevocation: 1 });
  });

  it('authentication URL with one active token per client: a burst that meets a revoked token is still delivered on the first attempt', async () => {
    const t = await createTenant(rt);
    const { r, auth, issued, revoked, slow } = await oauthReceiver('003 receiver (OAuth2, latest token only)', { latestTokenOnly: true });
    const hook = await createWebhook(t.api, { url: `${r.url}/cs`, events: ['alert.created'], format: 'subject_body', auth });
    await publish(t.api, alert('warm-up'));
    await accepted(r, 1, '/cs');

    revoked.add(issued[0]!);
    // The burst meets the revoked token together (slow 401s), and the token endpoint takes a moment.
    slow.unauthorizedDelayMs = 500;
    slow.tokenDelayMs = 300;
    const ids = await publish(t.api, { events: [1, 2, 3, 4].map((n) => alert(`burst-${n}`)) });
    const log = await deliveryLog(t.api, hook.id, 'the burst', (items) => ids.every((id) => items.some((a) => a.event_id === id)));
    const outcomes = ids.map((id) => log.filter((a) => a.event_id === id).map((a) => `${a.success ? 'delivered' : 'failed'} ${a.status_code}`));
    expect(outcomes).toEqual(ids.map(() => ['delivered 200']));
  });
});

// ---------------------------------------------------------------------------------------------
// 004: NetRecon.
// ---------------------------------------------------------------------------------------------

/**
 * 004's receiver: payloads are `{id, event, timestamp, tenant_id, data}`; "Each webhook request
 * includes an HMAC-SHA256 signature in the X-NetRecon-Signature header", checked with the
 * document's own Node.js snippet over the raw body.
 */
function netReconEndpoint(secret: string): ScriptedHandler {
  return (req) => {
    if (req.method !== 'POST') return refuse(405, 'POST only');
    const signature = req.headers['x-netrecon-signature'];
    if (typeof signature !== 'string') return refuse(401, 'no X-NetRecon-Signature');
    let ok: boolean;
    try {
      ok = netReconVerifyWebhook(req.rawBody, signature, secret);
    } catch {
      ok = false; // timingSafeEqual throws on a length mismatch
    }
    if (!ok) return refuse(401, 'bad signature');
    const body = req.json;
    if (!isObject(body) || Object.keys(body).sort().join() !== 'data,event,id,tenant_id,timestamp') return refuse(400, 'not {id, event, timestamp, tenant_id, data}');
    if (typeof body.id !== 'string' || typeof body.event !== 'string' || typeof body.tenant_id !== 'string') return refuse(400, 'id, event, tenant_id');
    if (typeof body.timestamp !== 'string' || !ISO.test(body.timestamp)) return refuse(400, 'timestamp');
    if (!isObject(body.data)) return refuse(400, 'data');
    return { status: 200, body: { received: true } };
  };
}

describe('seed 004: NetRecon (standard envelope, X-NetRecon-Signature checked with the document snippet)', () => {
  it('registers as the document does; deliveries are {id, event, timestamp, tenant_id, data} and pass the snippet', async () => {
    const t = await createTenant(rt);
    const secret = cred('your-hmac-secret');
    const r = await receiver(netReconEndpoint(secret), '004 receiver');
    // The document's "Configure a Webhook" request body, with our URL and secret.
    const hook = await createWebhook(t.api, { url: `${r.url}/webhook`, secret, events: ['alert.created', 'scan.completed', 'device.discovered'], active: true });
    expect(hook).toMatchObject({ events: ['alert.created', 'scan.completed', 'device.discovered'], active: true, format: 'standard' });
    expect(hook.secret).toBeUndefined();

    const data = { alert_id: 'alert-uuid', title: 'New open port detected', severity: 'high', device_ip: '192.168.1.10' };
    const [id] = await publish(t.api, { event: 'alert.created', data, timestamp: '2026-03-15T10:30:00Z' });
    await publish(t.api, { event: 'scan.started', data: { scan_id: 'not subscribed' } });
    const [got] = await accepted(r, 1, '/webhook');
    expect(got!.req.json).toStrictEqual({ id, event: 'alert.created', timestamp: got!.req.json.timestamp, tenant_id: t.id, data });
    expect(Date.parse(got!.req.json.timestamp)).toBe(Date.parse('2026-03-15T10:30:00Z'));

    // The branded header replaces the default name; the snippet rejects a tampered body and a wrong secret.
    const signature = got!.req.headers['x-netrecon-signature'] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(got!.req.headers['x-hookline-signature']).toBeUndefined();
    expect(netReconVerifyWebhook(got!.req.body, signature, secret)).toBe(true);
    expect(netReconVerifyWebhook(got!.req.body.replace('192.168.1.10', '192.168.1.11'), signature, secret)).toBe(false);
    expect(netReconVerifyWebhook(got!.req.rawBody, signature, `${secret}x`)).toBe(false);

    await sleep(QUIET_MS);
    expect(r.exchanges.map((e) => e.req.json?.event)).toEqual(['alert.created']);
  });

  it('the test endpoint reaches the receiver with a signed payload it processes; the delivery log has status codes and response times', async () => {
    const t = await createTenant(rt);
    const secret = cred('netrecon-secret');
    const r = await receiver(netReconEndpoint(secret), '004 receiver (test)');
    const hook = await createWebhook(t.api, { url: `${r.url}/webhook`, secret, events: ['scan.completed'], active: true });
    const res = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
    expect(r.exchanges).toHaveLength(1);
    expect(r.exchanges[0]!.answer.status).toBe(200);
    expect(r.exchanges[0]!.req.json).toMatchObject({ event: 'webhook.test', tenant_id: t.id });

    // A receiver that does not know the secret refuses it, and the log says so.
    const stranger = await receiver(netReconEndpoint(cred('other-secret')), '004 receiver (other secret)');
    const other = await createWebhook(t.api, { url: `${stranger.url}/webhook`, secret: cred('netrecon-secret-2'), events: ['scan.completed'] });
    const refused = await t.api.post(`${WEBHOOKS}/${other.id}/test`);
    expect(refused.json).toMatchObject({ delivered: false, status_code: 401 });

    await publish(t.api, { event: 'scan.completed', data: { scan_id: 's-1' } });
    await accepted(r, 2, '/webhook');
    const log = await deliveryLog(t.api, hook.id, 'two attempts', (items) => items.length >= 2);
    for (const a of log) {
      expect(a).toMatchObject({ success: true, status_code: 200 });
      expect(typeof a.response_time_ms).toBe('number');
      expect(a.attempted_at).toMatch(ISO);
    }
    expect(log.map((a) => a.event).sort()).toEqual(['scan.completed', 'webhook.test']);
  });
});

describe('credentials of the seed integrations', () => {
  it('never appear in the runtime output nor in the owner emails', async () => {
    // Give the dispatcher a moment to finish writing whatever it logs about the last attempts.
    await sleep(300);
    const outbox = join(rt.dataDir, 'outbox');
    const emails = await readdir(outbox).then(
      (files) => Promise.all(files.map((f) => readFile(join(outbox, f), 'utf8'))),
      () => [] as string[],
    );
    const output = [rt.stdout(), rt.stderr(), ...emails].join('\n');
    expect(credentials.length).toBeGreaterThan(10);
    expect(credentials.filter((c) => output.includes(c))).toEqual([]);
  });
});
