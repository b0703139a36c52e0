import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { HooklineError, PayloadTooLargeError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.ts';
import type { PortalScope, TenantCaller } from '../usecases/tenants.ts';
import { DEFAULT_MAX_BODY_BYTES, isPublicRoute, type RouteAuth } from './routes.ts';

/** What a route handler gets: the parsed request and who is calling. */
export interface ApiRequest {
  readonly routeKey: string;
  readonly body: unknown;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The tenant the key acts for (tenant routes), or undefined (admin and public routes). */
  readonly tenantId: string | undefined;
  /** Set when the credential is a portal session token: what the session allows. */
  readonly portal?: PortalScope;
}

export interface ApiResult {
  readonly statusCode: number;
  readonly body?: unknown;
}

export type RouteHandler = (req: ApiRequest) => Promise<ApiResult>;

export interface ApiHandlerOptions {
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /**
   * `tenant`: the key names a tenant; `admin`: the admin key; `none`: public. A route whose entry
   * in ROUTES says `auth: 'none'` skips it. `client` is the caller's address (failed keys are
   * rate limited by it).
   */
  readonly auth:
    | { readonly kind: 'tenant'; readonly authenticate: (key: string, client?: string) => Promise<string | TenantCaller> }
    | { readonly kind: 'admin'; readonly authenticate: (key: string, client?: string) => Promise<void> }
    | { readonly kind: 'none' };
  readonly maxBodyBytes?: number;
  /**
   * The request limit of the caller, checked after its key: `key` is the tenant's id on tenant
   * routes (see usecases/rate-limits.ts), else the route's auth kind (`admin`, `none`). Returns
   * undefined to allow, else the whole seconds to wait (`429` + `Retry-After`).
   */
  readonly rateLimit?: (key: string, kind: RouteAuth) => number | undefined | Promise<number | undefined>;
  /** Where 5xx causes go; 4xx are the caller's business and are not logged. */
  readonly logError: (message: string, error: unknown) => void;
}

/**
 * Every answer is one caller's data, some of it shown once (a new key, a generated or rotated
 * secret, a portal link): no cache, browser or proxy, may keep it.
 */
const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };
/** RFC 6750: a 401 says which scheme it wants. */
const UNAUTHORIZED_HEADERS = { ...JSON_HEADERS, 'www-authenticate': 'Bearer' };

/** An API Gateway (HTTP API, payload 2.0) Lambda handler. */
export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * An API Gateway (HTTP API, payload 2.0) handler: authenticate, parse the JSON body, dispatch on
 * the route key, answer JSON. Errors below 500 are shown to the caller as `{"error", "details"}`;
 * anything else is logged and becomes a generic 500.
 */
export function apiHandler(options: ApiHandlerOptions): ApiLambda {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = options.routes[event.routeKey];
    if (!route) throw new HooklineError(404, `No route ${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? ''}`.trim());
    const auth = isPublicRoute(event.routeKey) ? ({ kind: 'none' } as const) : options.auth;
    const caller = await authenticate(auth, event.headers ?? {}, event.requestContext?.http?.sourceIp);
    const tenantId = caller?.tenantId;
    // A tenant's requests count against its own limit; a public route's (the verification link)
    // against its client address's, so that no one client can spend everyone's.
    const limitKey = tenantId ?? (auth.kind === 'none' ? `none:${event.requestContext?.http?.sourceIp ?? ''}` : auth.kind);
    const waitSeconds = await options.rateLimit?.(limitKey, auth.kind);
    if (waitSeconds !== undefined) throw new RateLimitedError(waitSeconds);
    const result = await route({
      routeKey: event.routeKey,
      body: parseBody(event, maxBody),
      pathParameters: event.pathParameters ?? {},
      query: event.queryStringParameters ?? {},
      tenantId,
      ...(caller?.portal ? { portal: caller.portal } : {}),
    });
    return {
      statusCode: result.statusCode,
      headers: result.body === undefined ? {} : JSON_HEADERS,
      body: result.body === undefined ? '' : JSON.stringify(result.body),
    };
  };
  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      const exposed = exposedError(error);
      if (exposed) return exposed;
      // The cause is logged, never shown: it may name tables, queues or internals.
      options.logError('request failed', error);
      return { statusCode: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: 'Internal server error' }) };
    }
  };
}

