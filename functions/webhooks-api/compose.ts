import { resolveHost } from '../../shared/adapters/http/resolve-host.ts';
import { tenantAuthenticator } from '../../shared/compose/auth.ts';
import { catalogueFromEnv } from '../../shared/compose/catalogue.ts';
import { credentialsWriter } from '../../shared/compose/credentials.ts';
import { functionBase, type ApiOverrides } from '../../shared/compose/function-base.ts';
import { emailDeps, emailQuotaStore, type MailOverrides } from '../../shared/compose/mail.ts';
import { portalSessions } from '../../shared/compose/portal-sessions.ts';
import { tenantRateLimiter } from '../../shared/compose/rate-limit.ts';
import { targetPolicy, type TargetOverrides } from '../../shared/compose/target-policy.ts';
import { attemptView } from '../../shared/domain/deliveries.ts';
import { webhookView } from '../../shared/domain/webhooks.ts';
import { apiHandler, bodyOrEmpty, parse, type ApiRequest } from '../../shared/http/api-handler.ts';
import { portalScoped } from '../../shared/http/portal-scoped.ts';
import { DeliveriesQuery, PageQuery, RecoverInput, RotateSecretInput, WebhookCreateInput, WebhookPatchInput } from '../../shared/http/webhook-schemas.ts';
import { PortalSessionInput } from '../../shared/portal/schemas.ts';
import { ManageWebhooks, type AttemptPageRequest, type ListPage, type PageRequest } from '../../shared/usecases/manage-webhooks.ts';
import { noMetrics } from '../../shared/usecases/metrics.ts';
import { OwnerEmailVerification } from '../../shared/usecases/owner-email.ts';
import { webhooksInScope } from '../../shared/usecases/portal-sessions.ts';
import type { SecretStore } from '../../shared/usecases/ports.ts';
import type { RequestAllowance } from '../../shared/usecases/rate-limits.ts';
import { RecoverDeliveries } from '../../shared/usecases/recover-deliveries.ts';
import type { TenantAuthenticator } from '../../shared/usecases/tenants.ts';

export interface WebhooksApiOverrides extends ApiOverrides, TargetOverrides, MailOverrides {
  /** One machine: the authenticator the HTTP server and every handler share. */
  readonly tenantAuth?: TenantAuthenticator;
  /** One machine: signing secrets in files instead of Secrets Manager. */
  readonly secrets?: SecretStore;
  /** One machine: the process's per-tenant token buckets (Lambda: a counter in the tenants table). */
  readonly requestAllowance?: RequestAllowance;
}

const BASE = '/api/v1/integrations/webhooks';

