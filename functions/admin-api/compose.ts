import { adminAuthenticator } from '../../shared/compose/auth.ts';
import { functionBase, type ApiOverrides } from '../../shared/compose/function-base.ts';
import { defaultRateLimit } from '../../shared/compose/rate-limit.ts';
import { apiHandler, parse, type ApiRequest } from '../../shared/http/api-handler.ts';
import { RateLimitInput, TenantCreateInput } from '../../shared/http/tenant-schemas.ts';
import { ApiKeys, type KeyCache } from '../../shared/usecases/api-keys.ts';
import type { SecretReader } from '../../shared/usecases/ports.ts';
import { ManageRateLimits } from '../../shared/usecases/rate-limits.ts';
import { CreateTenant, type AdminAuthenticator } from '../../shared/usecases/tenants.ts';

export interface AdminApiOverrides extends ApiOverrides {
  /** One machine: the authenticator the HTTP server and every handler share. */
  readonly adminAuth?: AdminAuthenticator;
  /** One machine: the tenant authenticator every handler shares, told at once of keys created and revoked. */
  readonly keyCache?: KeyCache;
  /** Where the admin key is read from when no `adminAuth` is given (one machine: files). */
  readonly secrets?: SecretReader;
}

/**
 * On Lambda no other function shares this container's memory: the authenticators of the other
 * containers learn of a revoked key when their cache entry expires (KEY_CACHE_MS).
 */
const NO_SHARED_KEY_CACHE: KeyCache = { remember: () => undefined, forget: () => undefined };

const KEYS = '/admin/v1/tenants/{tenant_id}/keys';
const RATE_LIMIT = '/admin/v1/tenants/{tenant_id}/rate-limit';

/** The platform team's API: tenants, their keys and their request limits. Only the admin key gets in. */
export function composeAdminApi(o: AdminApiOverrides = {}) {
  const f = functionBase('admin-api', o);
  const adminAuth = o.adminAuth ?? adminAuthenticator(f, o.secrets);
  const tenants = f.aws.use(
    f.local?.tenants ?? f.awsAdapter('tenantStore'),
    'get',
    'createIfAbsent',
    'listKeys',
    'addKey',
    'revokeKey',
    'tenantIdForKey',
    'rateLimitOf',
    'setRateLimit',
  );
  const keys = new ApiKeys({ tenants, cache: o.keyCache ?? NO_SHARED_KEY_CACHE, clock: f.clock });
  const createTenant = new CreateTenant({ tenants, keys, clock: f.clock });
  // The API functions read a tenant's limit at most every RATE_LIMIT_CACHE_MS: a change applies within it.
  const rateLimits = new ManageRateLimits({ limits: tenants, defaultLimit: defaultRateLimit(f.settings) });
  const tenantId = (req: ApiRequest) => req.pathParameters['tenant_id'] ?? '';
  return f.composed(
    apiHandler({
      auth: { kind: 'admin', authenticate: (key, client) => adminAuth.authenticate(key, client) },
      logError: f.logError,
      ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}),
      routes: {
        'POST /admin/v1/tenants': async (req) => ({
          statusCode: 201,
          body: await createTenant.execute(parse(TenantCreateInput, req.body)),
        }),
        [`GET ${KEYS}`]: async (req) => ({ statusCode: 200, body: { items: await keys.list(tenantId(req)) } }),
        [`POST ${KEYS}`]: async (req) => ({ statusCode: 201, body: await keys.create(tenantId(req)) }),
        [`DELETE ${KEYS}/{key_id}`]: async (req) => {
          await keys.revoke(tenantId(req), req.pathParameters['key_id'] ?? '');
          return { statusCode: 204 };
        },
        [`GET ${RATE_LIMIT}`]: async (req) => ({ statusCode: 200, body: await rateLimits.get(tenantId(req)) }),
        [`PUT ${RATE_LIMIT}`]: async (req) => ({ statusCode: 200, body: await rateLimits.set(tenantId(req), parse(RateLimitInput, req.body)) }),
      },
    }),
  );
}
