import * as z from 'zod/mini';
import './zod-setup.ts';

/** The request schemas of the admin API. See schemas.ts. */

export const TenantCreateInput = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  owner_email: z.email().check(z.maxLength(254)),
});
