import { isIP } from 'node:net';
import { ValidationError } from '../errors.ts';

/**
 * Registration-time checks on a receiver URL. (The full SSRF guard, which resolves names and
 * pins the checked address, belongs to the sender.)
 */
export function checkWebhookUrl(raw: string, allowPrivateTargets: boolean, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`${field} must be an absolute URL`, [{ path: field, message: 'not a URL' }]);
  }
  const problem = urlProblem(url, allowPrivateTargets);
  if (problem) throw new ValidationError(`${field} ${problem}`, [{ path: field, message: problem }]);
  return url;
}

function urlProblem(url: URL, allowPrivate: boolean): string | undefined {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) {
    return allowPrivate ? 'must use https:// or http://' : 'must use https://';
  }
  if (url.username || url.password) return 'must not contain credentials; use auth instead';
  if (url.hash) return 'must not contain a fragment';
  if (!allowPrivate && isPrivateHost(url.hostname)) return 'points at a private, loopback or link-local address';
  return undefined;
}

/** Literal addresses and names that are never public. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return true;
  const version = isIP(host);
  if (version === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  if (version === 6) {
    return host === '::' || host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith('::ffff:');
  }
  return false;
}
