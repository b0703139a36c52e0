import { z } from 'zod';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH, MAX_EVENTS_PER_BATCH } from '../domain/events.ts';
import { FILTER_PATH } from '../domain/filters.ts';
import { WEBHOOK_FORMATS } from '../domain/webhooks.ts';

/**
 * The request and response schemas of the API. Requests are validated with them, and the
 * OpenAPI document (http/openapi.ts) is generated from them, so the two cannot disagree.
 */

export const EventTypeName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must be dot-separated lower-case words, e.g. scan.completed');

/** JSON.parse turns 1e400 into Infinity, which JSON cannot carry on. */
function finiteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  return Object.values(value).every(finiteNumbers);
}

export const EventInput = z.strictObject({
  event: EventTypeName.describe('Event type from the catalogue, e.g. `scan.completed`.'),
  // z.custom keeps the object as parsed: a record schema would copy it and lose keys such as
  // `__proto__`, and the receiver must get the data exactly as published.
  data: z
    .custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'must be a JSON object')
    .refine(finiteNumbers, 'numbers must be finite')
    .describe('The event payload, a JSON object.'),
  id: z
    .string()
    .min(1)
    .max(MAX_EVENT_ID_LENGTH)
    .regex(EVENT_ID_PATTERN, 'may hold letters, digits and . _ : ~ - only')
    .optional()
    .describe('Idempotency key: the same id published again by the same tenant is delivered only once.'),
  timestamp: z.iso.datetime({ offset: true }).optional().describe('ISO 8601; defaults to the time of receipt.'),
});
export type EventInput = z.infer<typeof EventInput>;

export const EventBatchInput = z.strictObject({
  events: z.array(EventInput).min(1).max(MAX_EVENTS_PER_BATCH),
});

export const PublishBody = z.union([EventInput, EventBatchInput]);
export const PublishResult = z.object({ ids: z.array(z.string()) });

const Pattern = z
  .string()
  .min(1)
  .max(100)
  .describe('An event type, a prefix pattern such as `alert.*`, or `*`.');

const Secret = z.string().min(8).max(256).describe('HMAC secret; `whsec_` secrets are base64-decoded for Standard Webhooks.');

const HeaderName = z.string().min(1).max(100).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid header name');

export const ReceiverAuthInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1).max(4096) }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1).max(256), password: z.string().min(1).max(1024) }),
  z.strictObject({ type: z.literal('header'), name: HeaderName, value: z.string().min(1).max(4096) }),
  z.strictObject({
    type: z.literal('oauth2'),
    token_url: z.url(),
    client_id: z.string().min(1).max(512),
    client_secret: z.string().min(1).max(4096),
    scope: z.string().max(1024).optional(),
  }),
]);
export type ReceiverAuthInput = z.infer<typeof ReceiverAuthInput>;

const JsonScalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const FilterCondition = z.union([
  JsonScalar,
  z.strictObject({ eq: JsonScalar }),
  z.strictObject({ neq: JsonScalar }),
  z.strictObject({ in: z.array(JsonScalar).min(1).max(100) }),
  z.strictObject({ nin: z.array(JsonScalar).min(1).max(100) }),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({ gt: z.number() }),
  z.strictObject({ gte: z.number() }),
  z.strictObject({ lt: z.number() }),
  z.strictObject({ lte: z.number() }),
]);
export const FilterInput = z
  .record(z.string().max(200).regex(FILTER_PATH, 'must be a path like data.severity'), FilterCondition)
  .refine((f) => Object.keys(f).length > 0 && Object.keys(f).length <= 20, 'must have 1 to 20 conditions')
  .describe(
    'Only events whose fields match every condition are delivered. Keys are paths (`data.severity`, `event`); ' +
      'a value is equality, or one of {"eq"}, {"neq"}, {"in": [...]}, {"nin": [...]}, {"exists": bool}, {"gt"|"gte"|"lt"|"lte": number}.',
  );

export const WebhookCreateInput = z.strictObject({
  url: z.string().min(1).max(2048).describe('Absolute https:// URL (http:// only where private targets are allowed).'),
  events: z.array(Pattern).min(1).max(100),
  secret: Secret.optional().describe('Without it the server generates `whsec_` + base64 of 32 random bytes, returned once.'),
  active: z.boolean().optional(),
  description: z.string().max(1000).optional(),
  owner_email: z.email().max(254).optional(),
  auth: ReceiverAuthInput.optional(),
  format: z.enum(WEBHOOK_FORMATS).optional(),
  filter: FilterInput.nullable().optional().describe('null in a PATCH removes the filter.'),
});
export type WebhookCreateInput = z.infer<typeof WebhookCreateInput>;

