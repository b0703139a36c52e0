/**
 * Issue 10, per-tenant rate limits: the fixed window every container agrees on, the shared
 * counter that no set of containers can push past a window's limit, the per-container shortcut
 * that answers 429 without a write once the window is known to be spent, the cached per-tenant
 * limit, the admin use case and its input bounds, and the one-machine token buckets. In-memory
 * fakes, no network.
 */
import { TenantTokenBuckets } from '../../../shared/adapters/local/token-bucket.ts';
import { MAX_BURST, MAX_REQUESTS_PER_SECOND, rateWindow, secondsToWindowEnd, type RateLimit, type RateWindow } from '../../../shared/domain/rate-limits.ts';
import { NotFoundError } from '../../../shared/errors.ts';
import { parse } from '../../../shared/http/api-handler.ts';
import { RateLimitInput } from '../../../shared/http/tenant-schemas.ts';
import {
  ManageRateLimits,
  RATE_LIMIT_CACHE_MS,
  SharedWindowAllowance,
  TenantRateLimiter,
  type RequestWindows,
  type TenantRateLimits,
} from '../../../shared/usecases/rate-limits.ts';
import { rejection } from '../../support/rejection.ts';
import { FakeClock, T0 } from './fakes.ts';

/** The counters of the tenants table, with the adapter's conditional ADD; counts the writes. */
class MemoryWindows implements RequestWindows {
  readonly counts = new Map<string, number>();
  writes = 0;
  async take(tenantId: string, window: RateWindow): Promise<boolean> {
    this.writes++;
    const key = `${tenantId}#${window.startMs}`;
    const count = this.counts.get(key) ?? 0;
    if (count >= window.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }
}

/** Tenants' own limits, as on their items; counts the reads. */
class MemoryLimits implements TenantRateLimits {
  readonly tenants = new Map<string, RateLimit | undefined>();
  reads = 0;
  failing = false;
  async rateLimitOf(tenantId: string) {
    this.reads++;
    if (this.failing) throw new Error('table unavailable');
    if (!this.tenants.has(tenantId)) return undefined;
    const limit = this.tenants.get(tenantId);
    return limit ? { limit } : {};
  }
  async setRateLimit(tenantId: string, limit: RateLimit) {
    if (!this.tenants.has(tenantId)) return false;
    this.tenants.set(tenantId, limit);
    return true;
  }
}

const FIVE: RateLimit = { requestsPerSecond: 5, burst: 5 };
/** The start of a window of every length used here (T0 is on a whole minute). */
const START = T0.getTime();

describe('rateWindow', () => {
  it('counts `burst` requests per burst / rate seconds, in windows aligned on the epoch', () => {
    expect(rateWindow({ requestsPerSecond: 100, burst: 200 }, START + 2500)).toEqual({ startMs: START + 2000, endMs: START + 4000, max: 200 });
    expect(rateWindow({ requestsPerSecond: 5, burst: 5 }, START + 999)).toEqual({ startMs: START, endMs: START + 1000, max: 5 });
    // Any two containers with the same clock see the same window.
    expect(rateWindow({ requestsPerSecond: 2, burst: 6 }, START + 100)).toEqual(rateWindow({ requestsPerSecond: 2, burst: 6 }, START + 2900));
  });

  it('takes a burst below the rate as the rate: a window is never shorter than a second', () => {
    expect(rateWindow({ requestsPerSecond: 10, burst: 3 }, START + 10)).toEqual({ startMs: START, endMs: START + 1000, max: 10 });
  });

  it('Retry-After is the whole seconds to the window end, at least 1', () => {
    const w = rateWindow({ requestsPerSecond: 1, burst: 5 }, START);
    expect(secondsToWindowEnd(w, START)).toBe(5);
    expect(secondsToWindowEnd(w, START + 4100)).toBe(1);
    expect(secondsToWindowEnd(w, START + 4999)).toBe(1);
  });
});

describe('SharedWindowAllowance (the shared counter on AWS)', () => {
  it('no number of containers gets more than the window allows; the next window starts afresh', async () => {
    const windows = new MemoryWindows();
    const containers = [new SharedWindowAllowance(windows), new SharedWindowAllowance(windows), new SharedWindowAllowance(windows)];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => containers[i % 3]!.take('ten_A', FIVE, START + 100 + i)));
    expect(answers.filter((a) => a === undefined)).toHaveLength(5);
    expect(answers.filter((a) => a !== undefined)).toEqual(Array(7).fill(1));
    expect(await containers[0]!.take('ten_A', FIVE, START + 1000)).toBeUndefined();
  });

