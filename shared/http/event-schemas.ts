import * as z from 'zod/mini';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH, MAX_EVENTS_PER_BATCH } from '../domain/events.ts';
import { isoDateTime } from './zod-setup.ts';

/** The request schemas of POST /v1/events (the ingest function). See schemas.ts. */

export const EventTypeName = z
  .string()
  .check(z.minLength(1), z.maxLength(100), z.regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must be dot-separated lower-case words, e.g. scan.completed'));

/** JSON.parse turns 1e400 into Infinity, which JSON cannot carry on. */
function finiteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  return Object.values(value).every(finiteNumbers);
}

export const EventInput = z.strictObject({
  event: EventTypeName.check(z.describe('Event type from the catalogue, e.g. `scan.completed`.')),
  // z.custom keeps the object as parsed: a record schema would copy it and lose keys such as
  // `__proto__`, and the receiver must get the data exactly as published.
  data: z
    .custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'must be a JSON object')
    .check(z.refine(finiteNumbers, 'numbers must be finite'), z.describe('The event payload, a JSON object.')),
  id: z
    .optional(z.string().check(z.minLength(1), z.maxLength(MAX_EVENT_ID_LENGTH), z.regex(EVENT_ID_PATTERN, 'must start with a letter or digit and hold letters, digits and . _ : ~ - only')))
    .check(z.describe('Idempotency key: the same id published again by the same tenant is delivered only once.')),
  timestamp: z.optional(isoDateTime({ offset: true })).check(z.describe('ISO 8601; defaults to the time of receipt.')),
});
export type EventInput = z.infer<typeof EventInput>;

export const EventBatchInput = z.strictObject({
  events: z.array(EventInput).check(z.minLength(1), z.maxLength(MAX_EVENTS_PER_BATCH)),
});

export const PublishBody = z.union([EventInput, EventBatchInput]);
