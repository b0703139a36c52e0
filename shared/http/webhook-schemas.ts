import * as z from 'zod/mini';
import { FILTER_PATH } from '../domain/filters.ts';
import { isUsableSecret, WHSEC_KEY_BYTES } from '../domain/signing.ts';
import { HEADER_NAME, MAX_URL_CHARS, WEBHOOK_FORMATS } from '../domain/webhooks.ts';
import { coercedNumber, isoDateTime, lazySchema, ownerEmailAddress } from './zod-setup.ts';

/**
 * The request schemas of the webhooks API (see schemas.ts), each built on its first use: a
 * request needs one of them at most.
 */

const pattern = () =>
  z.string().check(z.minLength(1), z.maxLength(100), z.describe('An event type, a prefix pattern such as `alert.*`, or `*`.'));

const secret = () =>
  z.string().check(
    z.minLength(8),
    z.maxLength(256),
    z.refine(isUsableSecret, `a whsec_ secret must be whsec_ and standard base64 (with its = padding) of ${WHSEC_KEY_BYTES.min} to ${WHSEC_KEY_BYTES.max} bytes`),
    z.describe(`HMAC secret; a \`whsec_\` secret is base64 of ${WHSEC_KEY_BYTES.min} to ${WHSEC_KEY_BYTES.max} bytes, decoded for Standard Webhooks.`),
  );

const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));

/**
 * A URL as written: the URL parser drops tabs and line breaks and would store another URL than
 * the one sent (`/x\r\nX-Injected: 1` became `/xX-Injected:%201`), so they are refused, as are
 * spaces and the other control characters.
 */
const noControl = () =>
  z.refine<string>((value) => ![...value].some((c) => c <= ' ' || c === '\u007f'), 'must not contain spaces or control characters');
const urlText = (max: number) => text(1, max).check(noControl());

const headerName = () =>
  z.string().check(z.minLength(1), z.maxLength(100), z.regex(HEADER_NAME, 'must be a valid header name'));

const receiverAuthInput = () => z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: text(1, 4096) }),
  z.strictObject({ type: z.literal('basic'), username: text(1, 256), password: text(1, 1024) }),
  z.strictObject({ type: z.literal('header'), name: headerName(), value: text(1, 4096) }),
  z.strictObject({
    type: z.literal('oauth2'),
    token_url: z.url().check(noControl()),
    client_id: text(1, 512),
    client_secret: text(1, 4096),
    scope: z.optional(z.string().check(z.maxLength(1024))),
  }),
]);

/** Shared by the create schema and the webhook view of the OpenAPI document. */
export const FilterInput = lazySchema(() => {
  const JsonScalar = z.union([z.string().check(z.maxLength(1000)), z.number(), z.boolean(), z.null()]);
  const ScalarList = z.array(JsonScalar).check(z.minLength(1), z.maxLength(100));
  const FilterCondition = z.union([
  JsonScalar,
  z.strictObject({ eq: JsonScalar }),
  z.strictObject({ neq: JsonScalar }),
  z.strictObject({ in: ScalarList }),
  z.strictObject({ nin: ScalarList }),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({ gt: z.number() }),
  z.strictObject({ gte: z.number() }),
  z.strictObject({ lt: z.number() }),
    z.strictObject({ lte: z.number() }),
  ]);
  return z.record(z.string().check(z.maxLength(200), z.regex(FILTER_PATH, 'must be a path like data.severity')), FilterCondition).check(
    z.refine((f) => Object.keys(f).length > 0 && Object.keys(f).length <= 20, 'must have 1 to 20 conditions'),
    z.describe(
      'Only events whose fields match every condition are delivered. Keys are paths (`data.severity`, `event`); ' +
        'a value is equality, or one of {"eq"}, {"neq"}, {"in": [...]}, {"nin": [...]}, {"exists": bool}, {"gt"|"gte"|"lt"|"lte": number}.',
    ),
  );
});

