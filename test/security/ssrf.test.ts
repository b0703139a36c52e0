/**
 * Issue 5, SSRF: no request reaches where it must not (README "Security": SSRF guard, registration).
 *
 * Network rule of this file: only 127.0.0.0/8 is ever connected to. Refused targets (metadata,
 * RFC 1918, ...) are only classified, checked by the URL pre-check, or "resolved" by an injected
 * resolver whose answers a policy then refuses before any socket opens.
 */
import type { LookupAddress } from 'node:dns';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, get as httpGet } from 'node:http';
import tls from 'node:tls';
import { guardedLookup } from '../../shared/adapters/http/guarded-lookup.ts';
import { NodeHttpSender } from '../../shared/adapters/http/node-http-sender.ts';
import { UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import { addressRefusal, DEFAULT_ALLOWED_PORTS, urlRefusal, type TargetPolicy } from '../../shared/domain/targets.ts';
import type { SendResult } from '../../shared/usecases/ports.ts';
import { WEBHOOKS } from '../support/hookline.ts';
import { api, startRuntime, type Runtime } from '../support/runtime.ts';
import { expectJsonError, hasOpenssl, makeTestCertificates, quiet, startProbePair, type Probe } from './helpers.ts';

const STRICT: TargetPolicy = { allowPrivateTargets: false, allowedPorts: DEFAULT_ALLOWED_PORTS };
const LOCAL: TargetPolicy = { allowPrivateTargets: true, allowedPorts: DEFAULT_ALLOWED_PORTS };

describe('addressRefusal: which resolved addresses the guard lets through (classification only)', () => {
  const refused: [string, RegExp | null][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /linkLocal/],
    ['169.254.0.1', /linkLocal/],
    ['100.64.0.1', /carrierGradeNat/],
    ['100.127.255.255', /carrierGradeNat/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['[::1]', /loopback/],
    ['fc00::1', /uniqueLocal/],
    ['fd00:ec2::254', /uniqueLocal/],
    ['fe80::1', /linkLocal/],
    ['fe80::1%eth0', /linkLocal/],
    ['febf:ffff::1', /linkLocal/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:a9fe:a9fe', /linkLocal/],
    ['::ffff:10.0.0.1', /private/],
    ['::127.0.0.1', /loopback/],
    ['::a9fe:a9fe', /linkLocal/],
    ['64:ff9b::a00:1', /private/],
    ['64:ff9b::a9fe:a9fe', /linkLocal/],
    ['64:ff9b::7f00:1', /loopback/],
    ['2002:7f00:1::1', null], // 6to4 of 127.0.0.1
    ['2002:a9fe:a9fe::1', null], // 6to4 of 169.254.169.254
    ['2002:c0a8:101::1', null], // 6to4 of 192.168.1.1
    ['2002:a00:1::', null], // 6to4 of 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', null], // Teredo
    ['not-an-address', null],
    ['', null],
  ];
  it.each(refused)('refuses %s', (address, why) => {
    const refusal = addressRefusal(address);
    expect(refusal).toEqual(expect.any(String));
    if (why) expect(refusal).toMatch(why);
  });

  const allowed = ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.1', '172.15.255.255', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2606:4700:4700::1111'];
  it.each(allowed)('allows %s', (address) => {
    expect(addressRefusal(address)).toBeUndefined();
  });
});

describe('urlRefusal: the pre-check before any DNS lookup', () => {
  const refusedStrict: [string, RegExp][] = [
    ['ftp://example.com/file', /scheme ftp:/],
    ['file:///etc/passwd', /scheme file:/],
    ['gopher://example.com:70/_x', /scheme gopher:/],
    ['javascript:alert(1)', /scheme javascript:/],
    ['data:text/plain,hi', /scheme data:/],
    ['ws://example.com/', /scheme ws:/],
    ['http://example.com/', /https/],
    ['https://user:pass@example.com/', /credentials/],
    ['https://user@example.com/', /credentials/],
    ['https://:pass@example.com/', /credentials/],
    ['https://example.com:22/', /port 22/],
    ['https://example.com:6379/', /port 6379/],
    ['https://example.com:25/', /port 25/],
    ['https://localhost/', /localhost/],
    ['https://LOCALHOST:443/', /localhost/],
    ['https://api.localhost/', /localhost/],
    ['https://a.b.localhost/', /localhost/],
    ['https://127.0.0.1/', /loopback/],
    ['https://2130706433/', /loopback/],
    ['https://0x7f.1/', /loopback/],
    ['https://0177.0.0.1/', /loopback/],
    ['https://127.1/', /loopback/],
    ['https://%31%32%37.0.0.1/', /loopback/],
    ['https://0/', /unspecified/],
    ['https://[::ffff:127.0.0.1]/', /loopback/],
    ['https://[0:0:0:0:0:ffff:7f00:1]/', /loopback/],
    ['https://[::1]/', /loopback/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://[::ffff:169.254.169.254]/', /linkLocal/],
    ['https://[fd00:ec2::254]/', /uniqueLocal/],
    ['https://10.0.0.1/', /private/],
    ['https://100.64.0.1/', /carrierGradeNat/],
    ['https://[64:ff9b::a00:1]/', /private/],
  ];
  it.each(refusedStrict)('refuses %s', (raw, why) => {
    expect(urlRefusal(new URL(raw), STRICT)).toMatch(why);
  });

  it('refuses the literal forms WHATWG normalizes even over http:// (the scheme check comes first)', () => {
    for (const raw of ['http://2130706433/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/']) {
      expect({ raw, refusal: urlRefusal(new URL(raw), STRICT) }).toEqual({ raw, refusal: expect.any(String) });
    }
  });

  // RFC 6761: "localhost." is the same name as "localhost"; the fully-qualified spelling must not
  // slip past the pre-check (the resolved-address checks would still catch it, but only after a lookup).
  it.each(['https://localhost./', 'https://api.localhost./'])('refuses the fully-qualified %s', (raw) => {
    expect(urlRefusal(new URL(raw), STRICT)).toMatch(/localhost/);
  });

  it.each(['https://example.com/', 'https://example.com:443/x', 'https://example.com:80/', 'https://example.com:8443/', 'https://8.8.8.8/', 'https://[2001:4860:4860::8888]/'])(
    'allows %s by default',
    (raw) => {
      expect(urlRefusal(new URL(raw), STRICT)).toBeUndefined();
    },
  );

  it('uses HOOKLINE_ALLOWED_PORTS instead of the defaults', () => {
    const policy: TargetPolicy = { allowPrivateTargets: false, allowedPorts: [9443] };
    expect(urlRefusal(new URL('https://example.com:9443/'), policy)).toBeUndefined();
    expect(urlRefusal(new URL('https://example.com/'), policy)).toMatch(/port 443/);
  });

  it('with private targets allowed, still refuses other schemes and user info', () => {
    expect(urlRefusal(new URL('http://127.0.0.1:9000/hook'), LOCAL)).toBeUndefined();
    expect(urlRefusal(new URL('ftp://127.0.0.1/'), LOCAL)).toMatch(/scheme/);
    expect(urlRefusal(new URL('file:///etc/passwd'), LOCAL)).toMatch(/scheme/);
    expect(urlRefusal(new URL('http://u:p@127.0.0.1:9000/'), LOCAL)).toMatch(/credentials/);
  });
});

// ---------------------------------------------------------------------------------------------
// The guarded lookup on real sockets, 127.0.0.0/8 only: 127.0.0.2 plays the public address the
// name should reach, 127.0.0.3 plays the internal address (metadata, RFC 1918) it must never reach.

const ALLOWED_ADDRESS = '127.0.0.2';
const INTERNAL_ADDRESS = '127.0.0.3';
/** The policy under test, with 127.0.0.2 standing in for a public address. */
const fakeRefusal = (address: string): string | undefined => (address === ALLOWED_ADDRESS ? undefined : `test-internal address ${address}`);

type Resolve = Parameters<typeof guardedLookup>[0];
/** A resolver answering `answers(n)` for the n-th (1-based) lookup, asynchronously as real DNS does. */
function fakeResolver(answers: (n: number) => string[]): { resolve: NonNullable<Resolve>; calls: string[] } {
  const calls: string[] = [];
  const resolve: NonNullable<Resolve> = (hostname, callback) => {
    calls.push(hostname);
    const n = calls.length;
    const addresses: LookupAddress[] = answers(n).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    setImmediate(() => callback(null, addresses));
  };
  return { resolve, calls };
}

const HOST = 'rebind.test';

describe('guarded lookup through a keep-alive node:http Agent (http, 127.0.0.0/8 only)', () => {
  let allowed: Probe;
  let internal: Probe;
  beforeAll(async () => {
    [allowed, internal] = await startProbePair(ALLOWED_ADDRESS, INTERNAL_ADDRESS);
  });
  afterAll(async () => {
    await Promise.all([allowed?.close(), internal?.close()]);
  });
  beforeEach(() => {
    allowed.requests.length = 0;
    internal.requests.length = 0;
  });

  function get(agent: Agent): Promise<{ status: number; body: string } | { error: unknown }> {
    return new Promise((resolve) => {
      httpGet(`http://${HOST}:${allowed.port}/`, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      }).on('error', (error) => resolve({ error }));
    });
  }
  const agentWith = (lookup: ReturnType<typeof guardedLookup>) => new Agent({ keepAlive: true, lookup });

  it('connects to the checked address, one lookup per connection, and refuses a name resolving to a refused address', async () => {
    const dns = fakeResolver(() => [ALLOWED_ADDRESS]);
    const agent = agentWith(guardedLookup(dns.resolve, fakeRefusal));
    try {
      const before = allowed.connections();
      for (let i = 0; i < 3; i++) {
        expect(await get(agent)).toMatchObject({ status: 200 });
        await quiet(20); // let the connection go back to the pool
      }
      expect(allowed.requests.map((r) => r.localAddress)).toEqual([ALLOWED_ADDRESS, ALLOWED_ADDRESS, ALLOWED_ADDRESS]);
      expect(dns.calls.length).toBe(allowed.connections() - before);
    } finally {
      agent.destroy();
    }

    const bad = fakeResolver(() => [INTERNAL_ADDRESS]);
    const refusing = agentWith(guardedLookup(bad.resolve, fakeRefusal));
    try {
      const result = await get(refusing);
      expect('error' in result).toBe(true);
      const err = (result as { error: { code?: string; message?: string } }).error;
      expect(err.code).toBe('HOOKLINE_TARGET_REFUSED');
      expect(err.message).toContain(INTERNAL_ADDRESS);
    } finally {
      refusing.destroy();
    }
    expect(internal.requests).toHaveLength(0);
  });

  it('DNS rebinding: a keep-alive connection stays on the first, checked address; a new lookup that rebinds is refused', async () => {
    const dns = fakeResolver((n) => (n === 1 ? [ALLOWED_ADDRESS] : [INTERNAL_ADDRESS]));
    const agent = agentWith(guardedLookup(dns.resolve, fakeRefusal));
    try {
      expect(await get(agent)).toMatchObject({ status: 200 });
      await quiet(20);
      expect(await get(agent)).toMatchObject({ status: 200 });
      expect(allowed.requests).toHaveLength(2);
      expect(dns.calls).toHaveLength(1);
      // Another connection needs another lookup, which now answers the internal address: refused.
      const [a, b] = await Promise.all([get(agent), get(agent)]);
      const refusedOrAllowed = [a, b].map((r) => ('status' in r ? 'reached 127.0.0.2' : (r.error as { code?: string }).code));
      for (const outcome of refusedOrAllowed) expect(['reached 127.0.0.2', 'HOOKLINE_TARGET_REFUSED']).toContain(outcome);
    } finally {
      agent.destroy();
    }
    expect(internal.requests).toHaveLength(0);
  });

  it('drops the refused addresses of a mixed answer and connects only to the allowed one', async () => {
    const dns = fakeResolver(() => [INTERNAL_ADDRESS, ALLOWED_ADDRESS, INTERNAL_ADDRESS]);
    const agent = agentWith(guardedLookup(dns.resolve, fakeRefusal));
    try {
      for (let i = 0; i < 3; i++) expect(await get(agent)).toMatchObject({ status: 200 });
    } finally {
      agent.destroy();
    }
    expect(internal.requests).toHaveLength(0);
    expect(allowed.requests.every((r) => r.localAddress === ALLOWED_ADDRESS)).toBe(true);
  });
});

// The real senders (NodeHttpSender on Lambda, UndiciHttpSender on the one-machine runtime's
// sender thread) refuse http:// when private targets are not allowed, so they are exercised over
// https with a throw-away CA trusted for this test only (tls.setDefaultCACertificates).
const describeTls = hasOpenssl ? describe.each : describe.skip.each;
type GuardedSender = NodeHttpSender | UndiciHttpSender;
const GUARDED_SENDERS: [string, (options: ConstructorParameters<typeof NodeHttpSender>[0]) => GuardedSender][] = [
  ['NodeHttpSender', (options) => new NodeHttpSender(options)],
  ['UndiciHttpSender', (options) => new UndiciHttpSender(options)],
];
describeTls(GUARDED_SENDERS)('%s with the guarded lookup (https, 127.0.0.0/8 only, throw-away CA)', (_name, makeSender) => {
  let allowed: Probe;
  let internal: Probe;
  let savedCAs: string[];
  beforeAll(async () => {
    const certs = makeTestCertificates([HOST]);
    savedCAs = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...savedCAs, certs.ca]);
    [allowed, internal] = await startProbePair(ALLOWED_ADDRESS, INTERNAL_ADDRESS, { key: certs.key, cert: certs.cert });
  });
  afterAll(async () => {
    if (savedCAs) tls.setDefaultCACertificates(savedCAs);
    await Promise.all([allowed?.close(), internal?.close()]);
  });
  beforeEach(() => {
    allowed.requests.length = 0;
    internal.requests.length = 0;
  });

  const sender = (resolve: NonNullable<Resolve>) =>
    makeSender({ policy: { allowPrivateTargets: false, allowedPorts: [allowed.port] }, resolve, addressRefusal: fakeRefusal });
  const post = (s: GuardedSender, body = '{"n":1}'): Promise<SendResult> =>
    s.post({ url: `https://${HOST}:${allowed.port}/hook`, headers: { 'content-type': 'application/json' }, body, timeoutMs: 5_000 });

  it('(a) reaches the server on the checked address, with one lookup per connection (pinned)', async () => {
    const dns = fakeResolver(() => [ALLOWED_ADDRESS]);
    const s = sender(dns.resolve);
    const before = allowed.connections();
    try {
      for (let i = 0; i < 3; i++) {
        expect(await post(s, `{"n":${i}}`)).toMatchObject({ kind: 'response', statusCode: 200 });
        await quiet(20);
      }
    } finally {
      await s.close();
    }
    expect(allowed.requests.map((r) => [r.localAddress, r.json?.n])).toEqual([
      [ALLOWED_ADDRESS, 0],
      [ALLOWED_ADDRESS, 1],
      [ALLOWED_ADDRESS, 2],
    ]);
    const connections = allowed.connections() - before;
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(dns.calls).toEqual(Array(connections).fill(HOST));
  });

  it("(b) a name resolving to a refused address is a failed attempt 'refused: ...' naming the address; nothing reaches it", async () => {
    const dns = fakeResolver(() => [INTERNAL_ADDRESS]);
    const s = sender(dns.resolve);
    let result: SendResult;
    try {
      result = await post(s);
    } finally {
      await s.close();
    }
    expect(result).toMatchObject({ kind: 'error' });
    const error = (result as Extract<SendResult, { kind: 'error' }>).error;
    expect(error.startsWith('refused:')).toBe(true);
    expect(error).toContain(INTERNAL_ADDRESS);
    expect(dns.calls.length).toBeGreaterThanOrEqual(1);
    expect(internal.requests).toHaveLength(0);
    expect(internal.connections()).toBe(0);
  });

  it('(c) DNS rebinding: first answer 127.0.0.2, later ones 127.0.0.3; keep-alive requests all reach 127.0.0.2, 127.0.0.3 gets nothing', async () => {
    const dns = fakeResolver((n) => (n === 1 ? [ALLOWED_ADDRESS] : [INTERNAL_ADDRESS]));
    const s = sender(dns.resolve);
    try {
      expect(await post(s, '{"n":1}')).toMatchObject({ kind: 'response', statusCode: 200 });
      await quiet(20);
      expect(await post(s, '{"n":2}')).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(dns.calls).toHaveLength(1);
      // Parallel requests force a second connection, whose lookup rebinds: that one must be refused.
      const results = await Promise.all([post(s, '{"n":3}'), post(s, '{"n":4}'), post(s, '{"n":5}')]);
      for (const r of results) {
        if (r.kind === 'error') expect(r.error).toMatch(/^refused: .*127\.0\.0\.3/);
        else expect(r.statusCode).toBe(200);
      }
    } finally {
      await s.close();
    }
    expect(allowed.requests.every((r) => r.localAddress === ALLOWED_ADDRESS)).toBe(true);
    expect(internal.requests).toHaveLength(0);
    expect(internal.connections()).toBe(0);
  });

  it('refuses a literal refused address without any lookup, and never follows a redirect to one', async () => {
    const dns = fakeResolver(() => [ALLOWED_ADDRESS]);
    const s = sender(dns.resolve);
    allowed.setResponder(() => ({ status: 302, headers: { location: `https://${INTERNAL_ADDRESS}:${allowed.port}/stolen` } }));
    try {
      const literal = await s.post({ url: `https://${INTERNAL_ADDRESS}:${allowed.port}/`, headers: {}, body: '{}', timeoutMs: 2_000 });
      expect(literal).toMatchObject({ kind: 'error', error: expect.stringMatching(/^refused: .*loopback/) });
      expect(dns.calls).toHaveLength(0);
      expect(await post(s)).toMatchObject({ kind: 'response', statusCode: 302 });
    } finally {
      allowed.setResponder(undefined);
      await s.close();
    }
    expect(internal.requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Registration with HOOKLINE_ALLOW_PRIVATE_TARGETS=false. Every URL here is refused by the
// pre-check, before any DNS lookup; no webhook the runtime could try to reach is ever created.

describe('registration refuses unsafe targets up front (HOOKLINE_ALLOW_PRIVATE_TARGETS=false)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime({ env: { HOOKLINE_ALLOW_PRIVATE_TARGETS: 'false' } });
  });
  afterAll(async () => {
    await rt?.cleanup();
  });

  const secretFiles = async () => (await readdir(join(rt.dataDir, 'secrets')).catch(() => [] as string[])).sort();

  const refused: [string, RegExp][] = [
    ['https://127.0.0.1/', /loopback/],
    ['https://localhost/', /localhost/],
    ['https://api.localhost/', /localhost/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://[::1]/', /loopback/],
    ['https://[fd00:ec2::254]/', /uniqueLocal/],
    ['https://[::ffff:a9fe:a9fe]/', /linkLocal/],
    ['https://[64:ff9b::a9fe:a9fe]/', /linkLocal/],
    ['https://2130706433/', /loopback/],
    ['https://0x7f.1/', /loopback/],
    ['https://10.0.0.1/', /private/],
    ['https://100.64.0.1/', /carrierGradeNat/],
    ['https://example.com:22/', /port 22/],
    ['https://example.com:6379/', /port 6379/],
    ['http://example.com/', /https/],
    ['ftp://x/', /scheme/],
    ['file:///etc/passwd', /scheme/],
    ['javascript:alert(1)', /scheme/],
    ['https://user:pass@example.com/', /credentials/],
  ];

  it.each(refused)('POST webhook %s -> 400 naming the problem, nothing created', async (url, why) => {
    const client = api(rt.baseUrl, rt.apiKey);
    const secretsBefore = await secretFiles();
    const res = await client.post(WEBHOOKS, { url, events: ['*'], active: false });
    expectJsonError(res, 400);
    expect(res.json.error).toMatch(why);
    expect(res.json.error).toMatch(/^url /);
    const list = await client.get(WEBHOOKS);
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([]);
    expect(await secretFiles()).toEqual(secretsBefore);
  });

  it('refuses an OAuth2 token_url on a refused address (the token fetch is an outbound request too)', async () => {
    const client = api(rt.baseUrl, rt.apiKey);
    // The webhook URL is a public literal (no DNS) and the webhook is inactive: if the check were
    // missing, the webhook would be created but nothing would ever be sent.
    for (const tokenUrl of ['https://127.0.0.1/token', 'https://169.254.169.254/token', 'http://127.0.0.1:8080/token', 'https://localhost/token']) {
      const res = await client.post(WEBHOOKS, {
        url: 'https://8.8.8.8/hook',
        events: ['*'],
        active: false,
        auth: { type: 'oauth2', token_url: tokenUrl, client_id: 'id', client_secret: 'client-secret-value' },
      });
      expectJsonError(res, 400);
      expect({ tokenUrl, error: res.json.error }).toEqual({ tokenUrl, error: expect.stringMatching(/^auth\.token_url /) });
    }
    expect((await client.get(WEBHOOKS)).json.items).toEqual([]);
  });

  it('a URL over 2048 characters or with a fragment is refused too', async () => {
    const client = api(rt.baseUrl, rt.apiKey);
    expectJsonError(await client.post(WEBHOOKS, { url: `https://8.8.8.8/${'a'.repeat(2100)}`, events: ['*'], active: false }), 400);
    expectJsonError(await client.post(WEBHOOKS, { url: 'https://8.8.8.8/#frag', events: ['*'], active: false }), 400);
    expect((await client.get(WEBHOOKS)).json.items).toEqual([]);
  });
});
