/**
 * A tenant's request rate limit, and the fixed window it is counted in on AWS (see
 * usecases/rate-limits.ts for why a shared fixed window).
 */

/** `requestsPerSecond` on average, at most `burst` at once. */
export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

/**
 * Bounds of a tenant's limit on AWS. Every request of a tenant is one write to its counter item,
 * and one DynamoDB partition key takes at most 1,000 write units a second: 500 requests a second
 * (a burst of at most 1,000 spent in one go) keeps the hottest tenant's counter at half of that.
 * A publish carries up to 100 events, so 500 requests a second is up to 50,000 events a second.
 */
export const MAX_REQUESTS_PER_SECOND = 500;
export const MAX_BURST = 1000;

/** A tenant's window: requests counted from `startMs` to `endMs`, at most `max` of them. */
export interface RateWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly max: number;
}

/**
 * The window `nowMs` falls in: `burst` requests per `burst / requestsPerSecond` seconds, windows
 * aligned on the epoch so that every container agrees on them. On average that is exactly the
 * rate; like any fixed window, up to twice the burst can pass around a window's edge. A burst
 * below the rate counts as the rate (a window is at least a second).
 */
export function rateWindow(limit: RateLimit, nowMs: number): RateWindow {
  const max = Math.max(limit.burst, limit.requestsPerSecond);
  const lengthMs = Math.round((1000 * max) / limit.requestsPerSecond);
  const startMs = Math.floor(nowMs / lengthMs) * lengthMs;
  return { startMs, endMs: startMs + lengthMs, max };
}

/** Whole seconds until the window ends (the `Retry-After` of a refused request), at least 1. */
export const secondsToWindowEnd = (window: RateWindow, nowMs: number): number => Math.max(1, Math.ceil((window.endMs - nowMs) / 1000));

/** The limit as the admin API shows and takes it. */
export interface RateLimitView {
  readonly requests_per_second: number;
  readonly burst: number;
}

export const rateLimitView = (limit: RateLimit): RateLimitView => ({ requests_per_second: limit.requestsPerSecond, burst: limit.burst });
