import type { WebhookCredentials } from './webhooks.ts';

/** Shorter values are not scrubbed: they would mangle ordinary text and guard nothing. */
const MIN_SCRUBBED_LENGTH = 4;
export const SCRUBBED = '****';

/**
 * Every secret value a webhook's request can carry: signing secrets (current and rotated), the
 * auth token, password or header value, the Basic blob, and each part of
 * a query string that authenticates by URL. A receiver may echo any of them back (in a redirect's
 * `Location`, or headers mirrored in its body), and what it answers is kept in the delivery log.
 */
export function credentialValues(credentials: WebhookCredentials): string[] {
  const values: string[] = [...credentials.signing_secrets, ...(credentials.previous_secrets ?? []).map((p) => p.secret)];
  const auth = credentials.auth;
  if (auth.type === 'bearer') values.push(auth.token);
  if (auth.type === 'header') values.push(auth.value);
  if (auth.type === 'basic') values.push(auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64'));
  if (auth.type === 'oauth2') values.push(auth.client_secret);
  if (credentials.url) values.push(...queryParts(credentials.url));
  return values;
}

/** Each value and key=value pair of the URL's query, as written and decoded. */
function queryParts(rawUrl: string): string[] {
  const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1).split('#')[0]! : '';
  return query.split('&').flatMap((part) => {
    const value = part.includes('=') ? part.slice(part.indexOf('=') + 1) : part;
    return [part, value, safeDecode(value)];
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * A function that replaces every occurrence of each value (as is, and URL-encoded) by `****`.
 * Finding the needles costs more than looking for them, and a webhook's values are the same for
 * each of its deliveries: the functions of the values met lately are kept (in this process's
 * memory, where the credentials cache holds the same values already).
 */
export function scrubber(values: readonly string[]): (text: string) => string {
  const key = JSON.stringify(values);
  let scrub = scrubbers.get(key);
  if (!scrub) {
    scrub = makeScrubber(values);
    // Oldest first out: a Map iterates in insertion order.
    if (scrubbers.size >= SCRUBBERS_KEPT) scrubbers.delete(scrubbers.keys().next().value!);
    scrubbers.set(key, scrub);
  }
  return scrub;
}

const scrubbers = new Map<string, (text: string) => string>();
const SCRUBBERS_KEPT = 1024;

function makeScrubber(values: readonly string[]): (text: string) => string {
  const needles = [...new Set(values.flatMap((v) => [v, encodeURIComponent(v)]))]
    .filter((v) => v.length >= MIN_SCRUBBED_LENGTH)
    .sort((a, b) => b.length - a.length); // longest first: a secret's prefix never leaves its tail
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(SCRUBBED);
    return out;
  };
}

/** `text` with every occurrence of each value (as is, and URL-encoded) replaced by `****`. */
export const scrub = (text: string, values: readonly string[]): string => scrubber(values)(text);
