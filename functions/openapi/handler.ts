import { apiHandler } from '../../shared/http/api-handler.ts';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { createLogger } from '../../shared/logging.ts';
import { lazyHandler } from '../../shared/wiring.ts';

/** GET /openapi.json: public, generated from the schemas that validate requests. */
const logger = createLogger('openapi');

export function createHandler() {
  const document = openApiDocument();
  return apiHandler({
    auth: { kind: 'none' },
    logError: (message, error) => logger.error(message, error instanceof Error ? error : String(error)),
    routes: { 'GET /openapi.json': async () => ({ statusCode: 200, body: document }) },
  });
}

export const handler = lazyHandler(() => createHandler());
