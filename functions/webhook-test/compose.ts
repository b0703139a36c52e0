import { tenantAuthenticator } from '../../shared/compose/auth.ts';
import { catalogueFromEnv } from '../../shared/compose/catalogue.ts';
import { credentialsCache } from '../../shared/compose/credentials.ts';
import { functionBase, type ApiOverrides } from '../../shared/compose/function-base.ts';
import { outbound, type OutboundOverrides } from '../../shared/compose/outbound.ts';
import { portalTokens } from '../../shared/compose/portal-sessions.ts';
import { tenantRateLimiter } from '../../shared/compose/rate-limit.ts';
import { apiHandler } from '../../shared/http/api-handler.ts';
import { portalScoped } from '../../shared/http/portal-scoped.ts';
import type { SecretReader } from '../../shared/usecases/ports.ts';
import type { RequestAllowance } from '../../shared/usecases/rate-limits.ts';
import type { TenantAuthenticator } from '../../shared/usecases/tenants.ts';
import { TestWebhook } from '../../shared/usecases/test-webhook.ts';

export interface WebhookTestOverrides extends ApiOverrides, OutboundOverrides {
  /**
   * One machine: the authenticator the HTTP server and every handler share (the webhooks API
   * makes it accept portal tokens).
   */
  readonly tenantAuth?: TenantAuthenticator;
  /** One machine: signing secrets in files instead of Secrets Manager. */
  readonly secrets?: SecretReader;
  /** One machine: the process's per-tenant token buckets (Lambda: a counter in the tenants table). */
  readonly requestAllowance?: RequestAllowance;
}

/**
 * `POST /api/v1/integrations/webhooks/{id}/test`: the test event, sent now to the receiver.
 * A function of its own so that only it and the dispatcher carry the sender, the target guard,
 * signing and OAuth2 token requests; the webhooks API only checks URLs.
 */
export function composeWebhookTest(o: WebhookTestOverrides = {}) {
  const f = functionBase('webhook-test', o);
  const local = f.local;
  const tenantAuth = o.tenantAuth ?? tenantAuthenticator(f);
  // The portal page sends test events with its token, scoped as on the webhooks API (portalScoped).
  if (!o.tenantAuth) tenantAuth.acceptPortalTokens(portalTokens(f, o.secrets));
  const limiter = tenantRateLimiter(f, o.requestAllowance);
  const out = outbound(f, catalogueFromEnv(f.env), o);
  const test = new TestWebhook({
    webhooks: f.aws.use(local?.webhooks ?? f.awsAdapter('webhookRepository'), 'get'),
    // The test event is logged like any attempt.
    attempts: f.aws.use(local?.attempts ?? f.awsAdapter('deliveryLog'), 'record'),
    credentials: credentialsCache(f, o.secrets),
    sender: out.attemptSender,
    clock: f.clock,
  });
  return f.composed(
    apiHandler({
      auth: { kind: 'tenant', authenticate: (key, client) => tenantAuth.authenticateCaller(key, client) },
      logError: f.logError,
      rateLimit: (key, kind) => (kind === 'tenant' ? limiter.check(key) : o.rateLimit?.(key)),
      routes: portalScoped({
        'POST /api/v1/integrations/webhooks/{id}/test': async (req) => ({
          statusCode: 200,
          body: await test.execute(req.tenantId!, req.pathParameters['id'] ?? ''),
        }),
      }),
    }),
  );
}
