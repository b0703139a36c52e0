import { createLogger } from '../../shared/logging.ts';
import { apiHandler } from '../../shared/http/api-handler.ts';
import type { Composed } from '../../shared/compose/function-base.ts';

export interface OpenApiOverrides {
  /** The OpenAPI document, generated from the schemas before this function runs (it carries neither). */
  readonly document: unknown;
}

/**
 * GET /openapi.json, GET /healthz, and every unknown path: public, and no AWS call. The document
 * is generated at build time (infra/stack/build-assets.ts) or, on one machine, at start.
 */
export function composeOpenApi(o: OpenApiOverrides) {
  const logger = createLogger('openapi');
  const handler = apiHandler({
    auth: { kind: 'none' },
    logError: (message, error) => logger.error(message, error instanceof Error ? error : String(error)),
    // API Gateway's $default route (any path no route names) comes here too: no route matches
    // its key, so apiHandler answers the contract's JSON 404.
    routes: {
      'GET /openapi.json': async () => ({ statusCode: 200, body: o.document }),
      'GET /healthz': async () => ({ statusCode: 200, body: { status: 'ok' } }),
    },
  });
  return { handler, awsCalls: [] } satisfies Composed<typeof handler>;
}
