import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { HooklineError, PayloadTooLargeError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES, routeAuthOf } from './routes.ts';
import { issueDetails } from './schemas.ts';

/** What a route handler gets: the parsed request and who is calling. */
export interface ApiRequest {
  readonly routeKey: string;
  readonly body: unknown;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The tenant the key acts for (tenant routes), or undefined (admin and public routes). */
  readonly tenantId: string | undefined;
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
    | { readonly kind: 'tenant'; readonly authenticate: (key: string, client?: string) => Promise<string> }
    | { readonly kind: 'admin'; readonly authenticate: (key: string, client?: string) => Promise<void> }
    | { readonly kind: 'none' };
  readonly maxBodyBytes?: number;
  /** Per-tenant request limit (the one-machine runtime's token bucket; API Gateway throttles on AWS). */
  readonly rateLimit?: (key: string) => number | undefined;
  /** Where 5xx causes go; 4xx are the caller's business and are not logged. */
  readonly logError: (message: string, error: unknown) => void;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * An API Gateway (HTTP API, payload 2.0) handler: authenticate, parse the JSON body, dispatch on
 * the route key, answer JSON. Errors below 500 are shown to the caller as `{"error", "details"}`;
 * anything else is logged and becomes a generic 500 (middy's http-error-handler).
 */
export function apiHandler(options: ApiHandlerOptions) {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(
      httpErrorHandler({
        logger: (error: unknown) => options.logError('request failed', error),
        fallbackMessage: JSON.stringify({ error: 'Internal server error' }),
      }),
    )
    .use({ onError: exposeHooklineErrors })
    .handler(async (event) => {
      const route = options.routes[event.routeKey];
      if (!route) throw new HooklineError(404, `No route ${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? ''}`.trim());
      const auth = routeAuthOf(event.routeKey) === 'none' ? ({ kind: 'none' } as const) : options.auth;
      const tenantId = await authenticate(auth, event.headers ?? {}, event.requestContext?.http?.sourceIp);
      const waitSeconds = options.rateLimit?.(tenantId ?? auth.kind);
      if (waitSeconds !== undefined) throw new RateLimitedError(waitSeconds);
      const result = await route({
        routeKey: event.routeKey,
        body: parseBody(event, maxBody),
        pathParameters: event.pathParameters ?? {},
        query: event.queryStringParameters ?? {},
        tenantId,
      });
      return {
        statusCode: result.statusCode,
        headers: result.body === undefined ? {} : JSON_HEADERS,
        body: result.body === undefined ? '' : JSON.stringify(result.body),
      };
    });
}

async function authenticate(auth: ApiHandlerOptions['auth'], headers: Record<string, string | undefined>, client: string | undefined) {
  if (auth.kind === 'none') return undefined;
  const key = bearerKey(headers['authorization']);
  if (auth.kind === 'admin') {
    await auth.authenticate(key, client);
    return undefined;
  }
  return auth.authenticate(key, client);
}

/** The key of an `Authorization: Bearer <key>` header; 401 without one. */
export function bearerKey(authorization: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw new UnauthorizedError('Missing Authorization: Bearer <key> header');
  return match[1];
}

function parseBody(event: APIGatewayProxyEventV2, maxBody: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.length > maxBody) throw new PayloadTooLargeError(maxBody);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
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

function exposeHooklineErrors(request: { error: unknown; response: APIGatewayProxyStructuredResultV2 | undefined }) {
  const error = request.error;
  if (!(error instanceof HooklineError) || error.statusCode >= 500) return;
  request.response = {
    statusCode: error.statusCode,
    headers: error instanceof RateLimitedError ? { ...JSON_HEADERS, 'retry-after': String(error.retryAfterSeconds) } : JSON_HEADERS,
    body: JSON.stringify({ error: error.message, ...(error.details ? { details: error.details } : {}) }),
  };
}

/** Validates with a schema; a mismatch is a 400 listing every problem. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, what = 'Request body'): z.infer<T> {
  if (value === undefined && what === 'Request body') throw new ValidationError('Request body is required');
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`${what} is invalid`, issueDetails(result.error));
  return result.data;
}
