import * as z from 'zod/mini';
import { DEFAULT_PORTAL_TTL_SECONDS, MAX_PORTAL_TTL_SECONDS, MAX_PORTAL_WEBHOOKS } from '../usecases/portal-sessions.ts';
import { lazySchema } from '../http/zod-setup.ts';

/** The request of `POST /api/v1/portal-sessions`, built on its first use (see zod-setup.ts). */

export const PortalSessionInput = lazySchema(() =>
  z.strictObject({
    expires_in: z.optional(
      z
        .number()
        .check(
          z.int(),
          z.minimum(1),
          z.maximum(MAX_PORTAL_TTL_SECONDS),
          z.describe(`Seconds the link works (default ${DEFAULT_PORTAL_TTL_SECONDS}, at most ${MAX_PORTAL_TTL_SECONDS}).`),
        ),
    ),
    webhook_ids: z.optional(
      z
        .array(z.string().check(z.regex(/^wh_[0-9A-Z]{26}$/, 'must be a webhook id')))
        .check(z.minLength(1), z.maxLength(MAX_PORTAL_WEBHOOKS), z.describe('Only these webhooks are shown and may be acted on (no creating).')),
    ),
    read_only: z.optional(z.boolean().check(z.describe('The session may look but not change anything.'))),
  }),
);
