import type { Catalogue } from '../domain/catalogue.ts';
import type { PublishedEvent } from '../domain/events.ts';
import { buildBody, contentType } from '../domain/payloads.ts';
import { parseRetryAfter } from '../domain/retry-policy.ts';
import { signatureHeaders } from '../domain/signing.ts';
import { activeSecrets, authHeaders, type Webhook, type WebhookCredentials } from '../domain/webhooks.ts';
import type { OutboundRequest, SendResult } from './ports.ts';

export interface OutboundSettings {
  readonly signatureHeader: string;
  readonly requestTimeoutMs: number;
  readonly version: string;
  readonly deploymentHost: string;
  readonly catalogue: Catalogue;
}

/** What the delivery log keeps of an answer's body, in characters. */
export const LOGGED_BODY_CHARS = 1024;
/**
 * How much more of the body is read than is kept: the credentials a receiver echoes are scrubbed
 * before the cut, so one that straddles it is whole when scrubbed (a bearer token, an OAuth2
 * access token: a few KB at most).
 */
const SCRUB_MARGIN_CHARS = 16 * 1024;

/** What one POST of an attempt adds to the webhook's request. */
export interface OutboundExtras {
  /** The OAuth2 access token, for an `oauth2` webhook. */
  readonly oauthToken?: string | undefined;
  /** The delivery attempt the POST makes (OutboundRequest.attemptKey). */
  readonly attemptKey?: string | undefined;
}

/** The POST for one attempt: body in the webhook's format, signed over the exact bytes sent. */
export function outboundRequest(
  webhook: Webhook,
  credentials: WebhookCredentials,
  event: PublishedEvent,
  settings: OutboundSettings,
  now: Date,
  { oauthToken, attemptKey }: OutboundExtras = {},
): OutboundRequest {
  const body = buildBody(webhook.format, event, { catalogue: settings.catalogue, host: settings.deploymentHost });
  return {
    // The stored URL has its query values masked when they are credentials; the real one is secret.
    url: credentials.url ?? webhook.url,
    body,
    timeoutMs: settings.requestTimeoutMs,
    keepChars: LOGGED_BODY_CHARS + SCRUB_MARGIN_CHARS,
    ...(attemptKey === undefined ? {} : { attemptKey }),
    headers: {
      'content-type': contentType(webhook.format),
      'user-agent': `Hookline/${settings.version}`,
      ...authHeaders(credentials.auth, oauthToken),
      ...signatureHeaders({
        secrets: activeSecrets(credentials, now),
        signatureHeader: settings.signatureHeader,
        msgId: event.id,
        timestampSeconds: Math.floor(now.getTime() / 1000),
        body,
      }),
    },
  };
}

/** How an attempt ended, from the receiver's point of view. */
export interface AttemptOutcome {
  readonly success: boolean;
  readonly statusCode: number | null;
  readonly error?: string;
  /** Seconds the receiver asked us to wait (429/503 `Retry-After`). */
  readonly retryAfterSeconds?: number;
  /** 410 Gone: the receiver wants no more deliveries. */
  readonly gone: boolean;
}

export function attemptOutcome(result: SendResult, now: Date): AttemptOutcome {
  if (result.kind === 'error') return { success: false, statusCode: null, error: result.error, gone: false };
  const status = result.statusCode;
  if (status >= 200 && status < 300) return { success: true, statusCode: status, gone: false };
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(result.headers['retry-after'], now) : undefined;
  const error =
    status >= 300 && status < 400
      ? `redirect ${status} not followed${result.headers['location'] ? ` (to ${result.headers['location']})` : ''}`
      : `receiver answered HTTP ${status}`;
  return {
    success: false,
    statusCode: status,
    error,
    gone: status === 410,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  };
}
