import { SCRUBBED } from './credential-scrub.ts';
import { carriesCredentials, type ReceiverAuth, type WebhookCredentials } from './webhooks.ts';

/** Secrets that sign at once during rotations: the current one and at most two in their grace period. */
export const MAX_LIVE_SECRETS = 3;

/** What a webhook whose credentials are missing from its tenant's secret is changed from. */
export const NO_CREDENTIALS: WebhookCredentials = { signing_secrets: [], auth: { type: 'none' } };

/** A new webhook's credentials; the full URL is kept only when it carries credentials (URL authentication). */
export const newCredentials = (secret: string, auth: ReceiverAuth, url: URL): WebhookCredentials => ({
  signing_secrets: [secret],
  auth,
  ...(carriesCredentials(url) ? { url: url.toString() } : {}),
});

/** A URL query's parts, as written (`a=1`, a bare `token`), none empty. */
const queryParts = (url: URL): string[] => url.search.slice(1).split('&').filter((p) => p !== '');

/**
 * A changed URL (its path, say) sent with its query as the API showed it (`?token=****`): each
 * masked value is the stored one of the same parameter (a bare `****`, the stored bare part in
 * its order). Undefined when a masked value has no stored one to stand for: the caller refuses it
 * rather than send `****` to the receiver.
 */
export function withStoredQuery(next: URL, stored: string | undefined): URL | undefined {
  // How the API shows a query's values (maskUrl): sent back in a changed URL, it means "keep it".
  const isMasked = (part: string) => part === SCRUBBED || part.endsWith(`=${SCRUBBED}`);
  const parts = queryParts(next);
  if (!parts.some(isMasked)) return next;
  const left = stored === undefined ? [] : queryParts(new URL(stored));
  const keyOf = (part: string) => (part.includes('=') ? part.slice(0, part.indexOf('=')) : undefined);
  const kept: string[] = [];
  for (const part of parts) {
    const masked = isMasked(part);
    const at = masked ? left.findIndex((old) => keyOf(old) === keyOf(part)) : -1;
    if (masked && at < 0) return undefined;
    kept.push(masked ? left.splice(at, 1)[0]! : part);
  }
  const url = new URL(next);
  url.search = `?${kept.join('&')}`;
  return url;
}

/** A PATCH of a webhook's secret, auth or URL (each undefined: unchanged). */
export function patchedCredentials(
  existing: WebhookCredentials,
  change: { readonly secret?: string | undefined; readonly auth?: ReceiverAuth | undefined; readonly url?: URL | undefined },
): WebhookCredentials {
  const { url: oldUrl, ...rest } = existing;
  const fullUrl = change.url === undefined ? oldUrl : carriesCredentials(change.url) ? change.url.toString() : undefined;
  return {
    ...rest,
    // A new secret set by PATCH replaces every old one at once; rotation keeps the old one a while.
    ...(change.secret === undefined ? {} : { signing_secrets: [change.secret], previous_secrets: [] }),
    auth: change.auth ?? existing.auth,
    ...(fullUrl ? { url: fullUrl } : {}),
  };
}

/**
 * A rotation: `secret` signs from now on, the current ones keep signing until `expiresAt`.
 * Newest first, and only a few: rotating again ends the grace of the oldest, so the signature
 * header stays small however often a tenant rotates.
 */
export function rotatedCredentials(existing: WebhookCredentials, secret: string, expiresAt: string, now: Date): WebhookCredentials {
  // Each secret once, the new one not among the old: rotating to the secret already current (a
  // client retrying a call that timed out) must not push out an older one still in its grace.
  const seen = new Set([secret]);
  const previous = [
    ...existing.signing_secrets.map((s) => ({ secret: s, expires_at: expiresAt })),
    ...(existing.previous_secrets ?? []).filter((p) => Date.parse(p.expires_at) > now.getTime()),
  ].filter((p) => !seen.has(p.secret) && seen.add(p.secret));
  return { ...existing, signing_secrets: [secret], previous_secrets: previous.slice(0, MAX_LIVE_SECRETS - 1) };
}
