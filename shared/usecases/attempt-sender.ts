import { credentialValues, scrubber } from '../domain/credential-scrub.ts';
import type { PublishedEvent } from '../domain/events.ts';
import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';
import type { OAuth2Tokens } from './oauth2-tokens.ts';
import { LOGGED_BODY_CHARS, outboundRequest, type OutboundSettings } from './outbound-request.ts';
import type { HttpSender, SendResult } from './ports.ts';
import { textPrefix } from '../domain/text.ts';

export interface SendOptions {
  /** Replaces the settings' request timeout for this attempt. */
  readonly timeoutMs?: number | undefined;
  /** The delivery attempt the POST makes (OutboundRequest.attemptKey). */
  readonly attemptKey?: string;
  /**
   * All of the attempt's requests together end within this (an OAuth2 attempt may make four: a
   * token, the POST, and after a 401 both again), each also within its own timeout. For an
   * answer that must come within a limit of its own (API Gateway's 30 s).
   */
  readonly totalTimeoutMs?: number;
}

/**
 * One signed POST of an event to a webhook, with the webhook's auth: for `oauth2`, the cached
 * access token, and on a 401 one fresh token and one more try (the token may have been revoked).
 * Shared by the dispatcher and the test endpoint.
 */
export class AttemptSender {
  private readonly sender: HttpSender;
  private readonly tokens: Pick<OAuth2Tokens, 'get' | 'invalidate'>;
  private readonly settings: OutboundSettings;
  constructor(sender: HttpSender, tokens: Pick<OAuth2Tokens, 'get' | 'invalidate'>, settings: OutboundSettings) {
    this.sender = sender;
    this.tokens = tokens;
    this.settings = settings;
  }

  /**
   * The receiver's answer, with every credential of the webhook it echoed scrubbed: it goes into
   * the delivery log. `timeoutMs` replaces the settings' request timeout for this attempt;
   * `attemptKey` names the delivery attempt (OutboundRequest.attemptKey).
   */
  async send(webhook: Webhook, credentials: WebhookCredentials, event: PublishedEvent, now: Date, options: SendOptions = {}): Promise<SendResult> {
    const { timeoutMs, attemptKey, totalTimeoutMs } = options;
    const settings = timeoutMs === undefined ? this.settings : { ...this.settings, requestTimeoutMs: timeoutMs };
    const budget = totalTimeoutMs === undefined ? undefined : new Budget(totalTimeoutMs);
    const { result, tokens = [] } = await this.post(webhook, credentials, event, now, settings, attemptKey, budget);
    return scrubResult(result, [...credentialValues(credentials), ...tokens]);
  }

  private async post(
    webhook: Webhook,
    credentials: WebhookCredentials,
    event: PublishedEvent,
    now: Date,
    settings: OutboundSettings,
    attemptKey: string | undefined,
    budget: Budget | undefined,
  ): Promise<{ result: SendResult; tokens?: string[] }> {
    const auth = credentials.auth;
    const started = performance.now();
    const spent = (): SendResult => ({ kind: 'error', error: `timeout: no answer within ${budget!.totalMs} ms`, durationMs: Math.round(performance.now() - started) });
    // The POST's timeout, within what is left of the budget (undefined: nothing is left).
    const within = (): OutboundSettings | undefined => {
      const left = budget?.leftMs();
      if (left === undefined) return settings;
      return left <= 0 ? undefined : { ...settings, requestTimeoutMs: Math.min(settings.requestTimeoutMs, left) };
    };
    if (auth.type !== 'oauth2') {
      const s = within();
      return { result: s ? await this.sender.post(outboundRequest(webhook, credentials, event, s, now, { attemptKey })) : spent() };
    }
    const key = `${webhook.tenant_id}/${webhook.id}@${webhook.credentials_version}`;
    const post = async (): Promise<{ result: SendResult; token?: string }> => {
      let token: string | undefined;
      try {
        // A token fetch is shared with other attempts and keeps its own timeout: this one stops waiting when its budget ends.
        token = await (budget ? budget.race(this.tokens.get(key, auth)) : this.tokens.get(key, auth));
      } catch (err) {
        return { result: { kind: 'error', error: `OAuth2 ${(err as Error).message}`, durationMs: Math.round(performance.now() - started) } };
      }
      const s = within();
      if (token === undefined || !s) return { result: spent() };
      return { result: await this.sender.post(outboundRequest(webhook, credentials, event, s, now, { oauthToken: token, attemptKey })), token };
    };
    const first = await post();
    if (first.result.kind !== 'response' || first.result.statusCode !== 401 || first.token === undefined) {
      return { result: first.result, ...(first.token ? { tokens: [first.token] } : {}) };
    }
    this.tokens.invalidate(key, first.token);
    const second = await post();
    return { result: second.result, tokens: [first.token, ...(second.token ? [second.token] : [])] };
  }
}

/**
 * The result as is when it echoes no credential (most do not): no copy of its headers. The body
 * is scrubbed, then cut to what the log keeps (LOGGED_BODY_CHARS): cut first, a credential
 * straddling the cut would keep its first part.
 */
function scrubResult(result: SendResult, secrets: readonly string[]): SendResult {
  const clean = scrubber(secrets);
  if (result.kind === 'error') return { ...result, error: clean(result.error) };
  let headers: Record<string, string | undefined> | undefined;
  for (const [name, value] of Object.entries(result.headers)) {
    const scrubbed = value === undefined ? value : clean(value);
    if (scrubbed !== value) (headers ??= { ...result.headers })[name] = scrubbed;
  }
  const bodyPrefix = textPrefix(clean(result.bodyPrefix), LOGGED_BODY_CHARS);
  return headers === undefined && bodyPrefix === result.bodyPrefix ? result : { ...result, headers: headers ?? result.headers, bodyPrefix };
}

/** What is left of an attempt's total time (SendOptions.totalTimeoutMs). */
class Budget {
  readonly totalMs: number;
  private readonly endsAt: number;
  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.endsAt = performance.now() + totalMs;
  }

  leftMs(): number {
    return Math.floor(this.endsAt - performance.now());
  }

  /** `work`'s value, or undefined once the budget has ended first. */
  race<T>(work: Promise<T>): Promise<T | undefined> {
    const left = this.leftMs();
    if (left <= 0) return Promise.resolve(undefined);
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), left)));
    return Promise.race([work, ended]).finally(() => clearTimeout(timer));
  }
}
