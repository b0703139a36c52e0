import type { ReceiverAuth } from '../domain/webhooks.ts';
import type { Clock, HttpSender } from './ports.ts';

type OAuth2 = Extract<ReceiverAuth, { type: 'oauth2' }>;

export class TokenRequestError extends Error {
  override name = 'TokenRequestError';
}

/** Refetch this long before the token's stated expiry, so no attempt goes out with a dying token. */
const EXPIRY_MARGIN_MS = 60_000;
/** Without `expires_in`, a token is trusted this long. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;

/**
 * OAuth 2.0 client credentials (RFC 6749 section 4.4) for receivers behind an authentication URL
 * (003): the token is fetched through the same HttpSender as the deliveries (same timeout, no
 * redirects, the same guards), with the client authenticated by HTTP Basic, and cached per
 * webhook until shortly before it expires. Concurrent attempts share one fetch.
 */
export class OAuth2Tokens {
  private readonly sender: HttpSender;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly cache = new Map<string, { token: Promise<string>; value?: string; until: number }>();
  constructor(sender: HttpSender, clock: Clock, timeoutMs: number) {
    this.sender = sender;
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  /** `key` names the webhook and its credentials version. */
  get(key: string, auth: OAuth2): Promise<string> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.clock().getTime()) return hit.token;
    const entry: { token: Promise<string>; value?: string; until: number } = { token: this.fetch(auth, key), until: Number.POSITIVE_INFINITY };
    this.cache.set(key, entry);
    entry.token.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) this.cache.clear();
    return entry.token;
  }

  /**
   * Forgets `rejected` (the receiver answered 401 to it), unless the cache already holds a newer
   * token: of many attempts that met the same 401 at once, only the first causes a fetch.
   */
  invalidate(key: string, rejected: string): void {
    if (this.cache.get(key)?.value === rejected) this.cache.delete(key);
  }

  private async fetch(auth: OAuth2, key: string): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}) });
    const basic = Buffer.from(`${encodeURIComponent(auth.client_id)}:${encodeURIComponent(auth.client_secret)}`).toString('base64');
    const result = await this.sender.post({
      url: auth.token_url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
      body: form.toString(),
      timeoutMs: this.timeoutMs,
      keepChars: 64 * 1024,
    });
    if (result.kind === 'error') throw new TokenRequestError(`token request failed: ${result.error}`);
    if (result.statusCode < 200 || result.statusCode >= 300) throw new TokenRequestError(`token endpoint answered HTTP ${result.statusCode}`);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(result.bodyPrefix);
    } catch {
      throw new TokenRequestError('token endpoint answered something that is not JSON');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new TokenRequestError('token endpoint answered no access_token');
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    const entry = this.cache.get(key);
    if (entry) {
      entry.value = body.access_token;
      entry.until = this.clock().getTime() + Math.max(0, lifetime - EXPIRY_MARGIN_MS);
    }
    return body.access_token;
  }
}
