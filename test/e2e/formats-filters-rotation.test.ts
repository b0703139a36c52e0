/**
 * End to end through the one-machine runtime: the CloudEvents body, subscription filters and
 * patterns, a platform catalogue with a JSON Schema (HOOKLINE_CATALOGUE_FILE), secret rotation
 * checked by the `standardwebhooks` package, and credentials that never come back out of the API
 * nor show up in the runtime's output (CONTRACT.md sections 4-5).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTenant, verifyHex, verifyStandardWebhooks, WEBHOOKS, createWebhook, publish } from '../support/hookline.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';
import { eventually, sleep, startRuntime, type Runtime } from '../support/runtime.ts';
import { startScriptedReceiver, type ScriptedReceiver } from '../support/scripted-receiver.ts';

/** How long to keep listening to be sure that something does NOT arrive. */
const QUIET_MS = 1_500;
/** RFC 3339 date-time. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The platform team's catalogue: three NetRecon types and one with a schema. */
const CATALOGUE = [
  { type: 'scan.started', title: 'Scan started', description: 'Scan started' },
  { type: 'scan.completed', title: 'Scan completed', description: 'Scan finished' },
  { type: 'alert.created', title: 'Alert created', description: 'New alert generated' },
  {
    type: 'asset.discovered',
    title: 'New Asset(s) Added',
    description: 'A host answered on the network for the first time',
    schema: {
      type: 'object',
      required: ['ip'],
      properties: { ip: { type: 'string', format: 'ipv4' }, hostname: { type: 'string' } },
    },
  },
];

let rt: Runtime;
let catalogueDir: string;
const receivers: { close(): Promise<void> }[] = [];

async function receiver(status = 200): Promise<Receiver> {
  const r = await startReceiver({ status });
  receivers.push(r);
  return r;
}

/** The `data` (or the `data.tag`) of every request a receiver got, sorted. */
const tags = (requests: readonly ReceivedRequest[]): string[] => requests.map((r) => String(r.json?.data?.tag)).sort();

beforeAll(async () => {
  catalogueDir = await mkdtemp(join(tmpdir(), 'hookline-catalogue-'));
  const file = join(catalogueDir, 'catalogue.json');
  await writeFile(file, JSON.stringify(CATALOGUE));
  // One attempt only: a refused delivery makes its webhook failing at once (and writes the owner's email).
  rt = await startRuntime({ env: { HOOKLINE_CATALOGUE_FILE: file, HOOKLINE_RETRY_DELAYS: '0' } });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
  if (catalogueDir) await rm(catalogueDir, { recursive: true, force: true });
});

