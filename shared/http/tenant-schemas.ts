import * as z from 'zod/mini';
import { MAX_BURST, MAX_REQUESTS_PER_SECOND } from '../domain/rate-limits.ts';
import { ownerEmailAddress } from './zod-setup.ts';

/** The request schemas of the admin API. See schemas.ts. */

export const TenantCreateInput = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  owner_email: ownerEmailAddress(),
});

/** A tenant's own request limit (`burst` defaults to the rate); bounds in domain/rate-limits.ts. */
export const RateLimitInput = z
  .strictObject({
    requests_per_second: z.int().check(z.minimum(1), z.maximum(MAX_REQUESTS_PER_SECOND), z.describe('Requests a second on average, over the tenant routes (publishing and the webhooks API).')),
    burst: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_BURST), z.describe('Most requests at once; at least requests_per_second (default: requests_per_second).'))),
  })
  .check(
    z.refine((l) => l.burst === undefined || l.burst >= l.requests_per_second, { message: 'burst must be at least requests_per_second', path: ['burst'] }),
  );
