import type { Filter } from './filters.ts';

/** What a webhook is, as stored. Credentials are not here: they live in the secret store. */
export const WEBHOOK_FORMATS = ['standard', 'wrapped', 'subject_body', 'data', 'cloudevents'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const AUTH_TYPES = ['none', 'bearer', 'basic', 'header', 'oauth2'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export type WebhookStatus = 'healthy' | 'failing' | 'disabled';

/** A change of a webhook's status that its owner is told about. */
export interface StatusChange {
  readonly status: WebhookStatus;
  readonly at: string;
}

/**
 * The field of a webhook's email window that a change's email is counted in: `disabled` has its
 * own, so that a 410 within the hour of a `failing` email is still emailed (disabled is final: no
 * later email would sum it up), while a loop of 410 and re-activation still gets one an hour.
 */
export const emailWindowField = (change: Pick<StatusChange, 'status'>): 'last_email_at' | 'last_disabled_email_at' =>
  change.status === 'disabled' ? 'last_disabled_email_at' : 'last_email_at';

/** How the receiver authenticates Hookline, besides the signature. Secret material: never returned. */
export type ReceiverAuth =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'header'; readonly name: string; readonly value: string }
  | {
      readonly type: 'oauth2';
      readonly token_url: string;
      readonly client_id: string;
      readonly client_secret: string;
      readonly scope?: string;
    };

export interface Webhook {
  readonly tenant_id: string;
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly active: boolean;
  readonly status: WebhookStatus;
  readonly description: string;
  readonly format: WebhookFormat;
  readonly auth_type: AuthType;
  readonly owner_email: string;
  /**
   * Whether `owner_email` may receive this webhook's emails: it is the tenant's own address, or
   * its holder opened the verification link (CONTRACT.md section 6). Absent (older rows): not yet.
   */
  readonly owner_email_verified?: boolean;
  /** SHA-256 (hex) of the pending verification token of `owner_email`; only the hash is stored. */
  readonly owner_email_token_hash?: string;
  readonly owner_email_token_expires_at?: string;
  /** When the owner was last emailed about this webhook: at most one email an hour. */
  readonly last_email_at?: string;
  /** When the owner was last emailed that it was disabled: that email's own window (see emailWindowField). */
  readonly last_disabled_email_at?: string;
  /** Status changes not emailed yet (the first few), summed up in the next email. */
  readonly unsent_changes?: readonly StatusChange[];
  /** How many changes were not emailed yet (unsent_changes keeps only the first few). */
  readonly unsent_count?: number;
  /** Conditions on the event's fields; absent: every event of the subscribed types. */
  readonly filter?: Filter;
  /** Whether deliveries are signed (a webhook created without a secret gets a generated one). */
  readonly has_secret: boolean;
  /** Bumped whenever the credentials change, so a cached copy of older credentials is never used. */
  /** The delivery whose outcome made the last status change (it may redo its own change). */
  readonly status_cause?: string;
  readonly credentials_version: number;
  readonly created_at: string;
  readonly updated_at: string;
}

/** Secret material of one webhook, kept in the secret store under the webhook's name. */
export interface WebhookCredentials {
  /** The current signing secret first (older entries: kept for stored credentials of before rotation). */
  readonly signing_secrets: readonly string[];
  /** Secrets replaced by a rotation, still signing until they expire. */
  readonly previous_secrets?: readonly { readonly secret: string; readonly expires_at: string }[];
  readonly auth: ReceiverAuth;
  /** The full URL when it carries credentials in its query string (URL authentication). */
  readonly url?: string;
}

/** The secrets that sign at `now`: the current one first, then the rotated ones not yet expired. */
export function activeSecrets(credentials: WebhookCredentials, now: Date): string[] {
  const previous = (credentials.previous_secrets ?? []).filter((p) => Date.parse(p.expires_at) > now.getTime()).map((p) => p.secret);
  return [...credentials.signing_secrets, ...previous];
}

/** URL authentication: a URL whose query string carries the receiver's token is a credential. */
export const carriesCredentials = (url: URL): boolean => url.search.length > 1;

/** A webhook receives events only while it is active and not disabled. */
export const isReceiving = (w: Pick<Webhook, 'active' | 'status'>): boolean => w.active && w.status !== 'disabled';

/** The webhook as the API shows it: no credentials, only the auth type. */
export function webhookView(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    active: w.active,
    status: w.status,
    description: w.description,
    format: w.format,
    auth: { type: w.auth_type },
    ...(w.filter ? { filter: w.filter } : {}),
    owner_email: w.owner_email,
    owner_email_verified: w.owner_email_verified === true,
    created_at: w.created_at,
    updated_at: w.updated_at,
  };
}
export type WebhookView = ReturnType<typeof webhookView>;

