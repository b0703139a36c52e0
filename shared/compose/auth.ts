import { AuthFailureBuckets } from '../adapters/local/token-bucket.ts';
import { adminKeySecretName } from '../config.ts';
import type { SecretReader } from '../usecases/ports.ts';
import { AdminAuthenticator, FAILED_AUTHS_PER_MINUTE, TenantAuthenticator } from '../usecases/tenants.ts';
import type { FunctionBase } from './function-base.ts';

/**
 * How the API functions check keys. On Lambda each builds its own authenticator (a cache per
 * container); on one machine the HTTP server and every handler share one, passed as an override,
 * so a key revoked through the admin API gets 401 at once.
 */

/** Failed authentications per client address, in this container (or process). */
export const authFailures = (): AuthFailureBuckets => new AuthFailureBuckets(FAILED_AUTHS_PER_MINUTE);

/** Tenant API keys, looked up by their hash in the tenants table. */
export function tenantAuthenticator(f: FunctionBase, failures = authFailures()): TenantAuthenticator {
  const keys = f.aws.use(f.local?.tenants ?? f.awsAdapter('tenantRecords'), 'tenantIdForKey');
  return new TenantAuthenticator(keys, failures);
}

/** The admin key, compared with the one in its secret (Secrets Manager on AWS). */
export function adminAuthenticator(f: FunctionBase, secrets?: SecretReader, failures = authFailures()): AdminAuthenticator {
  const store = secrets ?? f.aws.use(f.awsAdapter('secrets', 'admin-key'), 'get');
  return new AdminAuthenticator(store, adminKeySecretName(f.env, f.settings), failures);
}
