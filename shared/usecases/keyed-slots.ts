/**
 * At most `limit` holders per key at once in this process: a counter per key, who waits for one
 * (first come, first served), and since when a full key has given none back (stalledMs).
 */
export class KeyedSlots {
  private readonly limit: number;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  /** Key -> when one of its slots last came free, or when it filled up (only while it has holders). */
  private readonly progressAt = new Map<string, number>();
  private waiters = 0;

  constructor(limit: number, now: () => number = () => performance.now()) {
    this.limit = limit;
    this.now = now;
  }

  tryAcquire(key: string): boolean {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.limit) return false;
    this.inFlight.set(key, n + 1);
    if (n + 1 >= this.limit && !this.progressAt.has(key)) this.progressAt.set(key, this.now());
    return true;
  }

  release(key: string): void {
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n <= 0) {
      this.inFlight.delete(key);
      this.progressAt.delete(key);
    } else {
      this.inFlight.set(key, n);
      this.progressAt.set(key, this.now());
    }
    // The longest waiter for this key tries again (first come, first served).
    const waiters = this.waiting.get(key);
    const next = waiters?.shift();
    if (waiters && waiters.length === 0) this.waiting.delete(key);
    if (next) {
      this.waiters--;
      next();
    }
  }

  /**
   * How long `key` has been full without a slot coming free (0 when it has room): its holders
   * hang, as far as this process can tell.
   */
  stalledMs(key: string): number {
    if ((this.inFlight.get(key) ?? 0) < this.limit) return 0;
    return this.now() - (this.progressAt.get(key) ?? this.now());
  }

  /** Holders waiting for a slot, all keys together. */
  waitingCount(): number {
    return this.waiters;
  }

  /** Resolves when a slot of `key` is released, or after `ms`. */
  waitForRelease(key: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.waiting.get(key) ?? [];
      this.waiting.set(key, waiters);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(wake);
        if (i >= 0) {
          waiters.splice(i, 1);
          this.waiters--;
        }
        if (waiters.length === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        resolve();
      }, ms);
      waiters.push(wake);
      this.waiters++;
    });
  }
}
