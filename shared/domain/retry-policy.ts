/**
 * When the next attempt happens, as a pure function of the ladder (`HOOKLINE_RETRY_DELAYS`: the
 * seconds before attempts 1..N) and what the receiver said.
 */
export const RETRY_AFTER_CAP_SECONDS = 3600;

export type NextStep = { readonly kind: 'retry'; readonly delaySeconds: number } | { readonly kind: 'exhausted' };

/**
 * @param attempt the 1-based attempt that just failed
 * @param retryAfterSeconds the receiver's `Retry-After` (on 429/503), if any
 */
export function nextStep(delays: readonly number[], attempt: number, retryAfterSeconds?: number): NextStep {
  if (attempt >= delays.length) return { kind: 'exhausted' };
  const ladder = delays[attempt] ?? 0;
  if (retryAfterSeconds === undefined) return { kind: 'retry', delaySeconds: ladder };
  const cap = (delays.at(-1) ?? 0) + RETRY_AFTER_CAP_SECONDS;
  return { kind: 'retry', delaySeconds: Math.min(Math.max(ladder, retryAfterSeconds), cap) };
}

/** `Retry-After` as seconds from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date (RFC 9110 IMF-fixdate and its obsolete forms) always names a weekday or month.
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