describe('CloudEvents', () => {
  it('sends a CloudEvents 1.0 JSON event: specversion, id, source (URI-reference), type, RFC 3339 time, datacontenttype, data', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'], format: 'cloudevents' });
    const data = { scan_id: 'ce-1', hosts: [{ ip: '10.0.0.1', open: [22] }], ok: true };
    const [id] = await publish(t.api, { event: 'scan.completed', data, timestamp: '2026-03-15T12:30:00+02:00' });
    const [req] = await r.waitFor(1);
    const ce = req!.json;

    // Structured mode: CloudEvents SDKs recognise the event by this media type.
    expect(req!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(ce.specversion).toBe('1.0');
    expect(typeof ce.id).toBe('string');
    expect(ce.id).toBe(id);
    expect(typeof ce.type).toBe('string');
    expect(ce.type).toBe('scan.completed');
    // source: a non-empty URI-reference (RFC 3986); here an absolute URI naming the deployment and tenant.
    expect(typeof ce.source).toBe('string');
    expect(ce.source.length).toBeGreaterThan(0);
    expect(ce.source).not.toMatch(/[\s<>"{}|\\^`]/);
    expect(() => new URL(ce.source, 'https://base.example/')).not.toThrow();
    expect(ce.source).toContain(t.id);
    expect(ce.time).toMatch(RFC3339);
    expect(Date.parse(ce.time)).toBe(Date.parse('2026-03-15T10:30:00Z'));
    expect(ce.datacontenttype).toBe('application/json');
    expect(ce.data).toStrictEqual(data);
    // Attribute names: lower-case letters and digits only (CloudEvents 1.0, "Attribute Naming Convention").
    for (const name of Object.keys(ce)) expect(name).toMatch(/^[a-z0-9]{1,20}$/);
    // Still signed like every other format.
    expect(verifyHex(req!, hook.secret)).toBe(true);
    expect(verifyStandardWebhooks(req!, hook.secret)).toStrictEqual(ce);
  });
});

describe('filters and patterns', () => {
  it('delivers only the events whose fields match: in, exists, gte, plain equality', async () => {
    const t = await createTenant(rt);
    const [rIn, rExists, rGte, rEq] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    await createWebhook(t.api, { url: rIn.url, events: ['alert.created'], filter: { 'data.severity': { in: ['high', 'critical'] } } });
    await createWebhook(t.api, { url: rExists.url, events: ['alert.created'], filter: { 'data.cve': { exists: true } } });
    await createWebhook(t.api, { url: rGte.url, events: ['alert.created'], filter: { 'data.cvss': { gte: 7 } } });
    await createWebhook(t.api, { url: rEq.url, events: ['alert.created'], filter: { 'data.device.os': 'linux', event: 'alert.created' } });

    const events = [
      { tag: 'low', severity: 'low', cvss: 3.1, device: { os: 'windows' } },
      { tag: 'high', severity: 'high', cvss: 7, cve: 'CVE-2021-44228', device: { os: 'linux' } },
      { tag: 'critical', severity: 'critical', cvss: 9.8, cve: null, device: { os: 'Linux' } },
      { tag: 'medium', severity: 'medium', cvss: 6.99, device: { os: 'linux', version: 6 } },
      { tag: 'string-cvss', severity: 'HIGH', cvss: '9.0' },
    ];
    await publish(t.api, { events: events.map((data) => ({ event: 'alert.created', data })) });

    await Promise.all([rIn.waitFor(2), rExists.waitFor(2), rGte.waitFor(2), rEq.waitFor(2)]);
    await sleep(QUIET_MS);
    expect(tags(rIn.requests)).toEqual(['critical', 'high']); // not low, not "HIGH"
    expect(tags(rExists.requests)).toEqual(['critical', 'high']); // a null value exists
    expect(tags(rGte.requests)).toEqual(['critical', 'high']); // 7 >= 7; 6.99 and the string "9.0" do not pass
    expect(tags(rEq.requests)).toEqual(['high', 'medium']); // exact, case-sensitive
  });

  it('refuses an invalid filter with 400 at creation: bad path, unknown operator, two operators, no condition', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const bad: unknown[] = [
      { severity: 'high' },
      { 'data..severity': 'high' },
      { 'payload.severity': 'high' },
      { 'data.severity': { like: 'hi%' } },
      { 'data.cvss': { gte: 1, lte: 5 } },
      { 'data.cvss': { gte: '7' } },
      { 'data.severity': { in: [] } },
      {},
    ];
    for (const filter of bad) {
      const res = await t.api.post(WEBHOOKS, { url: r.url, events: ['alert.created'], filter });
      if (res.status !== 400) throw new Error(`filter ${JSON.stringify(filter)} answered ${res.status}: ${res.text}`);
      expect(typeof res.json.error).toBe('string');
    }
    const list = await t.api.get(`${WEBHOOKS}?page=1&per_page=100`);
    expect(list.json.items).toEqual([]);
  });

  it('PATCH {filter: null} removes the filter: the webhook then receives every event of its types', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['alert.created'], filter: { 'data.severity': { in: ['high', 'critical'] } } });
    expect(hook.filter).toEqual({ 'data.severity': { in: ['high', 'critical'] } });

    await publish(t.api, { event: 'alert.created', data: { tag: 'low-1', severity: 'low' } });
    await publish(t.api, { event: 'alert.created', data: { tag: 'high-1', severity: 'high' } });
    await r.waitFor(1);
    await sleep(QUIET_MS);
    expect(tags(r.requests)).toEqual(['high-1']);

    // A PATCH of other fields keeps the filter.
    const described = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { description: 'only the serious ones' });
    expect(described.status).toBe(200);
    expect(described.json.filter).toEqual({ 'data.severity': { in: ['high', 'critical'] } });

    const patched = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { filter: null });
    expect(patched.status).toBe(200);
    expect(patched.json.filter).toBeUndefined();
    const got = await t.api.get(`${WEBHOOKS}/${hook.id}`);
    expect(got.json).not.toHaveProperty('filter');

    await publish(t.api, { event: 'alert.created', data: { tag: 'low-2', severity: 'low' } });
    await r.waitFor(2);
    expect(tags(r.requests)).toEqual(['high-1', 'low-2']);

    // A PATCH with a bad filter is refused.
    const refused = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { filter: { 'data.severity': { between: [1, 2] } } });
    expect(refused.status).toBe(400);
  });

  it('patterns: scan.* gets scan.started and scan.completed but not alert.created; * gets everything', async () => {
    const t = await createTenant(rt);
    const [rScan, rAll, rExact] = await Promise.all([receiver(), receiver(), receiver()]);
    await createWebhook(t.api, { url: rScan.url, events: ['scan.*'] });
    await createWebhook(t.api, { url: rAll.url, events: ['*'] });
    await createWebhook(t.api, { url: rExact.url, events: ['scan.completed'] });
    await publish(t.api, {
      events: [
        { event: 'scan.started', data: { tag: 'started' } },
        { event: 'scan.completed', data: { tag: 'completed' } },
        { event: 'alert.created', data: { tag: 'alert' } },
        { event: 'asset.discovered', data: { tag: 'asset', ip: '10.1.2.3' } },
      ],
    });
    await Promise.all([rScan.waitFor(2), rAll.waitFor(4), rExact.waitFor(1)]);
    await sleep(QUIET_MS);
    expect(rScan.requests.map((r) => r.json.event).sort()).toEqual(['scan.completed', 'scan.started']);
    expect(rAll.requests.map((r) => r.json.event).sort()).toEqual(['alert.created', 'asset.discovered', 'scan.completed', 'scan.started']);
    expect(rExact.requests.map((r) => r.json.event)).toEqual(['scan.completed']);

    // A pattern that matches nothing in the catalogue is refused.
    const res = await t.api.post(WEBHOOKS, { url: rAll.url, events: ['device.*'] });
    expect(res.status).toBe(400);
  });
});

