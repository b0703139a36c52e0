import { EmfMetrics } from '../../shared/adapters/aws/emf-metrics.ts';
import { tenantAuthenticator } from '../../shared/compose/auth.ts';
import { catalogueFromEnv } from '../../shared/compose/catalogue.ts';
import { functionBase, type ApiOverrides } from '../../shared/compose/function-base.ts';
import { tenantRateLimiter } from '../../shared/compose/rate-limit.ts';
import type { Catalogue } from '../../shared/domain/catalogue.ts';
import { apiHandler, parse } from '../../shared/http/api-handler.ts';
import { EventBatchInput, EventInput } from '../../shared/http/event-schemas.ts';
import { PublishEvents } from '../../shared/usecases/publish-events.ts';
import type { RequestAllowance } from '../../shared/usecases/rate-limits.ts';
import type { TenantAuthenticator } from '../../shared/usecases/tenants.ts';

export interface IngestOverrides extends ApiOverrides {
  /** One machine: the authenticator the HTTP server and every handler share. */
  readonly tenantAuth?: TenantAuthenticator;
  /**
   * The catalogue with its schemas compiled (one machine: at start; Lambda: at build time, see
   * handler.ts). Without it, types only: data of a type with a schema is refused, never let through.
   */
  readonly catalogue?: Catalogue;
  /** One machine: the process's per-tenant token buckets (Lambda: a counter in the tenants table). */
  readonly requestAllowance?: RequestAllowance;
}

/** POST /v1/events: one event or a batch, stored durably before the 202. */
export function composeIngest(o: IngestOverrides = {}) {
  const f = functionBase('ingest', o);
  const tenantAuth = o.tenantAuth ?? tenantAuthenticator(f);
  const limiter = tenantRateLimiter(f, o.requestAllowance);
  const publish = new PublishEvents({
    store: f.aws.use(f.local?.events ?? f.awsAdapter('eventStore'), 'putIfAbsent', 'get', 'forget'),
    queue: f.aws.use(f.local?.eventQueue ?? f.awsAdapter('eventQueue'), 'enqueue', 'fits'),
    catalogue: o.catalogue ?? catalogueFromEnv(f.env),
    clock: f.clock,
    log: f.logger,
    metrics: f.metrics(() => new EmfMetrics(f.logger)),
    // One machine: its reconciler queues events stored but not queued; on AWS a failed enqueue is a 503.
    reconciled: f.local !== undefined,
  });
  return f.composed(
    apiHandler({
      auth: { kind: 'tenant', authenticate: (key, client) => tenantAuth.authenticate(key, client) },
      logError: f.logError,
      // Every route here is a tenant's: its own limit, after its key.
      rateLimit: (tenantId) => limiter.check(tenantId),
      routes: {
        'POST /v1/events': async (req) => {
          const isBatch = typeof req.body === 'object' && req.body !== null && 'events' in req.body;
          const inputs = isBatch ? parse(EventBatchInput, req.body).events : [parse(EventInput, req.body)];
          return { statusCode: 202, body: { ids: await publish.execute(req.tenantId!, inputs) } };
        },
      },
    }),
  );
}
