/**
 * Issue 5, credentials: a secret, token, password, API key or access token never shows up in a
 * log line (DEBUG level), in an API answer after the one that created it, or in an email
 * (README "Security": credentials, logs). Every receiver is on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import { readOutbox } from '../support/outbox.ts';
import { api, eventually, type ApiResponse, startRuntime, type Runtime } from '../support/runtime.ts';
import { expectJsonError, quiet, startProbe, type Probe, type ProbeResponder } from './helpers.ts';

const rnd = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

let rt: Runtime;
const probes: Probe[] = [];

/** Every credential of this test, by what it is. */
const secrets = new Map<string, string>();
const secret = (what: string, value: string): string => {
  secrets.set(what, value);
  return value;
};
/** Every API answer after creation, and the single field each may legitimately show a secret in. */
const answers: { what: string; res: ApiResponse; allowed?: string }[] = [];
const record = (what: string, res: ApiResponse, allowed?: string): ApiResponse => {
  answers.push({ what, res, ...(allowed === undefined ? {} : { allowed }) });
  return res;
};

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Every place a value may hide in text: as is, base64 and URL-encoded. */
function forms(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), Buffer.from(value).toString('base64')])];
}

function leaks(text: string, except: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const [what, value] of secrets) {
    if (except.includes(what)) continue;
    for (const form of forms(value)) if (text.includes(form)) found.push(`${what} (${form === value ? 'as is' : 'encoded'})`);
  }
  return found;
}

beforeAll(async () => {
  rt = await startRuntime({
    env: {
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      HOOKLINE_RETRY_DELAYS: '0,0.2',
      HOOKLINE_REQUEST_TIMEOUT_MS: '500',
    },
  });
  secret('admin key', rt.adminKey);
  secret('default tenant key', rt.apiKey);
});

afterAll(async () => {
  await rt?.cleanup();
  await Promise.all(probes.map((p) => p.close()));
});

async function probe(respond?: ProbeResponder) {
  const p = await startProbe(respond ? { respond } : {});
  probes.push(p);
  return p;
}

