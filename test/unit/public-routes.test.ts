/**
 * The API handlers tell a public route (no key checked) by isPublicRoute, which reads only the
 * public routes' constants (so that a bundle does not carry the whole table): it must agree with
 * ROUTES, the table the stack and the one-machine server route with.
 */
import { isPublicRoute, routeKey, ROUTES, type Route } from '../../shared/http/routes.ts';

describe('isPublicRoute', () => {
  it.each((ROUTES as readonly Route[]).map((r) => [routeKey(r), r.auth] as const))('%s (auth %s)', (key, auth) => {
    expect(isPublicRoute(key)).toBe(auth === 'none');
  });

  it('is false for a key in no route', () => {
    expect(isPublicRoute('GET /api/v1/email-verifications')).toBe(false);
    expect(isPublicRoute('$default')).toBe(false);
  });
});
