import { defaultPort, endpointRefusal, isIpLiteral, ownServiceRefusal, urlRefusal, type TargetPolicy } from '../domain/targets.ts';
import { MAX_URL_CHARS } from '../domain/webhooks.ts';
import { ValidationError } from '../errors.ts';

/** Port: a host name's addresses (the system resolver). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/**
 * Registration-time checks on an outbound URL (a webhook's, an OAuth2 token URL): scheme,
 * credentials in the authority, port, literal addresses, and a name whose every address is one
 * webhooks may not reach. The sender checks again at every attempt: DNS may change.
 */
export function checkWebhookUrl(raw: string, policy: TargetPolicy, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`${field} must be an absolute URL`, [{ path: field, message: 'not a URL' }]);
  }
  const problem =
    urlRefusal(url, policy) ??
    (url.hash ? 'must not contain a fragment' : undefined) ??
    // As stored and shown (percent-encoded): 2048 characters written could be 12,000 encoded,
    // a URL the API would then refuse when a client sends it back.
    (url.toString().length > MAX_URL_CHARS ? `must be at most ${MAX_URL_CHARS} characters once percent-encoded` : undefined);
  if (problem) throw new ValidationError(`${field} ${problem}`, [{ path: field, message: problem }]);
  return url;
}

/**
 * Refuses a name that resolves only to refused addresses, or to any of Hookline's own services
 * (its API and stand-ins, which are never a receiver); a name that does not resolve (yet) passes.
 */
export async function checkResolvedHost(url: URL, policy: TargetPolicy, resolve: ResolveHost, field = 'url'): Promise<void> {
  if (isIpLiteral(url.hostname)) return; // urlRefusal judged the literal address already
  const port = defaultPort(url);
  const addresses = await resolve(url.hostname).catch(() => []);
  const refusals = addresses.map((a) => endpointRefusal(a, port, policy));
  const own = addresses.map((a) => ownServiceRefusal(a, port, policy)).find((r) => r !== undefined);
  const refused = own ?? (refusals.length > 0 && refusals.every((r) => r !== undefined) ? refusals[0] : undefined);
  if (refused) {
    const problem = `resolves to a ${refused}, which webhooks may not reach`;
    throw new ValidationError(`${field} ${problem}`, [{ path: field, message: problem }]);
  }
}
