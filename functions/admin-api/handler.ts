import { apiHandler, parse } from '../../shared/http/api-handler.ts';
import { TenantCreateInput } from '../../shared/http/schemas.ts';
import { CreateTenant } from '../../shared/usecases/tenants.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

/** The platform team's API: tenants and their keys. Only the admin key gets in. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('admin-api', overrides);
  const createTenant = new CreateTenant(w.tenants, w.clock);
  return apiHandler({
    auth: { kind: 'admin', authenticate: (key) => w.adminAuth.authenticate(key) },
    logError: w.logError,
    ...(w.overrides.rateLimit ? { rateLimit: w.overrides.rateLimit } : {}),
    routes: {
      'POST /admin/v1/tenants': async (req) => ({
        statusCode: 201,
        body: await createTenant.execute(parse(TenantCreateInput, req.body)),
      }),
    },
  });
}

export const handler = lazyHandler(() => createHandler());