export const WebhookPatchInput = WebhookCreateInput.partial();
export type WebhookPatchInput = z.infer<typeof WebhookPatchInput>;

/**
 * How deep `page` may reach (page × per_page): reaching a page reads every item before it, so
 * deeper pages are read with `cursor`, which costs the same at any depth.
 */
export const MAX_PAGE_DEPTH = 1000;

export const PageQuery = z
  .object({
    page: z.coerce
      .number()
      .int()
      .min(1)
      .default(1)
      .describe(`1-based page number; page × per_page may be at most ${MAX_PAGE_DEPTH} (follow next_cursor beyond). Ignored with cursor.`),
    per_page: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z
      .string()
      .min(1)
      .max(2048)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be the next_cursor of a page of this list')
      .optional()
      .describe('The opaque next_cursor of the previous page of this same list: the page after it.'),
  })
  .refine((q) => q.cursor !== undefined || q.page * q.per_page <= MAX_PAGE_DEPTH, {
    path: ['page'],
    message: `page × per_page may be at most ${MAX_PAGE_DEPTH}; to read further, pass cursor=<next_cursor of the page before>`,
  });

export const WebhookView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  active: z.boolean(),
  status: z.enum(['healthy', 'failing', 'disabled']),
  description: z.string(),
  format: z.enum(WEBHOOK_FORMATS),
  auth: z.object({ type: z.enum(['none', 'bearer', 'basic', 'header', 'oauth2']) }),
  filter: FilterInput.optional(),
  owner_email: z.string(),
  owner_email_verified: z
    .boolean()
    .describe('Whether owner_email receives this webhook\'s emails: the tenant\'s own address, or confirmed by the link sent to it. Until then they go to the tenant\'s own address.'),
  created_at: z.string(),
  updated_at: z.string(),
});
export const WebhookCreated = WebhookView.extend({
  secret: z.string().optional().describe('Only when the server generated it; never shown again.'),
});

export const AttemptView = z.object({
  id: z.string(),
  delivery_id: z.string(),
  event_id: z.string(),
  event: z.string(),
  attempt: z.number().int().min(1),
  trigger: z.enum(['scheduled', 'manual', 'test']),
  success: z.boolean(),
  status_code: z.number().int().nullable(),
  response_time_ms: z.number(),
  error: z.string().optional(),
  response_body: z.string().optional(),
  attempted_at: z.string(),
  next_attempt_at: z.string().optional(),
});

const paged = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    page: z.number().int(),
    per_page: z.number().int(),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  });
export const WebhookList = paged(WebhookView);
export const AttemptList = paged(AttemptView);

export const TestResult = z.object({
  delivered: z.boolean(),
  status_code: z.number().int().nullable(),
  response_time_ms: z.number(),
  error: z.string().optional(),
});

export const MAX_GRACE_SECONDS = 7 * 86_400;
export const RotateSecretInput = z.strictObject({
  secret: Secret.optional().describe('The new secret; without it the server generates one and returns it once.'),
  grace_period_seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_GRACE_SECONDS)
    .default(86_400)
    .describe('How long the old secret keeps signing (default 24 h, at most 7 days).'),
});
export const SecretRotated = z.object({
  secret: z.string().optional().describe('Only when the server generated it; never shown again.'),
  previous_secret_expires_at: z.string(),
});

export const RecoverInput = z.strictObject({
  since: z.iso.datetime({ offset: true }).describe('Re-queue every failed delivery with an attempt at or after this time.'),
});
export const RetryQueued = z.object({ delivery_id: z.string(), attempt: z.number().int() });
export const RecoverQueued = z.object({ queued: z.number().int() });

export const EventTypeList = z.object({
  items: z.array(
    z.object({ type: z.string(), title: z.string(), description: z.string(), schema: z.record(z.string(), z.unknown()).optional() }),
  ),
});

export const TenantCreateInput = z.strictObject({
  name: z.string().min(1).max(200),
  owner_email: z.email().max(254),
});
export const TenantCreated = z.object({ tenant_id: z.string(), api_key: z.string() });
export const ApiKeyView = z.object({
  id: z.string(),
  created_at: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart; the key itself is never shown again.'),
});
export const ApiKeyList = z.object({ items: z.array(ApiKeyView) });
export const ApiKeyCreated = z.object({ id: z.string(), api_key: z.string().describe('Shown once; only its SHA-256 is stored.') });

export const EmailVerified = z.object({
  webhook_id: z.string(),
  owner_email: z.string(),
  owner_email_verified: z.literal(true),
});

export const ErrorBody = z.object({ error: z.string(), details: z.array(z.unknown()).optional() });

/** zod issues as `details` entries: where and what. */
export function issueDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
}
