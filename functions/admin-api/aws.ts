import { secrets, tenantStore } from '../../shared/adapters/aws/kit.ts';
import type { AwsKit } from '../../shared/compose/aws-kit.ts';

/** The AWS adapters of the admin API's root: the admin key's secret and the tenants table (handler.ts gives them). */
export const adminApiAws = { secrets, tenantStore } satisfies AwsKit;
