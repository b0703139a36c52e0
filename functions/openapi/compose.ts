import { createLogger } from '../../shared/logging.ts';
import { apiHandler } from '../../shared/http/api-handler.ts';
import type { Composed } from '../../shared/compose/function-base.ts';
import { PORTAL_SOURCE_DIR, portalFiles } from './portal.ts';

export interface OpenApiOverrides {
  /**
   * The OpenAPI document (this function carries neither the schemas nor their generator), made on
   * the first request for it: on one machine it is generated from the schemas, which took a
   * twentieth of the runtime's start.
   */
  readonly document: () => unknown;
  /** Where the portal page's files are (default: shared/portal/ in the repository, as on one machine). */
  readonly portalDir?: URL;
}

/**
 * GET /openapi.json, GET /healthz, the portal page, and every unknown path: public, and no AWS call. The document
 * is generated at build time (infra/stack/build-assets.ts) or, on one machine, at start.
 */
export function composeOpenApi(o: OpenApiOverrides) {
  const logger = createLogger('openapi');
  let document: unknown;
  const api = apiHandler({
    auth: { kind: 'none' },
    logError: (message, error) => logger.error(message, error instanceof Error ? error : String(error)),
    // API Gateway's $default route (any path no route names) comes here too: no route matches
    // its key, so apiHandler answers the contract's JSON 404.
    routes: {
      'GET /openapi.json': async () => ({ statusCode: 200, body: (document ??= o.document()) }),
      'GET /healthz': async () => ({ statusCode: 200, body: { status: 'ok' } }),
    },
  });
  // The portal's files are not JSON: answered before the API handler, with their own headers.
  const portal = portalFiles(o.portalDir ?? PORTAL_SOURCE_DIR);
  const handler: typeof api = async (event, context) => portal(event) ?? api(event, context);
  return { handler, awsCalls: [] } satisfies Composed<typeof handler>;
}