  it('once a container saw the window refused, it answers 429 without a write until the window ends', async () => {
    const windows = new MemoryWindows();
    const [one, two] = [new SharedWindowAllowance(windows), new SharedWindowAllowance(windows)];
    const limit: RateLimit = { requestsPerSecond: 1, burst: 3 };
    for (let i = 0; i < 3; i++) expect(await one.take('ten_A', limit, START + i)).toBeUndefined();
    // `two` learns that the window is spent from its one refused write...
    expect(await two.take('ten_A', limit, START + 500)).toBe(3);
    const writes = windows.writes;
    // ...and `one` took the whole window itself: neither writes again in it.
    expect(await two.take('ten_A', limit, START + 1500)).toBe(2);
    expect(await one.take('ten_A', limit, START + 2100)).toBe(1);
    expect(windows.writes).toBe(writes);
    expect(await two.take('ten_A', limit, START + 3000)).toBeUndefined();
    expect(windows.writes).toBe(writes + 1);
  });

  it('counts each tenant apart: one tenant over its limit leaves the others untouched', async () => {
    const allowance = new SharedWindowAllowance(new MemoryWindows());
    for (let i = 0; i < 5; i++) await allowance.take('ten_A', FIVE, START);
    expect(await allowance.take('ten_A', FIVE, START)).toBe(1);
    expect(await allowance.take('ten_B', FIVE, START)).toBeUndefined();
  });
});

describe('TenantRateLimiter (the hot path)', () => {
  const setup = () => {
    const clock = new FakeClock();
    const limits = new MemoryLimits();
    const warnings: string[] = [];
    const limiter = new TenantRateLimiter({
      limits,
      allowance: new SharedWindowAllowance(new MemoryWindows()),
      defaultLimit: { requestsPerSecond: 2, burst: 2 },
      clock: clock.clock,
      log: { warn: (message) => warnings.push(message) },
    });
    return { clock, limits, limiter, warnings };
  };
  const allowedOf = async (limiter: TenantRateLimiter, tenantId: string, n: number) => {
    let allowed = 0;
    for (let i = 0; i < n; i++) if ((await limiter.check(tenantId)) === undefined) allowed++;
    return allowed;
  };

  it("applies the tenant's own limit, else the default, reading it once per cache period", async () => {
    const { clock, limits, limiter } = setup();
    limits.tenants.set('ten_A', { requestsPerSecond: 4, burst: 4 });
    limits.tenants.set('ten_B', undefined);
    expect(await allowedOf(limiter, 'ten_A', 10)).toBe(4);
    expect(await allowedOf(limiter, 'ten_B', 10)).toBe(2);
    expect(limits.reads).toBe(2);

    // A changed limit applies once the cached one is stale, never later.
    limits.tenants.set('ten_A', { requestsPerSecond: 8, burst: 8 });
    clock.advance(1000);
    expect(await allowedOf(limiter, 'ten_A', 10)).toBe(4);
    clock.advance(RATE_LIMIT_CACHE_MS);
    expect(await allowedOf(limiter, 'ten_A', 10)).toBe(8);
    expect(limits.reads).toBe(3);
  });

  it("a tenant's concurrent first requests share one read of its limit", async () => {
    const { limits, limiter } = setup();
    limits.tenants.set('ten_A', undefined);
    await Promise.all(Array.from({ length: 5 }, () => limiter.check('ten_A')));
    expect(limits.reads).toBe(1);
  });

  it('lets the request through, with a warning, when the limit cannot be read', async () => {
    const { limits, limiter, warnings } = setup();
    limits.failing = true;
    expect(await allowedOf(limiter, 'ten_A', 5)).toBe(5);
    expect(warnings).toHaveLength(5);
  });
});