it('no credential appears in the logs, in later API answers or in the emails', async () => {
  const tenant = await createTenant(rt, 'secrets-tenant');
  secret('tenant key', tenant.key);
  const client = tenant.api;

  const healthy = await probe();
  const failing = await probe(() => ({ status: 500, body: '{"error":"boom"}' }));
  const slow = await probe(() => ({ status: 200, delayMs: 3_000 }));
  const accessTokens = [secret('access token 1', rnd('at1-')), secret('access token 2', rnd('at2-'))];
  const tokenEndpoint = await probe((_req, i) => ({
    status: 200,
    body: JSON.stringify({ access_token: accessTokens[Math.min(i, 1)], token_type: 'Bearer', expires_in: 3600 }),
  }));
  // The OAuth2 receiver refuses the first token (401): Hookline fetches a fresh one and retries.
  const oauthReceiver = await probe((_req, i) => (i === 0 ? { status: 401, body: '{"error":"invalid_token"}' } : { status: 200 }));
  const urlAuthReceiver = await probe();
  const refusedPort = await closedPort();

  const ownSecret = secret('own signing secret', rnd('own-signing-'));
  const bearer = secret('bearer token', rnd('bearer-'));
  const basicPassword = secret('basic password', rnd('basic-pw-'));
  secret('basic credential', Buffer.from(`svc-user:${basicPassword}`).toString('base64'));
  const headerValue = secret('header value', rnd('hdr-'));
  const clientSecret = secret('oauth2 client secret', rnd('client-secret-'));
  secret('oauth2 basic credential', Buffer.from(`client-1:${clientSecret}`).toString('base64'));
  const urlToken = secret('URL token', rnd('urltok-'));

  const create = async (what: string, body: Record<string, unknown>) => {
    const res = await client.post(WEBHOOKS, { events: ['scan.completed'], ...body });
    expect({ what, status: res.status, body: res.text.slice(0, 300) }).toMatchObject({ status: 201 });
    if (res.json.secret) secret(`generated secret of ${what}`, res.json.secret);
    record(`create ${what}`, res, res.json.secret ? `generated secret of ${what}` : undefined);
    return res.json as { id: string; secret?: string };
  };
  const hooks = {
    generated: await create('generated', { url: `${healthy.url}/gen` }),
    own: await create('own', { url: `${failing.url}/own`, secret: ownSecret }),
    bearer: await create('bearer', { url: `${slow.url}/bearer`, auth: { type: 'bearer', token: bearer } }),
    basic: await create('basic', { url: `http://127.0.0.1:${refusedPort}/basic`, auth: { type: 'basic', username: 'svc-user', password: basicPassword } }),
    header: await create('header', { url: `${healthy.url}/hdr`, auth: { type: 'header', name: 'X-Api-Key', value: headerValue } }),
    oauth: await create('oauth2', {
      url: `${oauthReceiver.url}/oauth`,
      auth: { type: 'oauth2', token_url: `${tokenEndpoint.url}/token`, client_id: 'client-1', client_secret: clientSecret, scope: 'webhooks' },
    }),
    url: await create('url', { url: `${urlAuthReceiver.url}/u?token=${urlToken}&x=1` }),
  };
  expect(hooks.generated.secret).toMatch(/^whsec_/);

  // Deliveries: healthy, 500, timeout, connection refused, OAuth2 with a 401, URL auth.
  for (let i = 0; i < 2; i++) expect((await client.post('/v1/events', { event: 'scan.completed', data: { i } })).status).toBe(202);
  await healthy.waitUntil('4 deliveries', (rs) => rs.length >= 4, 15_000);
  await failing.waitUntil('2 events x 2 attempts', (rs) => rs.length >= 4, 15_000);
  await slow.waitUntil('2 events x 2 attempts', (rs) => rs.length >= 4, 15_000);
  await urlAuthReceiver.waitUntil('2 deliveries', (rs) => rs.length >= 2, 15_000);
  await oauthReceiver.waitUntil('the 401 and 2 deliveries', (rs) => rs.filter((r) => r.headers.authorization).length >= 3, 15_000);
  expect(urlAuthReceiver.requests[0]!.path).toContain(urlToken);
  expect(oauthReceiver.requests.at(-1)!.headers.authorization).toBe(`Bearer ${accessTokens[1]}`);
  await eventually('the failing emails of the 500, timeout and refused webhooks', async () => {
    const emails = await readOutbox(rt.dataDir);
    return emails.length >= 3 ? emails : undefined;
  }, 15_000);

  // Rotation (generated and given), the test endpoint, a PATCH of credentials.
  const rotatedGen = record('rotate generated', await client.post(`${WEBHOOKS}/${hooks.generated.id}/rotate-secret`, {}), 'rotated generated secret');
  expect(rotatedGen.status).toBe(200);
  secret('rotated generated secret', rotatedGen.json.secret);
  const rotatedOwn = secret('rotated own secret', rnd('own-rotated-'));
  expect(record('rotate own', await client.post(`${WEBHOOKS}/${hooks.own.id}/rotate-secret`, { secret: rotatedOwn })).status).toBe(200);
  const newBearer = secret('patched bearer token', rnd('bearer2-'));
  expect(record('patch bearer', await client.patch(`${WEBHOOKS}/${hooks.bearer.id}`, { auth: { type: 'bearer', token: newBearer } })).status).toBe(200);
  const newUrlToken = secret('patched URL token', rnd('urltok2-'));
  expect(record('patch url', await client.patch(`${WEBHOOKS}/${hooks.url.id}`, { url: `${urlAuthReceiver.url}/u2?token=${newUrlToken}` })).status).toBe(200);
  for (const [name, hook] of Object.entries(hooks)) {
    const res = record(`test ${name}`, await client.post(`${WEBHOOKS}/${hook.id}/test`));
    expect({ name, status: res.status }).toEqual({ name, status: 200 });
  }
  expect((await client.post('/v1/events', { event: 'scan.completed', data: { after: 'rotation' } })).status).toBe(202);
  await healthy.waitUntil('the deliveries after rotation', (rs) => rs.filter((r) => r.json?.data?.after === 'rotation').length >= 2, 10_000);

  // Refused requests that carry credentials: a bad body (400) and a wrong key (401).
  const badToken = secret('token in a refused body', rnd('refused-token-'));
  const bad = record('400 create', await client.post(WEBHOOKS, { url: `${healthy.url}/x`, events: ['scan.completed'], auth: { type: 'bearer', token: badToken, extra: 1 } }));
  expectJsonError(bad, 400);
  const badSecret = secret('too-short secret in a refused PATCH', 'q7z-x9k');
  expectJsonError(record('400 patch', await client.patch(`${WEBHOOKS}/${hooks.generated.id}`, { secret: badSecret })), 400);
  const badPassword = secret('password in a refused body', rnd('refused-pw-'));
  expectJsonError(
    record('400 basic', await client.post(WEBHOOKS, { url: 'ftp://x/', events: ['scan.completed'], auth: { type: 'basic', username: 'u', password: badPassword } })),
    400,
  );
  const wrongKey = secret('wrong API key', `hk_${randomBytes(24).toString('base64url')}`);
  expectJsonError(record('401', await api(rt.baseUrl, wrongKey).get(WEBHOOKS)), 401);
  expectJsonError(record('401 tenant key on admin', await api(rt.baseUrl, tenant.key).post('/admin/v1/tenants', { name: 'x', owner_email: 'x@example.com' })), 401);
  expectJsonError(record('401 admin key on tenant', await api(rt.baseUrl, rt.adminKey).get(WEBHOOKS)), 401);

  // Everything the API shows afterwards.
  record('list', await client.get(`${WEBHOOKS}?per_page=100`));
  for (const [name, hook] of Object.entries(hooks)) {
    record(`get ${name}`, await client.get(`${WEBHOOKS}/${hook.id}`));
    record(`deliveries ${name}`, await client.get(`${WEBHOOKS}/${hook.id}/deliveries?per_page=100`));
  }
  const urlView = (await client.get(`${WEBHOOKS}/${hooks.url.id}`)).json;
  expect(urlView.url).toMatch(/token=\*\*\*\*/);
  const basicLog = (await client.get(`${WEBHOOKS}/${hooks.basic.id}/deliveries`)).json.items;
  expect(basicLog.some((a: { error?: string }) => /refused/i.test(a.error ?? ''))).toBe(true);
  const bearerLog = (await client.get(`${WEBHOOKS}/${hooks.bearer.id}/deliveries`)).json.items;
  expect(bearerLog.some((a: { error?: string }) => /timeout/i.test(a.error ?? ''))).toBe(true);
  await quiet(500);

  // 1. Logs (stdout and stderr, DEBUG). The start-up banner prints the bootstrap and admin keys by
  // design (README "Using it"); nothing else may.
  const banner = /^\s*(API key \(tenant "default"\)|Admin key \(\/admin\/v1\/\*\)):/;
  const logText = [...rt.stdout().split('\n').filter((l) => !banner.test(l)), rt.stderr()].join('\n');
  // The capture really holds the pipeline's logs, and the detector really finds a key.
  expect(logText).toMatch(/delivery attempt failed/);
  expect(leaks(rt.stdout())).toEqual(expect.arrayContaining(['admin key (as is)', 'default tenant key (as is)']));
  expect(rt.stdout().split('\n').filter((l) => banner.test(l))).toHaveLength(2);
  expect(leaks(logText)).toEqual([]);

  // 2. API answers, each allowed to show only the secret it generated, in its `secret` field.
  const apiLeaks = answers.flatMap(({ what, res, allowed }) => {
    const json = res.json && typeof res.json === 'object' ? { ...res.json } : res.json;
    if (allowed && json) delete json.secret;
    const text = json === undefined ? res.text : JSON.stringify(json);
    return leaks(text).map((l) => `${what}: ${l}`);
  });
  expect(apiLeaks).toEqual([]);

  // 3. Emails.
  const emails = await readOutbox(rt.dataDir);
  expect(emails.length).toBeGreaterThanOrEqual(3);
  expect(emails.flatMap((e) => leaks(e.raw).map((l) => `${e.file}: ${l}`))).toEqual([]);
});
