import { apiHandler, parse } from '../../shared/http/api-handler.ts';
import { EventBatchInput, EventInput } from '../../shared/http/schemas.ts';
import { PublishEvents } from '../../shared/usecases/publish-events.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

/** POST /v1/events: one event or a batch, stored durably before the 202. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('ingest', overrides);
  const publish = new PublishEvents({ store: w.events, queue: w.eventQueue, catalogue: w.catalogue, clock: w.clock, log: w.logger });
  return apiHandler({
    auth: { kind: 'tenant', authenticate: (key, client) => w.tenantAuth.authenticate(key, client) },
    logError: w.logError,
    ...(w.overrides.rateLimit ? { rateLimit: w.overrides.rateLimit } : {}),
    routes: {
      'POST /v1/events': async (req) => {
        const isBatch = typeof req.body === 'object' && req.body !== null && 'events' in req.body;
        const inputs = isBatch ? parse(EventBatchInput, req.body).events : [parse(EventInput, req.body)];
        return { statusCode: 202, body: { ids: await publish.execute(req.tenantId!, inputs) } };
      },
    },
  });
}

export const handler = lazyHandler(() => createHandler());