describe('the catalogue from HOOKLINE_CATALOGUE_FILE', () => {
  it('GET /api/v1/event-types lists the file\'s types with their schema, plus webhook.test', async () => {
    const t = await createTenant(rt);
    const res = await t.api.get('/api/v1/event-types');
    expect(res.status).toBe(200);
    const items: any[] = res.json.items;
    expect(items.map((i) => i.type).sort()).toEqual(['alert.created', 'asset.discovered', 'scan.completed', 'scan.started', 'webhook.test']);
    expect(items.find((i) => i.type === 'asset.discovered')).toEqual(CATALOGUE[3]);
    expect(items.find((i) => i.type === 'scan.started')).toMatchObject({ title: 'Scan started', description: 'Scan started' });
  });

  it('refuses data that fails the schema with 400 naming the field, delivers nothing of it, delivers valid data; an unknown type is 400', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    await createWebhook(t.api, { url: r.url, events: ['*'], format: 'subject_body' });

    const notIpv4 = await t.api.post('/v1/events', { event: 'asset.discovered', data: { ip: '999.1.2.3', hostname: 'x' } });
    expect(notIpv4.status).toBe(400);
    expect(notIpv4.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'data.ip' })]));

    const notString = await t.api.post('/v1/events', { event: 'asset.discovered', data: { ip: 192168 } });
    expect(notString.status).toBe(400);
    expect(notString.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'data.ip' })]));

    const missing = await t.api.post('/v1/events', { event: 'asset.discovered', data: { hostname: 'server-01' } });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json.details)).toContain('ip');

    // One bad event refuses the whole batch.
    const batch = await t.api.post('/v1/events', {
      events: [
        { event: 'asset.discovered', data: { ip: '10.0.0.1' } },
        { event: 'asset.discovered', data: { ip: 'not-an-ip' } },
      ],
    });
    expect(batch.status).toBe(400);
    expect(batch.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'events.1.data.ip' })]));

    // A NetRecon type that this catalogue does not have, and a made-up one.
    for (const event of ['device.offline', 'asset.vanished']) {
      const unknown = await t.api.post('/v1/events', { event, data: { ip: '10.0.0.1' } });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.json)).toContain(event);
    }

    await sleep(QUIET_MS);
    expect(r.requests).toHaveLength(0);

    await publish(t.api, { event: 'asset.discovered', data: { ip: '192.168.1.100', hostname: 'server-01.example.com' } });
    const [req] = await r.waitFor(1);
    expect(req!.json.subject).toBe('New Asset(s) Added');
    expect(req!.json.body).toContain('192.168.1.100');
    await sleep(300);
    expect(r.requests).toHaveLength(1);
  });
});