/** The customer API: webhooks, their delivery log, the event catalogue, portal sessions (the test event: webhook-test). */
export function composeWebhooksApi(o: WebhooksApiOverrides = {}) {
  const f = functionBase('webhooks-api', o);
  const local = f.local;
  // The tables' adapters without what only other functions call (health, fan-out, the admin API's).
  const webhookStore = local?.webhooks ?? f.awsAdapter('webhookRepository');
  const tenantStore = local?.tenants ?? f.awsAdapter('tenantRecords');
  // On AWS the delivery log is the deliveries' state too: one adapter for both.
  const { attemptLog, deliveries } = local
    ? { attemptLog: local.attempts, deliveries: local.deliveries }
    : ((log) => ({ attemptLog: log, deliveries: log }))(f.awsAdapter('deliveryLogReader'));
  const tenantAuth = o.tenantAuth ?? tenantAuthenticator(f);
  const limiter = tenantRateLimiter(f, o.requestAllowance);
  const catalogue = catalogueFromEnv(f.env);
  const ownerEmails = new OwnerEmailVerification({
    webhooks: f.aws.use(webhookStore, 'get', 'confirmOwnerEmail'),
    // Counted in EmailsSent from their log line (a metric filter), not EMF: no Powertools Metrics here.
    ...emailDeps(f, o, tenantStore, noMetrics),
    // A request refused after its verification took an email gives it back.
    quota: f.aws.use(emailQuotaStore(f), 'take', 'giveBack'),
  });
  const webhooks = new ManageWebhooks({
    webhooks: f.aws.use(webhookStore, 'get', 'create', 'update', 'delete', 'list'),
    attempts: f.aws.use(attemptLog, 'list'),
    ownerEmails,
    credentials: credentialsWriter(f, o.secrets),
    clock: f.clock,
    catalogue,
    resolveHost,
    quota: f.aws.use(tenantStore, 'reserve', 'release'),
    settings: {
      signatureHeader: f.settings.signatureHeader,
      targets: targetPolicy(f, o),
      maxWebhooksPerTenant: f.settings.maxWebhooksPerTenant,
    },
  });
  // Portal tokens act for their tenant here (and through the shared authenticator on one machine).
  const portal = portalSessions(f, webhooks, o.secrets);
  tenantAuth.acceptPortalTokens(portal);
  const recovery = new RecoverDeliveries({
    webhooks: f.aws.use(webhookStore, 'get'),
    deliveries: f.aws.use(deliveries, 'get', 'reopen'),
    attempts: f.aws.use(attemptLog, 'failedDeliveriesSince'),
    queue: f.aws.use(local?.deliveryQueue ?? f.awsAdapter('deliveryQueue'), 'enqueue'),
    clock: f.clock,
  });
  const id = (req: ApiRequest) => req.pathParameters['id'] ?? '';
  const tenant = (req: ApiRequest) => req.tenantId!;
  const pageRequest = (req: ApiRequest): PageRequest => {
    const q = parse(PageQuery, req.query, 'Query string');
    return { page: q.page, perPage: q.per_page, cursor: q.cursor };
  };
  const deliveriesRequest = (req: ApiRequest): AttemptPageRequest => {
    const { delivery_id, ...page } = parse(DeliveriesQuery, req.query, 'Query string');
    return { page: page.page, perPage: page.per_page, cursor: page.cursor, deliveryId: delivery_id };
  };
  const pageBody = <T>(request: PageRequest, result: ListPage<T>, view: (item: T) => unknown) => ({
    items: result.items.map(view),
    page: result.page,
    per_page: request.perPage,
    has_more: result.hasMore,
    next_cursor: result.nextCursor ?? null,
  });

  return f.composed(
    apiHandler({
      auth: { kind: 'tenant', authenticate: (key, client) => tenantAuth.authenticateCaller(key, client) },
      logError: f.logError,
      // A tenant's requests count against its own limit; the public route (the verification
      // link) only against the one-machine runtime's bucket of its kind.
      rateLimit: (key, kind) => (kind === 'tenant' ? limiter.check(key) : o.rateLimit?.(key)),
      routes: portalScoped({
        [`POST ${BASE}`]: async (req) => {
          const { webhook, generatedSecret } = await webhooks.create(tenant(req), parse(WebhookCreateInput, req.body));
          return { statusCode: 201, body: { ...webhookView(webhook), ...(generatedSecret ? { secret: generatedSecret } : {}) } };
        },
        [`GET ${BASE}`]: async (req) => {
          const request = pageRequest(req);
          const only = req.portal?.webhookIds;
          const page = only ? await webhooksInScope(only, (id) => webhooks.get(tenant(req), id), request) : await webhooks.list(tenant(req), request);
          return { statusCode: 200, body: pageBody(request, page, webhookView) };
        },
        [`GET ${BASE}/{id}`]: async (req) => ({ statusCode: 200, body: webhookView(await webhooks.get(tenant(req), id(req))) }),
        [`PATCH ${BASE}/{id}`]: async (req) => ({
          statusCode: 200,
          body: webhookView(await webhooks.update(tenant(req), id(req), parse(WebhookPatchInput, req.body))),
        }),
        [`DELETE ${BASE}/{id}`]: async (req) => {
          await webhooks.delete(tenant(req), id(req));
          return { statusCode: 204 };
        },
        [`GET ${BASE}/{id}/deliveries`]: async (req) => {
          const request = deliveriesRequest(req);
          return { statusCode: 200, body: pageBody(request, await webhooks.deliveries(tenant(req), id(req), request), attemptView) };
        },
        [`POST ${BASE}/{id}/deliveries/{delivery_id}/retry`]: async (req) => ({
          statusCode: 202,
          body: await recovery.retry(tenant(req), id(req), req.pathParameters['delivery_id'] ?? ''),
        }),
        [`POST ${BASE}/{id}/recover`]: async (req) => ({
          statusCode: 202,
          body: await recovery.recover(tenant(req), id(req), new Date(parse(RecoverInput, req.body).since)),
        }),
        [`POST ${BASE}/{id}/rotate-secret`]: async (req) => ({
          statusCode: 200,
          body: await webhooks.rotateSecret(tenant(req), id(req), parse(RotateSecretInput, bodyOrEmpty(req))),
        }),
        'GET /api/v1/event-types': async () => ({ statusCode: 200, body: { items: catalogue.types } }),
        'POST /api/v1/portal-sessions': async (req) => ({ statusCode: 201, body: await portal.create(tenant(req), parse(PortalSessionInput, bodyOrEmpty(req))) }),
        'DELETE /api/v1/portal-sessions/{id}': async (req) => {
          await portal.revoke(tenant(req), id(req));
          return { statusCode: 204 };
        },
        // Public (auth 'none' in ROUTES): the token in the link is the credential.
        'GET /api/v1/email-verifications/{token}': async (req) => ({
          statusCode: 200,
          body: await ownerEmails.confirm(req.pathParameters['token'] ?? ''),
        }),
      }),
    }),
  );
}