/**
 * Header names a webhook's auth may not set: they frame the request (a second `Host` or
 * `Content-Length` is request smuggling), identify Hookline, or carry its signatures, which a
 * tenant must not be able to forge or mask.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'user-agent',
  'proxy-authorization',
]);
/** The longest webhook (or token) URL, as written in a request and as the API shows it back. */
export const MAX_URL_CHARS = 2048;

/** An HTTP header name (RFC 9110's token). */
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Why `name` cannot carry the hex signature (HOOKLINE_SIGNATURE_HEADER, the stack's
 * `signatureHeader`), or undefined when it can. A header that frames the request would break
 * every delivery (`Content-Length`) or replace Hookline's own (`Host`, `Content-Type`, the
 * Standard Webhooks ones), and `Authorization` is a webhook's receiver auth.
 */
export function signatureHeaderProblem(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid header name';
  const lower = name.toLowerCase();
  if (isHooklineHeader(lower) || lower === 'authorization') return `is a header every delivery already sets (${lower})`;
  return undefined;
}

/** A header (lower case) that frames the request or that Hookline sets on every delivery. */
const isHooklineHeader = (lower: string): boolean => RESERVED_HEADERS.has(lower) || lower.startsWith('webhook-');

const isReservedHeader = (name: string, signatureHeader: string): boolean => {
  const lower = name.toLowerCase();
  return isHooklineHeader(lower) || lower === signatureHeader.toLowerCase();
};

/** CR, LF and NUL end a header line: in a value they would inject headers of the tenant's choosing. */
const HEADER_BREAKING = /[\r\n\0]/;

/**
 * What an HTTP client refuses in a header value sent as given (RFC 9110's field-value: tabs,
 * spaces, visible ASCII and Latin-1): any other control or character would fail every attempt
 * before anything is sent.
 */
const NOT_IN_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** What is wrong with a receiver auth, field by field; empty when it may be used. */
export function authProblems(auth: ReceiverAuth, signatureHeader: string): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const value = (path: string, v: string) => {
    if (HEADER_BREAKING.test(v)) problems.push({ path: `auth.${path}`, message: 'must not contain CR, LF or NUL characters' });
  };
  // Sent as they are in a header (the others are encoded: Basic's base64, OAuth2's form).
  const headerValue = (path: string, v: string) => {
    if (NOT_IN_HEADER_VALUE.test(v)) problems.push({ path: `auth.${path}`, message: 'must be a header value: tabs, spaces, visible ASCII or Latin-1 characters, no other control character' });
  };
  switch (auth.type) {
    case 'bearer':
      headerValue('token', auth.token);
      break;
    case 'basic':
      value('username', auth.username);
      value('password', auth.password);
      if (auth.username.includes(':')) problems.push({ path: 'auth.username', message: 'must not contain ":" (RFC 7617)' });
      break;
    case 'header':
      if (isReservedHeader(auth.name, signatureHeader)) problems.push({ path: 'auth.name', message: `${auth.name} is set by Hookline and cannot be an auth header` });
      headerValue('value', auth.value);
      break;
    case 'oauth2':
      value('client_id', auth.client_id);
      value('client_secret', auth.client_secret);
      if (auth.scope !== undefined) value('scope', auth.scope);
      break;
    case 'none':
      break;
  }
  return problems;
}

/**
 * Headers that authenticate Hookline to the receiver. For `oauth2` the caller passes the access
 * token it obtained from the token URL.
 */
export function authHeaders(auth: ReceiverAuth, oauthToken?: string): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'oauth2':
      return oauthToken ? { authorization: `Bearer ${oauthToken}` } : {};
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
  }
}
