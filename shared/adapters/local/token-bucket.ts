import type { RateLimit } from '../../domain/rate-limits.ts';
import type { RequestAllowance } from '../../usecases/rate-limits.ts';
import type { AuthFailureLimit } from '../../usecases/tenants.ts';

/** Keys (tenants, client addresses) tracked at most; the least recently used goes first. */
const MAX_BUCKETS = 10_000;

/**
 * Per-key token buckets: `ratePerSecond` tokens refill each second up to `burst` (or the rate and
 * burst given to `take`). The one-machine runtime limits each tenant's requests with it (on AWS a
 * shared counter does, see usecases/rate-limits.ts), and the admin and public routes by key kind.
 */
export class TokenBuckets {
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(ratePerSecond: number, burst: number, maxKeys = MAX_BUCKETS) {
    this.rate = ratePerSecond;
    this.burst = burst;
    this.maxKeys = maxKeys;
  }

  /** Takes a token for `key`; returns undefined when allowed, else whole seconds to wait. */
  take(key: string, now = Date.now(), rate = this.rate, burst = this.burst): number | undefined {
    const bucket = this.refill(key, now, rate, burst);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return this.secondsToOne(bucket, rate);
  }

  /** Like `take` without taking: undefined when a token is there, else whole seconds to wait. */
  wait(key: string, now = Date.now()): number | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    return tokens >= 1 ? undefined : this.secondsToOne({ tokens });
  }

  private refill(key: string, now: number, rate: number, burst: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    // Re-inserted, so that the map's first key is the least recently used one.
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(key, bucket);
    return bucket;
  }

  private secondsToOne(bucket: { tokens: number }, rate = this.rate): number {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }
}

/**
 * The one-machine allowance: a token bucket per tenant, sized by the tenant's own limit (one
 * process holds every bucket, so no shared counter is needed). A changed limit applies from the
 * tenant's next request on, to the tokens it has left.
 */
export class TenantTokenBuckets implements RequestAllowance {
  private readonly buckets = new TokenBuckets(1, 1);

  async take(tenantId: string, limit: RateLimit, nowMs: number): Promise<number | undefined> {
    return this.buckets.take(tenantId, nowMs, limit.requestsPerSecond, limit.burst);
  }
}

/** Failed authentications per client address: `perMinute` of them, refilled over a minute. */
export class AuthFailureBuckets implements AuthFailureLimit {
  private readonly buckets: TokenBuckets;
  private readonly now: () => number;
  constructor(perMinute: number, now: () => number = Date.now) {
    this.buckets = new TokenBuckets(perMinute / 60, perMinute);
    this.now = now;
  }

  waitSeconds(client: string): number | undefined {
    return this.buckets.wait(client, this.now());
  }

  recordFailure(client: string): void {
    this.buckets.take(client, this.now());
  }
}
