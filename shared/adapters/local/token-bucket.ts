/**
 * Per-key token buckets: `ratePerSecond` tokens refill each second up to `burst`. The one-machine
 * runtime limits each tenant's requests with it (on AWS, API Gateway's throttling does).
 */
export class TokenBuckets {
  private readonly rate: number;
  private readonly burst: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(ratePerSecond: number, burst: number) {
    this.rate = ratePerSecond;
    this.burst = burst;
  }

  /** Takes a token for `key`; returns undefined when allowed, else whole seconds to wait. */
  take(key: string, now = Date.now()): number | undefined {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }
}
