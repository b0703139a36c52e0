import { apiHandler } from '../../shared/http/api-handler.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { createLogger } from '../../shared/logging.ts';
import { lazyHandler } from '../../shared/wiring.ts';

/** GET /openapi.json (generated from the schemas that validate requests), GET /healthz, and every unknown path: public. */
const logger = createLogger('openapi');

export function createHandler() {
  const document = openApiDocument();
  return apiHandler({
    auth: { kind: 'none' },
    logError: (message, error) => logger.error(message, error instanceof Error ? error : String(error)),
    // API Gateway's $default route (any path no route names) comes here too: no route matches
    // its key, so apiHandler answers the contract's JSON 404.
    routes: {
      'GET /openapi.json': async () => ({ statusCode: 200, body: document }),
      'GET /healthz': async () => ({ statusCode: 200, body: { status: 'ok' } }),
    },
  });
}

export const handler = lazyHandler(() => createHandler());
