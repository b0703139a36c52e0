/**
 * Every HTTP route and the function that serves it. The CDK stack adds these routes to the HTTP
 * API and the one-machine runtime routes requests with the same table, so the two cannot drift.
 * `routeKey` is what API Gateway puts in `event.routeKey`; handlers dispatch on it.
 */
export type ApiFunction = 'ingest' | 'webhooks-api' | 'webhook-test' | 'admin-api' | 'openapi';

/** Who may call a route: a tenant key, the admin key, or anyone (`none`). */
export type RouteAuth = 'tenant' | 'admin' | 'none';

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path template, `{name}` for a path parameter. */
  readonly path: string;
  readonly fn: ApiFunction;
  /** Checked before the body is read (one machine) and by the handler (everywhere). */
  readonly auth: RouteAuth;
  /** Largest request body; DEFAULT_MAX_BODY_BYTES when absent. */
  readonly maxBodyBytes?: number;
}

/** The body limit of every route that sets none (CONTRACT.md section 3: 413 above 256 KiB). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/*
 * The public routes (auth `none`), each a constant of its own so that an API handler can tell
 * them (isPublicRoute) without bundling the whole table: ROUTES lists them in their places.
 */
// Opened from the verification email by the owner address's holder, who has no key.
const EMAIL_VERIFICATION = { method: 'GET', path: '/api/v1/email-verifications/{token}', fn: 'webhooks-api', auth: 'none' } as const satisfies Route;
const OPENAPI_DOCUMENT = { method: 'GET', path: '/openapi.json', fn: 'openapi', auth: 'none' } as const satisfies Route;
// The portal page and its two files: static, public; the session token stays in the URL fragment.
const PORTAL_PAGE = { method: 'GET', path: '/portal', fn: 'openapi', auth: 'none' } as const satisfies Route;
const PORTAL_FILE = { method: 'GET', path: '/portal/{file}', fn: 'openapi', auth: 'none' } as const satisfies Route;
// On AWS the openapi function answers it (and, as API Gateway's $default route, every path no
// route names, with the contract's JSON 404); the one-machine server answers it itself.
const HEALTHZ = { method: 'GET', path: '/healthz', fn: 'openapi', auth: 'none' } as const satisfies Route;
const PUBLIC_ROUTES: readonly Route[] = [EMAIL_VERIFICATION, OPENAPI_DOCUMENT, PORTAL_PAGE, PORTAL_FILE, HEALTHZ];

export const ROUTES = [
  { method: 'POST', path: '/v1/events', fn: 'ingest', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'PATCH', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'DELETE', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  // Its own function: only it and the dispatcher carry the HTTP sender.
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/test', fn: 'webhook-test', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}/deliveries', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/deliveries/{delivery_id}/retry', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/recover', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/rotate-secret', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/event-types', fn: 'webhooks-api', auth: 'tenant' },
  // A link to the portal page for the tenant's customer; never with a portal token (403).
  { method: 'POST', path: '/api/v1/portal-sessions', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'DELETE', path: '/api/v1/portal-sessions/{id}', fn: 'webhooks-api', auth: 'tenant' },
  EMAIL_VERIFICATION,
  { method: 'POST', path: '/admin/v1/tenants', fn: 'admin-api', auth: 'admin' },
  { method: 'GET', path: '/admin/v1/tenants/{tenant_id}/keys', fn: 'admin-api', auth: 'admin' },
  { method: 'POST', path: '/admin/v1/tenants/{tenant_id}/keys', fn: 'admin-api', auth: 'admin' },
  { method: 'DELETE', path: '/admin/v1/tenants/{tenant_id}/keys/{key_id}', fn: 'admin-api', auth: 'admin' },
  { method: 'GET', path: '/admin/v1/tenants/{tenant_id}/rate-limit', fn: 'admin-api', auth: 'admin' },
  { method: 'PUT', path: '/admin/v1/tenants/{tenant_id}/rate-limit', fn: 'admin-api', auth: 'admin' },
  OPENAPI_DOCUMENT,
  PORTAL_PAGE,
  PORTAL_FILE,
  HEALTHZ,
] as const satisfies readonly Route[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: Route): string => `${route.method} ${route.path}`;

/** The body limit of a route. */
export const maxBodyBytesOf = (route: Route): number => route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

/** Whether anyone may call the route of this key (auth `none` in ROUTES): its handler checks no key. */
export const isPublicRoute = (key: string): boolean => PUBLIC_ROUTES.some((r) => routeKey(r) === key);
