/**
 * Issue 8: the one-machine API server reads no body before the key is checked, never buffers a
 * body past its route's limit, bounds connections and slow requests, and routes only the raw path
 * (`//x/api/...` is not `/api/...`). The server alone (in process, with a fake authorizer and
 * recording functions) for the exact protocol, then the real runtime for memory under attack.
 * Everything listens and connects on 127.0.0.1.
 */
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RateLimitedError, UnauthorizedError } from '../../shared/errors.ts';
import { DEFAULT_MAX_BODY_BYTES, ROUTES } from '../../shared/http/routes.ts';
import { HEADERS_TIMEOUT_MS, MAX_CONNECTIONS, REQUEST_TIMEOUT_MS, startApiServer, type ApiLambda, type Authorize } from '../../infra/local/http-server.ts';
import { api, startRuntime, type Runtime } from '../support/runtime.ts';

const TEN_MIB = 10 * 1024 * 1024;

interface RawAnswer {
  /** Status of the first final (non-1xx) answer, 0 when none came. */
  readonly status: number;
  /** Everything the server wrote. */
  readonly text: string;
  /** Milliseconds from connecting to the final answer's status line. */
  readonly answeredAfterMs: number;
  /** Body bytes handed to the socket before the answer came. */
  readonly bodyBytesBeforeAnswer: number;
  /** The server closed the connection (FIN or reset) after answering. */
  readonly closed: boolean;
}

interface BodyPlan {
  readonly bytes: number;
  readonly chunk: number;
  /** 0: as fast as the socket takes them. */
  readonly everyMs: number;
  /** Each write framed as one chunk of `Transfer-Encoding: chunked`. */
  readonly chunked?: boolean;
}

/**
 * One request on its own TCP connection: `head` (request line and headers), then, unless `body`
 * is undefined, `body.bytes` of body in `body.chunk`-byte writes every `body.everyMs` ms until
 * the server answers or closes. Resolves once the server
 * answered and closed, or `waitMs` after the answer when it keeps the connection (send
 * `connection: close` when a kept connection is expected).
 */
