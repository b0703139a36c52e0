import { apiHandler, parse, type ApiRequest } from '../../shared/http/api-handler.ts';
import { TenantCreateInput } from '../../shared/http/schemas.ts';
import { ApiKeys } from '../../shared/usecases/api-keys.ts';
import { CreateTenant } from '../../shared/usecases/tenants.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

const KEYS = '/admin/v1/tenants/{tenant_id}/keys';

/** The platform team's API: tenants and their keys. Only the admin key gets in. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('admin-api', overrides);
  // The authenticator's cache learns of revocations at once (on one machine it is the one every handler shares).
  const keys = new ApiKeys({ tenants: w.tenants, cache: w.tenantAuth, clock: w.clock });
  const createTenant = new CreateTenant({ tenants: w.tenants, keys, clock: w.clock });
  const tenantId = (req: ApiRequest) => req.pathParameters['tenant_id'] ?? '';
  return apiHandler({
    auth: { kind: 'admin', authenticate: (key, client) => w.adminAuth.authenticate(key, client) },
    logError: w.logError,
    ...(w.overrides.rateLimit ? { rateLimit: w.overrides.rateLimit } : {}),
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
    },
  });
}

export const handler = lazyHandler(() => createHandler());
