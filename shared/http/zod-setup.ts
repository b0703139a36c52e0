import * as z from 'zod/mini';
import { en } from 'zod/locales';

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
