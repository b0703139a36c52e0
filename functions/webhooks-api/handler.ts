import { resolveHost } from '../../shared/adapters/http/resolve-host.ts';
import { webhookView } from '../../shared/domain/webhooks.ts';
import { attemptView } from '../../shared/domain/deliveries.ts';
import { apiHandler, parse, type ApiRequest } from '../../shared/http/api-handler.ts';
import { PageQuery, RecoverInput, RotateSecretInput, WebhookCreateInput, WebhookPatchInput } from '../../shared/http/schemas.ts';
import { RecoverDeliveries } from '../../shared/usecases/recover-deliveries.ts';
import { ManageWebhooks } from '../../shared/usecases/manage-webhooks.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

const BASE = '/api/v1/integrations/webhooks';

/** The customer API: webhooks, their test event, their delivery log, the event catalogue. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('webhooks-api', overrides);
  const webhooks = new ManageWebhooks({
    webhooks: w.webhooks,
    attempts: w.attempts,
    tenants: w.tenants,
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
  const page = (req: ApiRequest) => parse(PageQuery, req.query, 'Query string');

  return apiHandler({
    auth: { kind: 'tenant', authenticate: (key) => w.tenantAuth.authenticate(key) },
    logError: w.logError,
    ...(w.overrides.rateLimit ? { rateLimit: w.overrides.rateLimit } : {}),
    routes: {
      [`POST ${BASE}`]: async (req) => {
        const { webhook, generatedSecret } = await webhooks.create(tenant(req), parse(WebhookCreateInput, req.body));
        return { statusCode: 201, body: { ...webhookView(webhook), ...(generatedSecret ? { secret: generatedSecret } : {}) } };
      },
      [`GET ${BASE}`]: async (req) => {
        const q = page(req);
        const result = await webhooks.list(tenant(req), q.page, q.per_page);
        return { statusCode: 200, body: { items: result.items.map(webhookView), page: q.page, per_page: q.per_page, has_more: result.hasMore } };
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
        const q = page(req);
        const result = await webhooks.deliveries(tenant(req), id(req), q.page, q.per_page);
        return { statusCode: 200, body: { items: result.items.map(attemptView), page: q.page, per_page: q.per_page, has_more: result.hasMore } };
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
    },
  });
}

export const handler = lazyHandler(() => createHandler());
