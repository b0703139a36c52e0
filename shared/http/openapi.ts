import * as z from 'zod/mini';
import { HOOKLINE_VERSION } from '../config.ts';
import { schemaOf, type SchemaSource } from './api-handler.ts';
import { PortalSessionInput } from '../portal/schemas.ts';
import * as R from './response-schemas.ts';
import { ROUTES } from './routes.ts';
import * as S from './schemas.ts';

/**
 * The OpenAPI document, generated from the schemas that validate requests. Built at build time
 * (infra/stack/build-assets.ts ships it as a file beside the openapi function, which bundles
 * neither zod nor the schemas) and by the one-machine runtime at start.
 */

const CREDENTIALS_CONFLICT = "its webhooks' credentials (one secret a tenant) would pass the 60 KiB they share, or another change to them is in progress";

/** Per route: summary, request body and success answer. Schemas are the ones that validate. */
const OPERATIONS: Record<
  string,
  {
    summary: string;
    body?: SchemaSource<z.ZodMiniType>;
    /** The body may be left out (every field of it is optional). */
    optionalBody?: true;
    status: number;
    response?: z.ZodMiniType;
    /** The schema of its query string's parameters. */
    query?: SchemaSource<z.ZodMiniType>;
    /** When the route answers 409, and why. */
    conflict?: string;
    /** A public route's own errors (the others' come from their auth), by status. */
    errors?: Record<string, string>;
  }
> = {
  'POST /v1/events': { summary: 'Publish one event or a batch of up to 100', body: S.PublishBody, status: 202, response: R.PublishResult },
  'POST /api/v1/integrations/webhooks': {
    summary: 'Register a webhook',
    body: S.WebhookCreateInput,
    status: 201,
    response: R.WebhookCreated,
    conflict: `The tenant has its most webhooks, or ${CREDENTIALS_CONFLICT}`,
  },
  'GET /api/v1/integrations/webhooks': { summary: 'List webhooks', status: 200, response: R.WebhookList, query: S.PageQuery },
  'GET /api/v1/integrations/webhooks/{id}': { summary: 'Get a webhook', status: 200, response: R.WebhookView },
  'PATCH /api/v1/integrations/webhooks/{id}': { summary: 'Change a webhook', body: S.WebhookPatchInput, status: 200, response: R.WebhookView, conflict: `A new secret, auth or URL: ${CREDENTIALS_CONFLICT}` },
  'DELETE /api/v1/integrations/webhooks/{id}': { summary: 'Delete a webhook', status: 204 },
  'POST /api/v1/integrations/webhooks/{id}/test': { summary: 'Send a webhook.test event now', status: 200, response: R.TestResult },
  'GET /api/v1/integrations/webhooks/{id}/deliveries': { summary: "Delivery log, newest first (a delivery's attempts together), or one delivery's attempts", status: 200, response: R.AttemptList, query: S.DeliveriesQuery },
  'POST /api/v1/integrations/webhooks/{id}/deliveries/{delivery_id}/retry': {
    summary: 'Send one more attempt of a finished delivery now (trigger "manual"); 409 while it is still being retried',
    status: 202,
    response: R.RetryQueued,
    conflict: 'The delivery is still being retried or has had its 999 attempts, or its webhook is disabled or inactive',
  },
  'POST /api/v1/integrations/webhooks/{id}/recover': {
    summary: 'Re-queue every failed delivery of the webhook since a time, one manual attempt each',
    body: S.RecoverInput,
    status: 202,
    response: R.RecoverQueued,
    conflict: 'The webhook is disabled or inactive',
  },
  'POST /api/v1/integrations/webhooks/{id}/rotate-secret': {
    summary: 'Rotate the signing secret; the old one keeps signing webhook-signature during the grace period',
    body: S.RotateSecretInput,
    optionalBody: true,
    status: 200,
    response: R.SecretRotated,
    conflict: CREDENTIALS_CONFLICT.replace(/^its/, "The tenant's"),
  },
  'GET /api/v1/event-types': { summary: 'The event catalogue', status: 200, response: R.EventTypeList },
  'POST /api/v1/portal-sessions': {
    summary: "A link to the portal page for the tenant's customer: a signed token in the URL fragment, 1 h by default (at most 24 h), optionally limited to some webhooks or read-only; 403 with a portal token",
    body: PortalSessionInput,
    optionalBody: true,
    status: 201,
    response: z.object({
      id: z.string().check(z.describe('Revoke with DELETE /api/v1/portal-sessions/{id}.')),
      url: z.string().check(z.describe('The portal page with the session token in its fragment (`#token=`); hand it to the customer.')),
      expires_at: z.string(),
    }),
  },
  'DELETE /api/v1/portal-sessions/{id}': { summary: "Revoke a portal session: its token gets 401 from then on (within 30 s on AWS)", status: 204 },
  'GET /api/v1/email-verifications/{token}': {
    summary: "Confirm a webhook's owner_email with the link emailed to it (no API key); 404 for an unknown or used link, 410 for an expired one",
    status: 200,
    response: R.EmailVerified,
    errors: {
      '404': 'No such link, or it was used already',
      '410': 'The link has expired; setting the address again sends a new one',
      '429': 'Too many requests to this route (one machine); Retry-After says when to try again',
    },
  },
  'POST /admin/v1/tenants': { summary: 'Create a tenant and its API key', body: S.TenantCreateInput, status: 201, response: R.TenantCreated },
  'GET /admin/v1/tenants/{tenant_id}/keys': { summary: "A tenant's API keys (id, creation time, first characters; never the key)", status: 200, response: R.ApiKeyList },
  'POST /admin/v1/tenants/{tenant_id}/keys': {
    summary: 'Create another API key for the tenant (rotation without downtime)',
    status: 201,
    response: R.ApiKeyCreated,
    conflict: 'The tenant has its 10 keys: revoke one first',
  },
  'DELETE /admin/v1/tenants/{tenant_id}/keys/{key_id}': { summary: 'Revoke an API key: it gets 401 from then on', status: 204 },
  'GET /admin/v1/tenants/{tenant_id}/rate-limit': {
    summary: "The tenant's request limit over the tenant routes: its own, or the deployment's default",
    status: 200,
    response: R.TenantRateLimit,
  },
  'PUT /admin/v1/tenants/{tenant_id}/rate-limit': {
    summary: "Set the tenant's request limit; the API functions apply it within 30 s",
    body: S.RateLimitInput,
    status: 200,
    response: R.TenantRateLimit,
  },
  'GET /openapi.json': { summary: 'This document', status: 200 },
  'GET /portal': { summary: 'The portal page (HTML; open the URL a portal session gives, with its #token=)', status: 200 },
  'GET /portal/{file}': { summary: "The portal page's script and style sheet", status: 200 },
  'GET /healthz': { summary: 'Liveness: {"status": "ok"} once every part is up (no key needed)', status: 200 },
};

