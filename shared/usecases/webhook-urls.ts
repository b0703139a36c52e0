import { addressRefusal, isIpLiteral, urlRefusal, type TargetPolicy } from '../domain/targets.ts';
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
  const problem = urlRefusal(url, policy) ?? (url.hash ? 'must not contain a fragment' : undefined);
  if (problem) throw new ValidationError(`${field} ${problem}`, [{ path: field, message: problem }]);
  return url;
}

/** Refuses a name that resolves only to refused addresses; a name that does not resolve (yet) passes. */
export async function checkResolvedHost(url: URL, policy: TargetPolicy, resolve: ResolveHost, field = 'url'): Promise<void> {
  if (policy.allowPrivateTargets || isIpLiteral(url.hostname)) return;
  const addresses = await resolve(url.hostname).catch(() => []);
  const refusals = addresses.map(addressRefusal);
  if (refusals.length > 0 && refusals.every((r) => r !== undefined)) {
    const problem = `resolves to a ${refusals[0]}, which webhooks may not reach`;
    throw new ValidationError(`${field} ${problem}`, [{ path: field, message: problem }]);
  }
}
