import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ROUTES, type ApiFunction } from '../../shared/http/routes.ts';
import { lambdaContext } from './lambda-context.ts';

export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit for HTTP APIs; the functions apply their own, smaller ones. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly method: string;
  readonly path: string;
  readonly fn: ApiFunction;
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

/**
 * Plays API Gateway (HTTP API, payload format 2.0) in front of the same handlers that run on
 * Lambda: matches ROUTES, builds the event (routeKey, path parameters, query, headers, body),
 * invokes, writes the answer. `/healthz` is answered here.
 */
export function startApiServer(options: {
  readonly host: string;
  readonly port: number;
  /** Filled in once the runtime is ready; until then routes answer 503. */
  readonly functions: Readonly<Partial<Record<ApiFunction, ApiLambda>>>;
  readonly healthy: () => boolean;
  readonly onError: (error: unknown) => void;
}): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err) => {
      options.onError(err);
      if (!res.headersSent) send(res, 500, { error: 'Internal server error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  // Requests Node's parser refuses (oversized headers or URL, bad syntax) still get a JSON answer.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify({ error: status === 431 ? 'The request line or headers are too large' : 'Malformed HTTP request' });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: Parameters<typeof startApiServer>[0]) {
  const url = new URL(req.url ?? '/', 'http://local');
  const method = (req.method ?? 'GET').toUpperCase();
  if (url.pathname === '/healthz' && method === 'GET') {
    return options.healthy() ? send(res, 200, { status: 'ok' }) : send(res, 503, { status: 'starting' });
  }
  const candidates = compiled.filter((r) => r.pattern.test(url.pathname));
  if (candidates.length === 0) return send(res, 404, { error: `No route ${method} ${url.pathname}` });
  const route = candidates.find((r) => r.method === method);
  if (!route) return send(res, 405, { error: `Method ${method} is not allowed on ${url.pathname}` });

  const body = await readBody(req);
  if (body === 'too-large') return send(res, 413, { error: `Request body is larger than ${MAX_BODY_BYTES} bytes` });

  const match = route.pattern.exec(url.pathname)!;
  let pathParameters: Record<string, string>;
  try {
    pathParameters = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(match[i + 1]!)]));
  } catch {
    return send(res, 400, { error: 'The path has a malformed percent-escape' });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;

  const routeKey = `${route.method} ${route.path}`;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers['host'] ?? 'localhost',
      domainPrefix: 'local',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body.length ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
  const fn = options.functions[route.fn];
  if (!fn) return send(res, 503, { error: 'Hookline is starting, try again in a moment' });
  const result = await fn(event, lambdaContext(route.fn, 29_000));
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve('too-large');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
