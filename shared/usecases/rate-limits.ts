import { rateLimitView, rateWindow, secondsToWindowEnd, type RateLimit, type RateLimitView, type RateWindow } from '../domain/rate-limits.ts';
import { NotFoundError } from '../errors.ts';
import { isTenantId } from './api-keys.ts';
import type { Clock } from './ports.ts';
import { ExpiringCache } from './tenants.ts';

/**
 * Per-tenant request rate limits: each tenant's requests to the tenant routes (publishing and the
 * webhooks API) are counted against its own limit, the deployment's default unless the admin API
 * set one, so one tenant over its rate gets `429` + `Retry-After` and no other tenant notices.
 */

/** Port: a tenant's own limit, as the admin API set it (on the tenant's item). */
export interface TenantRateLimits {
  /** undefined: no such tenant; `{}`: the tenant follows the deployment's default. */
  rateLimitOf(tenantId: string): Promise<{ readonly limit?: RateLimit } | undefined>;
  /** Stores the tenant's limit; false when there is no such tenant. */
  setRateLimit(tenantId: string, limit: RateLimit): Promise<boolean>;
}

/** Port: what a tenant may still request now, by its limit. */
export interface RequestAllowance {
  /** Takes one request: undefined when allowed, else the whole seconds to wait. */
  take(tenantId: string, limit: RateLimit, nowMs: number): Promise<number | undefined>;
}

/** Port: one shared counter per tenant and window (DynamoDB on AWS). */
export interface RequestWindows {
  /** Counts one request in the tenant's window unless it holds `window.max` already (then false). */
  take(tenantId: string, window: RateWindow): Promise<boolean>;
}

export interface RateLimitLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

/** How long a container trusts a tenant's limit without reading it again: an admin's change takes effect within this. */
export const RATE_LIMIT_CACHE_MS = 30_000;
const CACHE_ENTRIES = 10_000;

/**
 * The allowance on AWS: a fixed-window counter per tenant in the tenants table, one conditional
 * write per request, with a shortcut for refusals.
 *
 * Why a shared counter, not a token bucket per container: a tenant's requests land on however
 * many Lambda containers are warm, a number no container knows. A bucket of the full limit in
 * each lets N times the limit through; a bucket of 1/N needs N. Leasing batches of tokens from a
 * shared counter saves writes, but strands tokens in containers the tenant's next requests do
 * not reach, so a tenant under its limit would get 429s. The conditional `ADD` is exact across
 * every container of every function: a window never admits more than its `max`, and never
 * refuses while it has room. Within a window the count only grows, so once this container has
 * seen the window refused (or spent it alone) it answers 429 without a call until the window
 * ends: a tenant hammering past its limit costs one write per request it is allowed, plus at
 * most one refused write per container and window.
 */
export class SharedWindowAllowance implements RequestAllowance {
  private readonly windows: RequestWindows;
  /** This container's view of each tenant's current window. */
  private readonly seen = new ExpiringCache<{ startMs: number; taken: number; spent: boolean }>(CACHE_ENTRIES);
  constructor(windows: RequestWindows) {
    this.windows = windows;
  }

  async take(tenantId: string, limit: RateLimit, nowMs: number): Promise<number | undefined> {
    const window = rateWindow(limit, nowMs);
    const known = this.seen.get(tenantId, nowMs);
    const state = known && known.startMs === window.startMs ? known : { startMs: window.startMs, taken: 0, spent: false };
    if (state.spent || state.taken >= window.max) return secondsToWindowEnd(window, nowMs);
    this.seen.set(tenantId, state, window.endMs);
    if (await this.windows.take(tenantId, window)) {
      state.taken++;
      return undefined;
    }
    state.spent = true;
    return secondsToWindowEnd(window, nowMs);
  }
}

/**
 * The hot path: the tenant's limit (cached per container for RATE_LIMIT_CACHE_MS, so a request
 * does not read it), then one request taken from the allowance. A failure of the limit's storage
 * lets the request through (logged): the limit protects capacity, and the stage throttle stays
 * as the safety net; refusing every request while the counter cannot be written would be an
 * outage of its own.
 */
export class TenantRateLimiter {
  private readonly limits: Pick<TenantRateLimits, 'rateLimitOf'>;
  private readonly allowance: RequestAllowance;
  private readonly defaultLimit: RateLimit;
  private readonly clock: Clock;
  private readonly log: RateLimitLogger;
  private readonly cached = new ExpiringCache<RateLimit>(CACHE_ENTRIES);
  /** Reads in flight: a tenant's concurrent first requests share one. */
  private readonly pending = new Map<string, Promise<RateLimit>>();
  constructor(deps: { limits: Pick<TenantRateLimits, 'rateLimitOf'>; allowance: RequestAllowance; defaultLimit: RateLimit; clock: Clock; log: RateLimitLogger }) {
    this.limits = deps.limits;
    this.allowance = deps.allowance;
    this.defaultLimit = deps.defaultLimit;
    this.clock = deps.clock;
    this.log = deps.log;
  }

  /** Undefined when the tenant may make this request, else the whole seconds it must wait. */
  async check(tenantId: string): Promise<number | undefined> {
    try {
      const limit = await this.limitOf(tenantId);
      return await this.allowance.take(tenantId, limit, this.clock().getTime());
    } catch (error) {
      this.log.warn('rate limit not checked; request let through', { tenant_id: tenantId, error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  private limitOf(tenantId: string): Promise<RateLimit> {
    const cached = this.cached.get(tenantId, this.clock().getTime());
    if (cached) return Promise.resolve(cached);
    let read = this.pending.get(tenantId);
    if (!read) {
      read = this.limits.rateLimitOf(tenantId).then((found) => {
        const limit = found?.limit ?? this.defaultLimit;
        this.cached.set(tenantId, limit, this.clock().getTime() + RATE_LIMIT_CACHE_MS);
        return limit;
      });
      const settled = () => this.pending.delete(tenantId);
      read.then(settled, settled);
      this.pending.set(tenantId, read);
    }
    return read;
  }
}

/** A tenant's limit as the admin API shows it: `source` says whether it is the tenant's own or the default. */
export interface TenantRateLimitView extends RateLimitView {
  readonly tenant_id: string;
  readonly source: 'tenant' | 'default';
}

/** Admin use case: read and set a tenant's own limit. */
export class ManageRateLimits {
  private readonly limits: TenantRateLimits;
  private readonly defaultLimit: RateLimit;
  constructor(deps: { limits: TenantRateLimits; defaultLimit: RateLimit }) {
    this.limits = deps.limits;
    this.defaultLimit = deps.defaultLimit;
  }

  async get(tenantId: string): Promise<TenantRateLimitView> {
    const found = isTenantId(tenantId) ? await this.limits.rateLimitOf(tenantId) : undefined;
    if (!found) throw new NotFoundError('No such tenant');
    return this.view(tenantId, found.limit);
  }

  /** `burst` defaults to the rate: no more at once than in a second. */
  async set(tenantId: string, input: { requests_per_second: number; burst?: number | undefined }): Promise<TenantRateLimitView> {
    const limit: RateLimit = { requestsPerSecond: input.requests_per_second, burst: input.burst ?? input.requests_per_second };
    if (!isTenantId(tenantId) || !(await this.limits.setRateLimit(tenantId, limit))) throw new NotFoundError('No such tenant');
    return this.view(tenantId, limit);
  }

  private view(tenantId: string, own: RateLimit | undefined): TenantRateLimitView {
    return { tenant_id: tenantId, ...rateLimitView(own ?? this.defaultLimit), source: own ? 'tenant' : 'default' };
  }
}
