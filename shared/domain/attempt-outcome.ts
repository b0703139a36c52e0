import type { AttemptOutcome } from './metric-names.ts';

/** What a failed attempt's sender reported: the receiver's answer, or why there was none. */
export type FailedAttemptResult =
  | { readonly kind: 'response'; readonly statusCode: number }
  | { readonly kind: 'error'; readonly error: string };

/**
 * The error sentences of the delivery log (the HTTP senders' `describe`, adapters/http/sending.ts,
 * and their URL refusals) by the class they start with. The sentence is what the sender hands
 * back, so the class is read from it; test/unit/metrics-outcome.test.ts runs `describe` itself so
 * that a reworded sentence cannot silently fall into `other`.
 */
const ERROR_CLASSES: readonly (readonly [RegExp, AttemptOutcome])[] = [
  [/^timeout\b/, 'timeout'],
  // The receiver refused or reset the connection, or the target policy refused its address.
  [/^(connection refused|connection reset|refused:)/, 'refused'],
  [/^TLS error\b/, 'tls'],
  [/^DNS lookup failed\b/, 'dns'],
];

/**
 * The `Outcome` of a failed attempt (the dimension of `AttemptsFailed`): `status` when the
 * receiver answered (any non-2xx, redirects and 410 included), otherwise what kept it from
 * answering. An OAuth2 token that could not be had, an invalid URL or an unknown error is `other`.
 */
export function failedAttemptOutcome(result: FailedAttemptResult): AttemptOutcome {
  if (result.kind === 'response') return 'status';
  return ERROR_CLASSES.find(([pattern]) => pattern.test(result.error))?.[1] ?? 'other';
}