function rawRequest(port: number, head: string, body?: BodyPlan, waitMs = 2_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let text = '';
    let sent = 0;
    let answeredAt = 0;
    let sentBeforeAnswer = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 ([2-5]\d\d)/m.exec(text)?.[1] ?? 0);
      resolve({ status, text, answeredAfterMs: answeredAt - started, bodyBytesBeforeAnswer: sentBeforeAnswer, closed });
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!answeredAt && /^HTTP\/1\.1 [2-5]\d\d/m.test(text)) {
        answeredAt = Date.now();
        sentBeforeAnswer = sent;
        timer = setTimeout(() => finish(false), waitMs);
      }
    });
    socket.on('close', () => (answeredAt ? finish(true) : reject(new Error(`closed without an answer: ${JSON.stringify(text.slice(0, 200))}`))));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server hangs up: expected.
    socket.write(head);
    if (!body) return;
    const piece = Buffer.alloc(body.chunk, 0x20);
    const chunk = body.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    const pump = () => {
      while (sent < body.bytes && !answeredAt && !socket.destroyed) {
        sent += piece.length;
        if (body.everyMs > 0) {
          socket.write(chunk);
          setTimeout(pump, body.everyMs);
          return;
        }
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

const head = (method: string, path: string, headers: Record<string, string | number> = {}) =>
  `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([n, v]) => `${n}: ${v}\r\n`)
    .join('')}\r\n`;

describe('the API server alone: key first, body second, raw paths only', () => {
  const GOOD = 'Bearer good-key';
  let server: Server;
  let port: number;
  /** Every event a function was invoked with. */
  const invoked: APIGatewayProxyEventV2[] = [];
  const authorized: { kind: string; authorization: string | undefined }[] = [];
  const fn: ApiLambda = async (event) => {
    invoked.push(event);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: event.routeKey, bytes: event.body?.length ?? 0 }) };
  };
  const authorize: Authorize = async (kind, authorization, client) => {
    authorized.push({ kind, authorization });
    if (authorization === 'Bearer limited') throw new RateLimitedError(7);
    if (authorization !== GOOD || !client) throw new UnauthorizedError();
  };

  beforeAll(async () => {
    server = await startApiServer({
      host: '127.0.0.1',
      port: 0,
      functions: { ingest: fn, 'webhooks-api': fn, 'webhook-test': fn, 'admin-api': fn, openapi: fn },
      authorize,
      health: () => 'ok',
      onError: (e) => {
        throw e;
      },
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    invoked.length = 0;
    authorized.length = 0;
  });

  it('caps connections and slow requests', () => {
    expect(server.maxConnections).toBe(MAX_CONNECTIONS);
    expect(MAX_CONNECTIONS).toBeLessThanOrEqual(1024);
    expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
    expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(server.keepAliveTimeout).toBeLessThanOrEqual(5_000);
  });

  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer wrong' }],
  ])('%s and a 10 MiB Content-Length, no body byte sent yet: 401 JSON at once, connection closed, nothing invoked', async (_what, auth) => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { ...auth, 'content-type': 'application/json', 'content-length': TEN_MIB }));
    expect(answer.status).toBe(401);
    expect(answer.text).toMatch(/content-type: application\/json/i);
    expect(answer.text).toMatch(/connection: close/i);
    expect(answer.text).toMatch(/"error":"[^"]+"/);
    expect(answer.closed).toBe(true);
    expect(invoked).toEqual([]);
    expect(authorized).toEqual([{ kind: 'tenant', authorization: (auth as { authorization?: string }).authorization }]);
  });

  it('a wrong key whose body trickles in: 401 before the body is done, and the connection is closed', async () => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: 'Bearer wrong', 'content-length': TEN_MIB }), { bytes: TEN_MIB, chunk: 1024, everyMs: 20 });
    expect(answer.status).toBe(401);
    expect(answer.closed).toBe(true);
    expect(answer.bodyBytesBeforeAnswer).toBeLessThan(TEN_MIB);
    expect(invoked).toEqual([]);
  });

  it('Expect: 100-continue with a wrong key: 401 and never a "100 Continue"', async () => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: 'Bearer wrong', 'content-length': 1000, expect: '100-continue' }));
    expect(answer.status).toBe(401);
    expect(answer.text).not.toMatch(/100 Continue/i);
    // With the right key the client is told to go on, and the body is read.
    const ok = await rawRequest(port, head('POST', '/v1/events', { authorization: GOOD, 'content-length': 2, expect: '100-continue', connection: 'close' }) + '{}');
    expect(ok.text).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(ok.status).toBe(200);
  });

  it('rate limited by the authorizer: 429 with Retry-After, body unread', async () => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: 'Bearer limited', 'content-length': TEN_MIB }));
    expect(answer.status).toBe(429);
    expect(answer.text).toMatch(/retry-after: 7/i);
    expect(answer.closed).toBe(true);
    expect(invoked).toEqual([]);
  });

  it("the right key and a Content-Length over the route's limit: 413 before any body byte, connection closed", async () => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: GOOD, 'content-length': DEFAULT_MAX_BODY_BYTES + 1 }));
    expect(answer.status).toBe(413);
    expect(answer.text).toMatch(/"error":"Request body is larger than 262144 bytes"/);
    expect(answer.closed).toBe(true);
    expect(invoked).toEqual([]);
  });

  it("the right key and a chunked body that keeps coming: 413 once past the route's limit, never read to its end", async () => {
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: GOOD, 'transfer-encoding': 'chunked' }), {
      bytes: TEN_MIB,
      chunk: 16 * 1024,
      everyMs: 0,
      chunked: true,
    });
    expect(answer.status).toBe(413);
    expect(answer.closed).toBe(true);
    expect(answer.bodyBytesBeforeAnswer).toBeLessThan(TEN_MIB);
    expect(invoked).toEqual([]);
  });

  it('the right key and a body within the limit: the function gets it whole', async () => {
    const body = JSON.stringify({ event: 'scan.completed', data: { pad: 'x'.repeat(1000) } });
    const answer = await rawRequest(port, head('POST', '/v1/events', { authorization: GOOD, 'content-length': Buffer.byteLength(body), connection: 'close' }) + body);
    expect(answer.status).toBe(200);
    expect(invoked).toHaveLength(1);
    expect(invoked[0]!.body).toBe(body);
    expect(invoked[0]!.requestContext.http.sourceIp).toBe('127.0.0.1');
  });

  it.each([
    '//x/api/v1/event-types',
    '//x//api/v1/event-types',
    '/api/v1//event-types',
    '//api/v1/event-types',
    '/api/v1/integrations/webhooks//deliveries',
    '/api/v1/integrations/webhooks/x/../../../event-types',
    'http://x/api/v1/event-types',
    '//x/openapi.json',
  ])('%s with the right key: 404 JSON, no function invoked', async (path) => {
    const answer = await rawRequest(port, head('GET', path, { authorization: GOOD, connection: 'close' }));
    expect(answer.status).toBe(404);
    expect(answer.text).toMatch(/"error":"No route GET /);
    expect(invoked).toEqual([]);
  });

  /** A request through node:http: a Buffer body, and a header given twice when its value is an array. */
  const send = (method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('a body that is not UTF-8: 400, the function never invoked (a lenient decode would store U+FFFD)', async () => {
    const body = Buffer.concat([Buffer.from('{"event":"scan.completed","data":{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const answer = await send('POST', '/v1/events', { authorization: GOOD, 'content-type': 'application/json' }, body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ error: 'Request body is not valid UTF-8' });
    expect(invoked).toEqual([]);
  });

  it('two Authorization headers: 401 whichever comes first, neither tried', async () => {
    for (const both of [[GOOD, 'Bearer wrong'], ['Bearer wrong', GOOD]]) {
      const answer = await send('GET', '/api/v1/event-types', { authorization: both });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({ error: 'More than one Authorization header' });
    }
    expect(authorized).toEqual([]);
    expect(invoked).toEqual([]);
  });

  it('a method the path does not have: 405 with Allow naming those it has', async () => {
    const answer = await send('DELETE', '/v1/events', { authorization: GOOD });
    expect(answer.status).toBe(405);
    expect(answer.headers['allow']).toBe('POST');
    const webhooks = await send('PUT', '/api/v1/integrations/webhooks', { authorization: GOOD });
    expect(String(webhooks.headers['allow']).split(', ').sort()).toEqual(['GET', 'POST']);
    expect(invoked).toEqual([]);
  });

  it('the same route by its real path is served (the 404s above are not a broken route table)', async () => {
    const answer = await rawRequest(port, head('GET', '/api/v1/event-types?a=1&a=2', { authorization: GOOD, connection: 'close' }));
    expect(answer.status).toBe(200);
    expect(invoked.map((e) => [e.routeKey, e.rawPath, e.rawQueryString, e.queryStringParameters])).toEqual([
      ['GET /api/v1/event-types', '/api/v1/event-types', 'a=1&a=2', { a: '1,2' }],
    ]);
  });

  it("each route's auth comes from ROUTES: public routes are never authorized, the others always", async () => {
    for (const route of ROUTES) {
      authorized.length = 0;
      const path = route.path.replace(/\{\w+\}/g, 'x');
      await rawRequest(port, head(route.method, path, { 'content-length': 0, connection: 'close' }));
      expect({ route: `${route.method} ${route.path}`, kinds: authorized.map((a) => a.kind) }).toEqual({
        route: `${route.method} ${route.path}`,
        kinds: route.auth === 'none' ? [] : [route.auth],
      });
    }
  });
});

describe('the runtime under slow and unauthenticated bodies', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime();
  });
  afterAll(async () => {
    await rt?.cleanup();
  });

  const rssMiB = async (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

  it('30 connections pushing 10 MiB each with a wrong or no key: each gets a quick 401 (or 429), memory stays flat', async () => {
    const { port } = new URL(rt.baseUrl);
    // Warm up the route (module loading, caches) so that the baseline is steady.
    for (let i = 0; i < 3; i++) await api(rt.baseUrl, rt.apiKey).get('/api/v1/event-types');
    const before = await rssMiB(rt.pid);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        rawRequest(
          Number(port),
          head('POST', '/v1/events', { ...(i % 3 === 0 ? {} : { authorization: `Bearer hk_wrong_${i}` }), 'content-type': 'application/json', 'content-length': TEN_MIB }),
          // Half push as fast as the socket takes it, half trickle.
          i % 2 === 0 ? { bytes: TEN_MIB, chunk: 64 * 1024, everyMs: 0 } : { bytes: TEN_MIB, chunk: 4 * 1024, everyMs: 50 },
        ),
      ),
    );
    const after = await rssMiB(rt.pid);
    for (const a of answers) {
      expect([401, 429]).toContain(a.status);
      expect(a.closed).toBe(true);
      expect(a.answeredAfterMs).toBeLessThan(5_000);
    }
    // Before the fix the runtime buffered every body: 30 x 10 MiB = 300 MiB more.
    expect(after - before).toBeLessThan(60);
    // And it still serves.
    expect((await api(rt.baseUrl, rt.apiKey).get('/api/v1/event-types')).status).toBe(200);
  });

  it('an authenticated body over 256 KiB: 413 before it is read', async () => {
    const { port } = new URL(rt.baseUrl);
    const answer = await rawRequest(Number(port), head('POST', '/v1/events', { authorization: `Bearer ${rt.apiKey}`, 'content-length': TEN_MIB }), {
      bytes: TEN_MIB,
      chunk: 64 * 1024,
      everyMs: 0,
    });
    expect(answer.status).toBe(413);
    expect(answer.closed).toBe(true);
  });

  it("GET //x/api/v1/...: 404 JSON, never the route's data", async () => {
    const tenant = api(rt.baseUrl, rt.apiKey);
    const real = await tenant.get('/api/v1/event-types');
    expect(real.status).toBe(200);
    expect(real.text).toContain('scan.completed');
    for (const path of ['//x/api/v1/event-types', `//127.0.0.1:${new URL(rt.baseUrl).port}/api/v1/event-types`, '/api/v1//event-types', '//x/healthz']) {
      const res = await tenant.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(typeof res.json?.error).toBe('string');
      expect(res.text).not.toContain('scan.completed');
    }
  });
});
