import { resolveHost } from '../../shared/adapters/http/resolve-host.ts';
import { webhookView } from '../../shared/domain/webhooks.ts';
import { attemptView } from '../../shared/domain/deliveries.ts';
import { apiHandler, parse, type ApiRequest } from '../../shared/http/api-handler.ts';
import { PageQuery, RecoverInput, RotateSecretInput, WebhookCreateInput, WebhookPatchInput } from '../../shared/http/schemas.ts';
import { RecoverDeliveries } from '../../shared/usecases/recover-deliveries.ts';
import { ManageWebhooks, type ListPage, type PageRequest } from '../../shared/usecases/manage-webhooks.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';
import { ownerEmailVerification } from '../../shared/mail-wiring.ts';

const BASE = '/api/v1/integrations/webhooks';

/** The customer API: webhooks, their test event, their delivery log, the event catalogue. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('webhooks-api', overrides);
  const webhooks = new ManageWebhooks({
    webhooks: w.webhooks,
    attempts: w.attempts,
    ownerEmails: ownerEmailVerification(w),
    secrets: w.secrets,
    sender: w.attemptSender,
    clock: w.clock,
    catalogue: w.catalogue,
    resolveHost,
    quota: w.tenants,
    settings: {
      ...w.outbound,
      targets: w.targetPolicy,
      secretPrefix: w.settings.secretPrefix,
      maxWebhooksPerTenant: w.settings.maxWebhooksPerTenant,
    },
  });
  const recovery = new RecoverDeliveries({
    webhooks: w.webhooks,
    deliveries: w.deliveries,
    attempts: w.attempts,
    queue: w.deliveryQueue,
    clock: w.clock,
  });
  const id = (req: ApiRequest) => req.pathParameters['id'] ?? '';
  const tenant = (req: ApiRequest) => req.tenantId!;
  const pageRequest = (req: ApiRequest): PageRequest => {
    const q = parse(PageQuery, req.query, 'Query string');
    return { page: q.page, perPage: q.per_page, cursor: q.cursor };
  };
  const pageBody = <T>(request: PageRequest, result: ListPage<T>, view: (item: T) => unknown) => ({
    items: result.items.map(view),
    page: result.page,
    per_page: request.perPage,
    has_more: result.hasMore,
    next_cursor: result.nextCursor ?? null,
  });

  return apiHandler({
    auth: { kind: 'tenant', authenticate: (key, client) => w.tenantAuth.authenticate(key, client) },
    logError: w.logError,
    ...(w.overrides.rateLimit ? { rateLimit: w.overrides.rateLimit } : {}),
    routes: {
      [`POST ${BASE}`]: async (req) => {
        const { webhook, generatedSecret } = await webhooks.create(tenant(req), parse(WebhookCreateInput, req.body));
        return { statusCode: 201, body: { ...webhookView(webhook), ...(generatedSecret ? { secret: generatedSecret } : {}) } };
      },
      [`GET ${BASE}`]: async (req) => {
        const request = pageRequest(req);
        return { statusCode: 200, body: pageBody(request, await webhooks.list(tenant(req), request), webhookView) };
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
      [`POST ${BASE}/{id}/test`]: async (req) => ({ statusCode: 200, body: await webhooks.test(tenant(req), id(req)) }),
      [`GET ${BASE}/{id}/deliveries`]: async (req) => {
        const request = pageRequest(req);
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
        body: await webhooks.rotateSecret(tenant(req), id(req), parse(RotateSecretInput, req.body ?? {})),
      }),
      'GET /api/v1/event-types': async () => ({ statusCode: 200, body: { items: w.catalogue.types } }),
      // Public (auth 'none' in ROUTES): the token in the link is the credential.
      'GET /api/v1/email-verifications/{token}': async (req) => ({
        statusCode: 200,
        body: await ownerEmailVerification(w).confirm(req.pathParameters['token'] ?? ''),
      }),
    },
  });
}

export const handler = lazyHandler(() => createHandler());
