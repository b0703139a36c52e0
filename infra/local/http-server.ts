import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { HooklineError, RateLimitedError } from '../../shared/errors.ts';
import { strictUtf8 } from '../../shared/http/api-handler.ts';
import { maxBodyBytesOf, ROUTES, type ApiFunction, type Route, type RouteAuth } from '../../shared/http/routes.ts';
import { lambdaContext } from './lambda-context.ts';

// Not `import ... from 'node:http'`: an ES import of node:http reads its lazy WebSocket,
// CloseEvent and MessageEvent exports, which loads Node's fetch (undici): about 27 ms of every
// start, for classes nothing here uses. getBuiltinModule returns the module without them.
const { createServer } = process.getBuiltinModule('node:http');

export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Checks the `Authorization` header for a route of that kind before any of the body is read;
 * throws a HooklineError (401, 429) to refuse. `client` is the caller's address.
 */
export type Authorize = (kind: Exclude<RouteAuth, 'none'>, authorization: string | undefined, client: string, fn: ApiFunction) => Promise<void>;

/** Connections beyond this wait in the kernel's backlog (or are refused) instead of costing memory. */
export const MAX_CONNECTIONS = 512;
/** Whole request (headers and body) must arrive within this; a slow body cannot hold a connection longer. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks the two timeouts above (its default, 30 s, would double them). */
const TIMEOUT_CHECK_EVERY_MS = 1_000;
/** How long a refused request's connection stays half-open, dropping what still arrives. */
const LINGER_MS = 1_000;
/** How long a stop lets requests in progress finish before it closes their connections (closeApiServer). */
export const STOP_GRACE_MS = 5_000;

/**
 * A server's open connections, those with requests being answered (how many: a pipelining client
 * may have a second one waiting behind the first), and who waits for there to be none.
 */
interface Connections {
  readonly open: Set<Socket>;
  readonly answering: Map<Socket, number>;
  drained?: () => void;
}
const connectionsOf = new WeakMap<Server, Connections>();

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly params: string[];
}

const compiled: CompiledRoute[] = ROUTES.map((r) => {
  const params: string[] = [];
  const pattern = new RegExp(
    '^' + r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_m, a, b) => {
      params.push(a ?? b);
      return '([^/]+)';
    }) + '$',
  );
  return { ...r, pattern, params };
});

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Filled in once the runtime is ready; until then routes answer 503. */
  readonly functions: Readonly<Partial<Record<ApiFunction, ApiLambda>>>;
  readonly authorize: Authorize;
  /** What `/healthz` says: 200 for 'ok', 503 with the status otherwise. */
  readonly health: () => 'ok' | 'starting' | 'stopping' | 'sender thread failing';
  readonly onError: (error: unknown) => void;
  /**
   * Commits what the handler wrote before its answer goes out (the store's group commit): a 202
   * for an event means the event survives a killed process. A failure answers 500.
   */
  readonly beforeAnswer?: () => void;
}

/**
 * Plays API Gateway (HTTP API, payload format 2.0) in front of the same handlers that run on
 * Lambda: matches ROUTES, builds the event (routeKey, path parameters, query, headers, body),
 * invokes, writes the answer. `/healthz` is answered here.
 *
 * Unlike API Gateway it checks the key itself, before reading the body: a request without a
 * good key, or whose body is over its route's limit, is refused with nothing of its body
 * buffered, and its connection is closed.
 */
