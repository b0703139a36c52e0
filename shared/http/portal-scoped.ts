import { checkPortalScope } from '../usecases/portal-sessions.ts';
import type { ApiRequest, RouteHandler } from './api-handler.ts';

/**
 * Routes that refuse first what the caller's portal session (if it is one) does not allow
 * (checkPortalScope): the webhooks API's and webhook-test's, so that a portal token may do the
 * same on both.
 */
export function portalScoped(routes: Record<string, RouteHandler>): Record<string, RouteHandler> {
  return Object.fromEntries(
    Object.entries(routes).map(([key, route]) => [
      key,
      (req: ApiRequest) => {
        if (req.portal) checkPortalScope(req.portal, key, req.pathParameters['id']);
        return route(req);
      },
    ]),
  );
}
