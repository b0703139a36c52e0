/**
 * Every HTTP route and the function that serves it. The CDK stack adds these routes to the HTTP
 * API and the one-machine runtime routes requests with the same table, so the two cannot drift.
 * `routeKey` is what API Gateway puts in `event.routeKey`; handlers dispatch on it.
 */
export type ApiFunction = 'ingest' | 'webhooks-api' | 'admin-api' | 'openapi';

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

export const ROUTES = [
  { method: 'POST', path: '/v1/events', fn: 'ingest', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'PATCH', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'DELETE', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/test', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}/deliveries', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/deliveries/{delivery_id}/retry', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/recover', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/rotate-secret', fn: 'webhooks-api', auth: 'tenant' },
  { method: 'GET', path: '/api/v1/event-types', fn: 'webhooks-api', auth: 'tenant' },
  // Opened from the verification email by the owner address's holder, who has no key.
  { method: 'GET', path: '/api/v1/email-verifications/{token}', fn: 'webhooks-api', auth: 'none' },
  { method: 'POST', path: '/admin/v1/tenants', fn: 'admin-api', auth: 'admin' },
  { method: 'GET', path: '/admin/v1/tenants/{tenant_id}/keys', fn: 'admin-api', auth: 'admin' },
  { method: 'POST', path: '/admin/v1/tenants/{tenant_id}/keys', fn: 'admin-api', auth: 'admin' },
  { method: 'DELETE', path: '/admin/v1/tenants/{tenant_id}/keys/{key_id}', fn: 'admin-api', auth: 'admin' },
  { method: 'GET', path: '/admin/v1/tenants/{tenant_id}/rate-limit', fn: 'admin-api', auth: 'admin' },
  { method: 'PUT', path: '/admin/v1/tenants/{tenant_id}/rate-limit', fn: 'admin-api', auth: 'admin' },
  { method: 'GET', path: '/openapi.json', fn: 'openapi', auth: 'none' },
  // On AWS the openapi function answers it (and, as API Gateway's $default route, every path no
  // route names, with the contract's JSON 404); the one-machine server answers it itself.
  { method: 'GET', path: '/healthz', fn: 'openapi', auth: 'none' },
] as const satisfies readonly Route[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: Route): string => `${route.method} ${route.path}`;

/** The body limit of a route. */
export const maxBodyBytesOf = (route: Route): number => route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

/** A route's auth by its route key (undefined for a key not in ROUTES). */
export const routeAuthOf = (key: string): RouteAuth | undefined => (ROUTES as readonly Route[]).find((r) => routeKey(r) === key)?.auth;