async function authenticate(auth: ApiHandlerOptions['auth'], headers: Record<string, string | undefined>, client: string | undefined): Promise<TenantCaller | undefined> {
  if (auth.kind === 'none') return undefined;
  const key = bearerKey(headers['authorization']);
  if (auth.kind === 'admin') {
    await auth.authenticate(key, client);
    return undefined;
  }
  const caller = await auth.authenticate(key, client);
  return typeof caller === 'string' ? { tenantId: caller } : caller;
}

/** The key of an `Authorization: Bearer <key>` header; 401 without one. */
export function bearerKey(authorization: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw new UnauthorizedError('Missing Authorization: Bearer <key> header');
  return match[1];
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as UTF-8 text, or undefined when they are not UTF-8: a lenient decode would store
 * U+FFFD where the publisher sent other bytes. For request bodies (this handler's base64 ones,
 * the one-machine server's).
 */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The body of a route whose body is optional: none is `{}`; a JSON `null` (or any other value
 * that is not an object) stays as sent, for the schema to refuse.
 */
export const bodyOrEmpty = (req: ApiRequest): unknown => (req.body === undefined ? {} : req.body);

function parseBody(event: APIGatewayProxyEventV2, maxBody: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.length > maxBody) throw new PayloadTooLargeError(maxBody);
  const text = event.isBase64Encoded ? strictUtf8(raw) : event.body;
  if (text === undefined) throw new ValidationError('Request body is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError('Request body is not valid JSON');
  }
  if (depthExceeds(body, MAX_JSON_DEPTH)) throw new ValidationError(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}

/** Bodies nested deeper than this are refused: nothing legitimate needs it, and deep recursion is a DoS lever. */
export const MAX_JSON_DEPTH = 32;

function depthExceeds(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > max) return true;
    level = level.flatMap((v) => (v !== null && typeof v === 'object' ? Object.values(v) : []));
  }
  return false;
}

/** The answer to a HooklineError below 500: the caller's own mistake, shown to it. */
function exposedError(error: unknown): APIGatewayProxyStructuredResultV2 | undefined {
  // A 503 is written for the client (send the same request again); any other 5xx is hidden.
  if (!(error instanceof HooklineError) || (error.statusCode >= 500 && error.statusCode !== 503)) return undefined;
  return {
    statusCode: error.statusCode,
    headers:
      error instanceof RateLimitedError ? { ...JSON_HEADERS, 'retry-after': String(error.retryAfterSeconds) } : error.statusCode === 401 ? UNAUTHORIZED_HEADERS : JSON_HEADERS,
    body: JSON.stringify({ error: error.message, ...(error.details ? { details: error.details } : {}) }),
  };
}

/** A schema, or the function that builds it on first use (see zod-setup.ts). */
export type SchemaSource<T extends z.ZodMiniType> = T | (() => T);

export const schemaOf = <T extends z.ZodMiniType>(source: SchemaSource<T>): T => (typeof source === 'function' ? source() : source);

/** Validates with a schema (http/schemas.ts); a mismatch is a 400 listing every problem. */
export function parse<T extends z.ZodMiniType>(schema: SchemaSource<T>, value: unknown, what = 'Request body'): z.infer<T> {
  if (value === undefined && what === 'Request body') throw new ValidationError('Request body is required');
  const result = schemaOf(schema).safeParse(value);
  if (!result.success) throw new ValidationError(`${what} is invalid`, issueDetails(result.error));
  return result.data;
}

/** zod issues as `details` entries: where and what. */
export function issueDetails(error: { readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[] }): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}