const schema = (s: SchemaSource<z.ZodMiniType>, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schemaOf(s), { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The OpenAPI 3.1 document of every route in ROUTES. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const op = OPERATIONS[`${route.method} ${route.path}`];
    if (!op) throw new Error(`no OpenAPI operation for ${route.method} ${route.path}`);
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    // The query parameters come from the schema that validates them (page, per_page, cursor...).
    if (op.query) {
      const properties = schema(op.query, 'input')['properties'] as Record<string, Record<string, unknown>>;
      for (const [name, property] of Object.entries(properties)) {
        params.push({ name, in: 'query', required: false, schema: property as never });
      }
    }
    const isPublic = route.auth === 'none';
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      summary: op.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(isPublic ? { security: [] } : {}),
      ...(op.body ? { requestBody: { required: !op.optionalBody, content: { 'application/json': { schema: schema(op.body, 'input') } } } } : {}),
      responses: {
        [op.status]: op.response
          ? { description: 'Success', content: { 'application/json': { schema: schema(op.response, 'output') } } }
          : { description: 'Success' },
        ...(isPublic
          ? {}
          : {
              '400': errorResponse('Invalid request: malformed JSON, a field that fails validation, an unknown event type'),
              '401': errorResponse('Missing or wrong API key'),
              '404': errorResponse('No such resource for this tenant'),
            }),
        ...((route.fn === 'webhooks-api' || route.fn === 'webhook-test') && !isPublic ? { '403': errorResponse('A portal session token that does not allow this (read-only, limited to some webhooks, or a portal-sessions route)') } : {}),
        ...(isPublic
          ? {}
          : {
              '429': {
                ...errorResponse(
                  route.auth === 'tenant'
                    ? "Over the tenant's request limit, or too many wrong keys from this address; Retry-After says when to try again"
                    : 'Too many wrong keys from this address; Retry-After says when to try again',
                ),
                headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
              },
            }),
        ...(op.conflict ? { '409': errorResponse(op.conflict) } : {}),
        ...Object.fromEntries(Object.entries(op.errors ?? {}).map(([status, description]) => [status, errorResponse(description)])),
        ...(op.body ? { '413': errorResponse('Body larger than 256 KiB') } : {}),
        ...(route.fn === 'ingest' ? { '503': errorResponse('Events stored but not queued: send the same request again (events with an id are kept once)') } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Hookline', version: HOOKLINE_VERSION, description: 'Webhook delivery: publish events, register endpoints, read the delivery log.' },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key (on /api/v1/*, also a portal session token), or the admin key for /admin/v1/*' } },
      schemas: { Error: schema(R.ErrorBody, 'output') },
    },
    paths,
  };
}
