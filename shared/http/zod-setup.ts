import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { _coercedNumber, _isoDateTime, type $ZodISODateTimeParams } from 'zod/v4/core';
import { OWNER_EMAIL_ADDRESS } from '../domain/owner-email.ts';

/**
 * zod/mini ships no messages; the English ones are those the full `zod` sets by default, so a 400
 * reads the same as before the switch ("Too small: expected string to have >=1 characters").
 * Imported by every schema module, so whichever a bundle holds, its messages are set.
 */
z.config(en());

/**
 * A schema built on its first use, then kept. Building zod schemas is work at a cold start (a few
 * milliseconds for the webhooks API's); built on demand, a cold start builds only the schemas its
 * request needs.
 */
export const lazySchema = <T>(build: () => T): (() => T) => {
  let built: T | undefined;
  return () => (built ??= build());
};

/**
 * `z.coerce.number()` and `z.iso.datetime()`, built as zod/mini builds them, without going through
 * the `z.coerce` and `z.iso` namespaces: esbuild keeps every member of a namespace reached through
 * another one, so `z.iso.datetime` would bundle the ISO date, time and duration schemas too, and
 * `z.coerce.number` the bigint and date coercions (about 2.5 KB together).
 */
export const coercedNumber = (): z.ZodMiniNumber<unknown> => _coercedNumber(z.ZodMiniNumber, {}) as z.ZodMiniNumber<unknown>;
export const isoDateTime = (params?: $ZodISODateTimeParams): z.ZodMiniISODateTime => _isoDateTime(z.ZodMiniISODateTime, params);

/** An owner's email address (OWNER_EMAIL_ADDRESS: z.email()'s, or at localhost), at most 254 characters. */
export const ownerEmailAddress = () => z.email({ pattern: OWNER_EMAIL_ADDRESS }).check(z.maxLength(254));