describe('ManageRateLimits (the admin API)', () => {
  const setup = () => {
    const limits = new MemoryLimits();
    limits.tenants.set('ten_A', undefined);
    return { limits, manage: new ManageRateLimits({ limits, defaultLimit: { requestsPerSecond: 100, burst: 200 } }) };
  };

  it("shows the default until the tenant has its own; burst defaults to the rate", async () => {
    const { limits, manage } = setup();
    expect(await manage.get('ten_A')).toEqual({ tenant_id: 'ten_A', requests_per_second: 100, burst: 200, source: 'default' });
    expect(await manage.set('ten_A', { requests_per_second: 20 })).toEqual({ tenant_id: 'ten_A', requests_per_second: 20, burst: 20, source: 'tenant' });
    expect(limits.tenants.get('ten_A')).toEqual({ requestsPerSecond: 20, burst: 20 });
    expect(await manage.set('ten_A', { requests_per_second: 20, burst: 50 })).toMatchObject({ burst: 50 });
    expect(await manage.get('ten_A')).toEqual({ tenant_id: 'ten_A', requests_per_second: 20, burst: 50, source: 'tenant' });
  });

  it('an unknown tenant, or an id no tenant can have, is a 404 and changes nothing', async () => {
    const { limits, manage } = setup();
    expect(await rejection(manage.get('ten_nobody'))).toBeInstanceOf(NotFoundError);
    expect(await rejection(manage.set('ten_nobody', { requests_per_second: 5 }))).toBeInstanceOf(NotFoundError);
    expect(await rejection(manage.get('x'.repeat(3000)))).toBeInstanceOf(NotFoundError);
    expect(limits.reads).toBe(1);
    expect(limits.tenants.has('ten_nobody')).toBe(false);
  });

  it.each([
    [{}, 'requests_per_second'],
    [{ requests_per_second: 0 }, 'requests_per_second'],
    [{ requests_per_second: 1.5 }, 'requests_per_second'],
    [{ requests_per_second: '10' }, 'requests_per_second'],
    [{ requests_per_second: MAX_REQUESTS_PER_SECOND + 1 }, 'requests_per_second'],
    [{ requests_per_second: 10, burst: 5 }, 'burst'],
    [{ requests_per_second: 10, burst: MAX_BURST + 1 }, 'burst'],
    [{ requests_per_second: 10, extra: true }, '(body)'],
  ])('refuses %j with a 400 naming %s', (body, path) => {
    const error = (() => {
      try {
        parse(RateLimitInput, body);
      } catch (err) {
        return err as { statusCode: number; details: { path: string }[] };
      }
      throw new Error('accepted');
    })();
    expect(error.statusCode).toBe(400);
    expect(error.details.map((d) => d.path)).toContain(path);
  });

  it('accepts the bounds themselves', () => {
    expect(parse(RateLimitInput, { requests_per_second: 1 })).toEqual({ requests_per_second: 1 });
    expect(parse(RateLimitInput, { requests_per_second: MAX_REQUESTS_PER_SECOND, burst: MAX_BURST })).toEqual({ requests_per_second: MAX_REQUESTS_PER_SECOND, burst: MAX_BURST });
  });
});

describe('TenantTokenBuckets (one machine)', () => {
  it("sizes each tenant's bucket by its own limit and refills it at its rate", async () => {
    const buckets = new TenantTokenBuckets();
    const small: RateLimit = { requestsPerSecond: 1, burst: 2 };
    expect(await buckets.take('ten_A', small, START)).toBeUndefined();
    expect(await buckets.take('ten_A', small, START)).toBeUndefined();
    expect(await buckets.take('ten_A', small, START)).toBe(1);
    expect(await buckets.take('ten_B', { requestsPerSecond: 10, burst: 10 }, START)).toBeUndefined();
    expect(await buckets.take('ten_A', small, START + 1000)).toBeUndefined();
    // A raised limit applies to the next request.
    expect(await buckets.take('ten_A', { requestsPerSecond: 100, burst: 100 }, START + 1010)).toBeUndefined();
  });
});
