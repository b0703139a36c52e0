/**
 * Every HTTP route and the function that serves it. The CDK stack adds these routes to the HTTP
 * API and the one-machine runtime routes requests with the same table, so the two cannot drift.
 * `routeKey` is what API Gateway puts in `event.routeKey`; handlers dispatch on it.
 */
export type ApiFunction = 'ingest' | 'webhooks-api' | 'admin-api' | 'openapi';

export interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway path template, `{name}` for a path parameter. */
  readonly path: string;
  readonly fn: ApiFunction;
}

export const ROUTES = [
  { method: 'POST', path: '/v1/events', fn: 'ingest' },
  { method: 'POST', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api' },
  { method: 'GET', path: '/api/v1/integrations/webhooks', fn: 'webhooks-api' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api' },
  { method: 'PATCH', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api' },
  { method: 'DELETE', path: '/api/v1/integrations/webhooks/{id}', fn: 'webhooks-api' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/test', fn: 'webhooks-api' },
  { method: 'GET', path: '/api/v1/integrations/webhooks/{id}/deliveries', fn: 'webhooks-api' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/deliveries/{delivery_id}/retry', fn: 'webhooks-api' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/recover', fn: 'webhooks-api' },
  { method: 'POST', path: '/api/v1/integrations/webhooks/{id}/rotate-secret', fn: 'webhooks-api' },
  { method: 'GET', path: '/api/v1/event-types', fn: 'webhooks-api' },
  { method: 'POST', path: '/admin/v1/tenants', fn: 'admin-api' },
  { method: 'GET', path: '/openapi.json', fn: 'openapi' },
] as const satisfies readonly Route[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: Route): string => `${route.method} ${route.path}`;
