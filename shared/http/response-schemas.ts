import * as z from 'zod/mini';
import { WEBHOOK_FORMATS } from '../domain/webhooks.ts';
import { MAX_BURST, MAX_REQUESTS_PER_SECOND } from '../domain/rate-limits.ts';
import { FilterInput } from './webhook-schemas.ts';

/**
 * The answers of the API, for the OpenAPI document only (http/openapi.ts): no function validates
 * its answers, so no bundle carries these.
 */

const describe = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;
const integer = () => z.number().check(z.int());

export const PublishResult = z.object({ ids: z.array(z.string()) });

export const WebhookView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  active: z.boolean(),
  status: z.enum(['healthy', 'failing', 'disabled']),
  description: z.string(),
  format: z.enum(WEBHOOK_FORMATS),
  auth: z.object({ type: z.enum(['none', 'bearer', 'basic', 'header', 'oauth2']) }),
  filter: z.optional(FilterInput()),
  owner_email: z.string(),
  owner_email_verified: describe(
    z.boolean(),
    'Whether owner_email receives this webhook\'s emails: the tenant\'s own address, or confirmed by the link sent to it. Until then they go to the tenant\'s own address.',
  ),
  created_at: z.string(),
  updated_at: z.string(),
});
export const WebhookCreated = z.extend(WebhookView, {
  secret: describe(z.optional(z.string()), 'Only when the server generated it; never shown again.'),
});

export const AttemptView = z.object({
  id: z.string(),
  delivery_id: z.string(),
  event_id: z.string(),
  event: z.string(),
  attempt: integer().check(z.minimum(1)),
  trigger: z.enum(['scheduled', 'manual', 'test']),
  success: z.boolean(),
  status_code: z.nullable(integer()),
  response_time_ms: z.number(),
  error: z.optional(z.string()),
  response_body: z.optional(z.string()),
  attempted_at: z.string(),
  next_attempt_at: z.optional(z.string()),
});

const paged = <T extends z.ZodMiniType>(item: T) =>
  z.object({
    items: z.array(item),
    page: integer(),
    per_page: integer(),
    has_more: z.boolean(),
    next_cursor: describe(z.nullable(z.string()), 'Pass as `cursor` for the next page; null on the last page.'),
  });
export const WebhookList = paged(WebhookView);
export const AttemptList = paged(AttemptView);

export const TestResult = z.object({
  delivered: z.boolean(),
  status_code: z.nullable(integer()),
  response_time_ms: z.number(),
  error: z.optional(z.string()),
});

export const SecretRotated = z.object({
  secret: describe(z.optional(z.string()), 'Only when the server generated it; never shown again.'),
  previous_secret_expires_at: z.string(),
});

export const RetryQueued = z.object({ delivery_id: z.string(), attempt: integer() });
export const RecoverQueued = z.object({ queued: integer() });

export const EventTypeList = z.object({
  items: z.array(
    z.object({ type: z.string(), title: z.string(), description: z.string(), schema: z.optional(z.record(z.string(), z.unknown())) }),
  ),
});

export const TenantCreated = z.object({ tenant_id: z.string(), api_key: z.string() });
export const ApiKeyView = z.object({
  id: z.string(),
  created_at: z.string(),
  prefix: describe(z.string(), 'The first characters of the key, to tell keys apart; the key itself is never shown again.'),
});
export const ApiKeyList = z.object({ items: z.array(ApiKeyView) });
export const TenantRateLimit = z.object({
  tenant_id: z.string(),
  requests_per_second: z.number().check(z.int(), z.minimum(1), z.maximum(MAX_REQUESTS_PER_SECOND)),
  burst: z.number().check(z.int(), z.minimum(1), z.maximum(MAX_BURST)),
  source: describe(z.enum(['tenant', 'default']), "`tenant`: set for this tenant; `default`: the deployment's default."),
});
export const ApiKeyCreated = z.object({ id: z.string(), api_key: describe(z.string(), 'Shown once; only its SHA-256 is stored.') });

export const EmailVerified = z.object({
  webhook_id: z.string(),
  owner_email: z.string(),
  owner_email_verified: z.literal(true),
});

export const ErrorBody = z.object({ error: z.string(), details: z.optional(z.array(z.unknown())) });