export const WebhookCreateInput = lazySchema(() =>
  z.strictObject({
    url: urlText(MAX_URL_CHARS).check(z.describe('Absolute https:// URL (http:// only where private targets are allowed).')),
    events: z.array(pattern()).check(z.minLength(1), z.maxLength(100)),
    secret: z.optional(secret()).check(z.describe('Without it the server generates `whsec_` + base64 of 32 random bytes, returned once. A `whsec_` secret given must be base64 of 24 to 64 bytes.')),
    active: z.optional(z.boolean()),
    description: z.optional(z.string().check(z.maxLength(1000))),
    owner_email: z.optional(ownerEmailAddress()),
    auth: z.optional(receiverAuthInput()),
    format: z.optional(z.enum(WEBHOOK_FORMATS)),
    filter: z.optional(z.nullable(FilterInput())).check(z.describe('null in a PATCH removes the filter.')),
  }),
);
export type WebhookCreateInput = z.infer<ReturnType<typeof WebhookCreateInput>>;

export const WebhookPatchInput = lazySchema(() => z.partial(WebhookCreateInput()));
export type WebhookPatchInput = z.infer<ReturnType<typeof WebhookPatchInput>>;

/**
 * How deep `page` may reach (page × per_page): reaching a page reads every item before it, so
 * deeper pages are read with `cursor`, which costs the same at any depth.
 */
export const MAX_PAGE_DEPTH = 1000;

/** The paging parameters of every list. */
const pageFields = () => ({
  page: z
    ._default(coercedNumber().check(z.int(), z.minimum(1)), 1)
    .check(z.describe(`1-based page number; page × per_page may be at most ${MAX_PAGE_DEPTH} (follow next_cursor beyond). Ignored with cursor.`)),
  per_page: z._default(coercedNumber().check(z.int(), z.minimum(1), z.maximum(100)), 25),
  cursor: z
    .optional(text(1, 2048).check(z.regex(/^[A-Za-z0-9_-]+$/, 'must be the next_cursor of a page of this list')))
    .check(z.describe('The opaque next_cursor of the previous page of this same list: the page after it.')),
});

const pageDepth = () =>
  z.refine<{ cursor?: string | undefined; page: number; per_page: number }>((q) => q.cursor !== undefined || q.page * q.per_page <= MAX_PAGE_DEPTH, {
    path: ['page'],
    message: `page × per_page may be at most ${MAX_PAGE_DEPTH}; to read further, pass cursor=<next_cursor of the page before>`,
  });

export const PageQuery = lazySchema(() => z.object(pageFields()).check(pageDepth()));

/** The delivery log's query: a page, of every attempt or of one delivery's. */
export const DeliveriesQuery = lazySchema(() =>
  z
    .object({
      ...pageFields(),
      delivery_id: z
        .optional(z.string().check(z.regex(/^dlv_[0-9A-Z]{26}$/, 'must be a delivery id (dlv_...)')))
        .check(z.describe("Only this delivery's attempts, newest first: its whole history, whichever pages of the full log it spans.")),
    })
    .check(pageDepth()),
);

export const MAX_GRACE_SECONDS = 7 * 86_400;
export const RotateSecretInput = lazySchema(() =>
  z.strictObject({
    secret: z.optional(secret()).check(z.describe('The new secret; without it the server generates one and returns it once. A `whsec_` secret given must be base64 of 24 to 64 bytes.')),
    grace_period_seconds: z
      ._default(z.number().check(z.int(), z.minimum(0), z.maximum(MAX_GRACE_SECONDS)), 86_400)
      .check(z.describe('How long the old secret keeps signing (default 24 h, at most 7 days).')),
  }),
);

export const RecoverInput = lazySchema(() =>
  z.strictObject({
    since: isoDateTime({ offset: true }).check(z.describe('Re-queue every failed delivery with an attempt at or after this time.')),
  }),
);