export function startApiServer(options: ApiServerOptions): Promise<Server> {
  const connections: Connections = { open: new Set(), answering: new Map() };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    connections.answering.set(socket, (connections.answering.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (connections.answering.get(socket) ?? 1) - 1;
      if (left > 0) connections.answering.set(socket, left);
      else connections.answering.delete(socket);
      if (connections.answering.size === 0) connections.drained?.();
    });
    handle(req, res, options).catch((err) => {
      options.onError(err);
      if (!res.headersSent) refuse(req, res, 500, 'Internal server error');
      else res.destroy();
    });
  };
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_EVERY_MS },
    listener,
  );
  // `Expect: 100-continue` is answered only once the key and the declared size are checked.
  server.on('checkContinue', listener);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  // Requests Node's parser refuses (oversized headers or URL, bad syntax, too slow) still get a JSON answer.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request line or headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', `The request did not arrive within ${REQUEST_TIMEOUT_MS / 1000} s`]
          : [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({ error: message });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.on('connection', (socket: Socket) => {
    connections.open.add(socket);
    socket.once('close', () => connections.open.delete(socket));
  });
  connectionsOf.set(server, connections);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

/**
 * Stops a server of startApiServer: no new connection is taken, connections with no request
 * being answered (idle between requests, or that have sent none or only part of one) are closed
 * at once, the requests being answered get up to `graceMs` to finish, then every connection is
 * closed. Node's own `close()` waits for a connection that has sent no request, or only part of
 * one, until its headers timeout: a client that merely held a connection open kept a stop
 * waiting HEADERS_TIMEOUT_MS and more.
 */
export async function closeApiServer(server: Server, graceMs = STOP_GRACE_MS): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const connections = connectionsOf.get(server);
  if (connections) {
    for (const socket of connections.open) if (!connections.answering.has(socket)) socket.destroy();
    if (connections.answering.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        connections.drained = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
  }
  server.closeAllConnections();
  await closed;
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ApiServerOptions) {
  // The raw request target, never `new URL(target, base)`: that reads `//x/api/...` as host `x`
  // and path `/api/...`, and resolves dot segments, so a request could reach a route its path
  // does not name. A path that is not exactly a route's is a 404.
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : target.slice(queryAt + 1);
  const method = (req.method ?? 'GET').toUpperCase();
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  if (path === '/healthz' && method === 'GET') {
    const status = options.health();
    return send(res, status === 'ok' ? 200 : 503, { status });
  }
  const candidates = compiled.filter((r) => r.pattern.test(path));
  if (candidates.length === 0) return refuse(req, res, 404, `No route ${method} ${shown}`);
  const route = candidates.find((r) => r.method === method);
  // RFC 9110: a 405 names the methods the resource has.
  if (!route) return refuse(req, res, 405, `Method ${method} is not allowed on ${shown}`, undefined, { allow: [...new Set(candidates.map((r) => r.method))].join(', ') });
  const fn = options.functions[route.fn];
  if (!fn) return refuse(req, res, 503, 'Hookline is starting, try again in a moment');

  const client = req.socket.remoteAddress ?? '';
  if (route.auth !== 'none') {
    // Node keeps the first of two Authorization headers; API Gateway joins them (no valid key):
    // which credential is meant cannot be told, so neither is used.
    if ((req.headersDistinct['authorization']?.length ?? 0) > 1) return refuse(req, res, 401, 'More than one Authorization header');
    try {
      await options.authorize(route.auth, req.headers.authorization, client, route.fn);
    } catch (err) {
      if (!(err instanceof HooklineError) || err.statusCode >= 500) throw err;
      return refuse(req, res, err.statusCode, err.message, err instanceof RateLimitedError ? err.retryAfterSeconds : undefined);
    }
  }
  const limit = maxBodyBytesOf(route);
  const tooLarge = `Request body is larger than ${limit} bytes`;
  if (Number(req.headers['content-length'] ?? 0) > limit) return refuse(req, res, 413, tooLarge);
  if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
  const body = await readBody(req, limit);
  if (body === 'too-large') return refuse(req, res, 413, tooLarge);
  const text = strictUtf8(body);
  if (text === undefined) return refuse(req, res, 400, 'Request body is not valid UTF-8');

  const match = route.pattern.exec(path)!;
  let pathParameters: Record<string, string>;
  try {
    pathParameters = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(match[i + 1]!)]));
  } catch {
    return refuse(req, res, 400, 'The path has a malformed percent-escape');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) query[name] = name in query ? `${query[name]},${value}` : value;

  const routeKey = `${route.method} ${route.path}`;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: rawQuery,
    headers,
    ...(rawQuery ? { queryStringParameters: query } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers['host'] ?? 'localhost',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: client, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(text ? { body: text } : {}),
    isBase64Encoded: false,
  };
  const result = await fn(event, lambdaContext(route.fn, 29_000));
  options.beforeAnswer?.();
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}

/** Reads the body up to `limit` bytes; past it stops reading (the rest is never buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An error answer. When the body has not been read (or not all of it), the connection is closed
 * after the answer: its bytes are dropped as they come, never buffered.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, retryAfterSeconds?: number, extraHeaders: Record<string, string> = {}): void {
  const unread = !req.complete;
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    ...(unread ? { connection: 'close' } : {}),
    ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
    ...extraHeaders,
  });
  if (unread) res.once('finish', () => linger(req.socket));
  res.end(JSON.stringify({ error }));
}

/**
 * Node destroys the socket as soon as a `Connection: close` answer is flushed. With body bytes
 * still arriving, that sends a TCP reset, and a client still writing may lose the answer before
 * reading it. So the socket is half-closed instead (the client gets a FIN after the answer) and
 * destroyed when the client closes too, or after LINGER_MS; what arrives meanwhile is dropped.
 */
function linger(socket: Socket): void {
  if (socket.destroyed) return;
  socket.off('finish', socket.destroy);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