describe('secret rotation', () => {
  const signatures = (req: ReceivedRequest): string[] => String(req.headers['webhook-signature']).split(' ');
  const sign = (req: ReceivedRequest, secret: string): boolean => {
    try {
      verifyStandardWebhooks(req, secret);
      return true;
    } catch {
      return false;
    }
  };

  it('during the grace period both secrets sign webhook-signature, the hex header uses the new one; grace 0 leaves only the new one', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'] });
    const original: string = hook.secret;
    expect(original).toMatch(/^whsec_/);

    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const [one] = await r.waitFor(1);
    expect(signatures(one!)).toHaveLength(1);
    expect(sign(one!, original)).toBe(true);

    // A server-generated new secret with the default grace period (24 h).
    const before = Date.now();
    const rotated = await t.api.post(`${WEBHOOKS}/${hook.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    const second: string = rotated.json.secret;
    expect(second).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(second.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(second).not.toBe(original);
    const expires = Date.parse(rotated.json.previous_secret_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000 - 1_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1_000);
    // The secret is shown once: not by GET.
    const got = await t.api.get(`${WEBHOOKS}/${hook.id}`);
    expect(got.text).not.toContain(second.slice('whsec_'.length));

    await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    const [, two] = await r.waitFor(2);
    expect(signatures(two!)).toHaveLength(2);
    for (const s of signatures(two!)) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(verifyStandardWebhooks(two!, second)).toStrictEqual(two!.json);
    expect(verifyStandardWebhooks(two!, original)).toStrictEqual(two!.json);
    expect(verifyHex(two!, second)).toBe(true);
    expect(verifyHex(two!, original)).toBe(false);

    // The test endpoint signs the same way.
    const test = await t.api.post(`${WEBHOOKS}/${hook.id}/test`);
    expect(test.json).toMatchObject({ delivered: true });
    const [, , ping] = await r.waitFor(3);
    expect(signatures(ping!)).toHaveLength(2);
    expect(sign(ping!, second) && sign(ping!, original)).toBe(true);

    // A customer-chosen secret with no grace: from now on only it signs.
    const third = `rotated-${randomBytes(16).toString('hex')}`;
    const immediate = await t.api.post(`${WEBHOOKS}/${hook.id}/rotate-secret`, { secret: third, grace_period_seconds: 0 });
    expect(immediate.status).toBe(200);
    expect(immediate.json.secret).toBeUndefined();
    expect(Date.parse(immediate.json.previous_secret_expires_at)).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(immediate.text).not.toContain(third);

    await publish(t.api, { event: 'scan.completed', data: { n: 4 } });
    const [, , , four] = await r.waitFor(4);
    // `second` is replaced without grace; `original` still has its 24 hours from the first rotation.
    expect(sign(four!, third)).toBe(true);
    expect(sign(four!, second)).toBe(false);
    expect(verifyHex(four!, third)).toBe(true);
    expect(signatures(four!)).toHaveLength(2);
    expect(sign(four!, original)).toBe(true);
  });

  it('grace_period_seconds: 0 on a fresh webhook: only the new secret signs', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'] });
    const rotated = await t.api.post(`${WEBHOOKS}/${hook.id}/rotate-secret`, { grace_period_seconds: 0 });
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.json.secret;
    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const [req] = await r.waitFor(1);
    expect(signatures(req!)).toHaveLength(1);
    expect(sign(req!, fresh)).toBe(true);
    expect(sign(req!, hook.secret)).toBe(false);
    expect(verifyHex(req!, fresh)).toBe(true);
    expect(verifyHex(req!, hook.secret)).toBe(false);
  });

  it('refuses a grace period over 7 days, a negative or fractional one, and a short secret (400); 7 days exactly is fine', async () => {
    const t = await createTenant(rt);
    const r = await receiver();
    const hook = await createWebhook(t.api, { url: r.url, events: ['scan.completed'] });
    const path = `${WEBHOOKS}/${hook.id}/rotate-secret`;
    for (const body of [{ grace_period_seconds: 7 * 86_400 + 1 }, { grace_period_seconds: 30 * 86_400 }, { grace_period_seconds: -1 }, { grace_period_seconds: 1.5 }, { secret: 'short' }, { secret: 'whsec_hello-world!' }, null]) {
      const res = await t.api.post(path, body);
      if (res.status !== 400) throw new Error(`rotate-secret ${JSON.stringify(body)} answered ${res.status}: ${res.text}`);
    }
    // Nothing of the refused rotations took effect: the original secret alone still signs.
    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const [req] = await r.waitFor(1);
    expect(signatures(req!)).toHaveLength(1);
    expect(sign(req!, hook.secret)).toBe(true);

    const week = await t.api.post(path, { grace_period_seconds: 7 * 86_400 });
    expect(week.status).toBe(200);
    expect(Date.parse(week.json.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 7 * 86_400_000 - 60_000);

    const other = await createTenant(rt);
    expect((await other.api.post(path, {})).status).toBe(404);
  });
});

describe('credentials never come back out', () => {
  it('GET, list, PATCH and the delivery log show no token, password, header value, client secret or URL token; nor do the logs or emails', async () => {
    const t = await createTenant(rt);
    const secret = (label: string) => `${label}-${randomBytes(18).toString('base64url')}`;
    const bearer = secret('bearer-token');
    const password = secret('basic-password');
    const headerValue = secret('header-value');
    const clientSecret = secret('client-secret');
    const accessToken = secret('access-token');
    const urlToken = secret('url-token');
    const failingUrlToken = secret('failing-url-token');
    const patchedBearer = secret('patched-bearer');
    const signingSecret = secret('signing-secret');
    const all = [bearer, password, headerValue, clientSecret, accessToken, urlToken, failingUrlToken, patchedBearer, signingSecret];

    const r: ScriptedReceiver = await startScriptedReceiver((req) => {
      if (req.path.startsWith('/token')) return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 } };
      if (req.path.startsWith('/failing')) return { status: 500, body: { error: 'down' } };
      return { status: 200, body: { ok: true } };
    }, 'credentials receiver');
    receivers.push(r);

    const bodies: Record<string, unknown>[] = [
      { url: `${r.url}/bearer`, auth: { type: 'bearer', token: bearer }, secret: signingSecret },
      { url: `${r.url}/basic`, auth: { type: 'basic', username: 'user', password } },
      { url: `${r.url}/header`, auth: { type: 'header', name: 'X-Api-Key', value: headerValue } },
      { url: `${r.url}/oauth`, auth: { type: 'oauth2', token_url: `${r.url}/token`, client_id: 'client', client_secret: clientSecret, scope: 'hooks' } },
      { url: `${r.url}/url-auth?token=${urlToken}&tenant=acme` },
      { url: `${r.url}/failing?token=${failingUrlToken}` },
    ];
    const answers: string[] = [];
    const hooks: any[] = [];
    for (const body of bodies) {
      const res = await t.api.post(WEBHOOKS, { events: ['alert.created'], ...body });
      expect(res.status).toBe(201);
      answers.push(res.text);
      hooks.push(res.json);
    }
    expect(hooks.map((h) => h.auth.type)).toEqual(['bearer', 'basic', 'header', 'oauth2', 'none', 'none']);
    expect(hooks[4].url).toBe(`${r.url}/url-auth?token=****&tenant=****`);

    // Every webhook sends once through the test endpoint and once through the pipeline.
    for (const h of hooks) answers.push((await t.api.post(`${WEBHOOKS}/${h.id}/test`)).text);
    await publish(t.api, { event: 'alert.created', data: { title: 'credential check' } });
    await r.waitUntil('every delivery', (ex) => ex.filter((e) => !e.req.path.startsWith('/token')).length >= 12);
    // The receivers did get the real credentials.
    const seen = r.exchanges.map((e) => `${e.req.path} ${e.req.headers.authorization ?? ''} ${e.req.headers['x-api-key'] ?? ''}`).join('\n');
    for (const c of [bearer, headerValue, accessToken, urlToken, failingUrlToken]) expect(seen).toContain(c);

    const patched = await t.api.patch(`${WEBHOOKS}/${hooks[0].id}`, { auth: { type: 'bearer', token: patchedBearer } });
    expect(patched.status).toBe(200);
    answers.push(patched.text);
    for (const h of hooks) {
      answers.push((await t.api.get(`${WEBHOOKS}/${h.id}`)).text);
      const log = await eventually(`two attempts of ${h.id}`, async () => {
        const res = await t.api.get(`${WEBHOOKS}/${h.id}/deliveries?page=1&per_page=25`);
        return res.json.items.length >= 2 ? res : undefined;
      });
      answers.push(log.text);
    }
    answers.push((await t.api.get(`${WEBHOOKS}?page=1&per_page=100`)).text);

    // The failing webhook's owner gets an email (one attempt on this runtime's ladder).
    const outbox = join(rt.dataDir, 'outbox');
    const emails = await eventually('the failing email', async () => {
      const files = await readdir(outbox).catch(() => [] as string[]);
      const texts = await Promise.all(files.filter((f) => f.endsWith('.eml')).map((f) => readFile(join(outbox, f), 'utf8')));
      return texts.some((x) => x.includes(hooks[5].id)) ? texts : undefined;
    });

    const leaks = (text: string) => all.filter((c) => text.includes(c));
    expect(answers.flatMap(leaks)).toEqual([]);
    expect(leaks(rt.stdout())).toEqual([]);
    expect(leaks(rt.stderr())).toEqual([]);
    expect(emails.flatMap(leaks)).toEqual([]);
  });
});
