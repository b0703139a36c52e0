import type { Settings } from '../config.ts';
import type { RateLimit } from '../domain/rate-limits.ts';
import { SharedWindowAllowance, TenantRateLimiter, type RequestAllowance } from '../usecases/rate-limits.ts';
import type { FunctionBase } from './function-base.ts';

/** The limit of every tenant without one of its own (`HOOKLINE_RATE_LIMIT_PER_SECOND`, `..._BURST`). */
export const defaultRateLimit = (settings: Settings): RateLimit => ({ requestsPerSecond: settings.rateLimitPerSecond, burst: settings.rateLimitBurst });

/**
 * The tenant routes' rate limiter: each tenant's limit read from its item (cached), requests
 * counted in the tenants table (Lambda), or in the process's token buckets (one machine: the
 * `allowance` override, shared by the functions of the process).
 */
export function tenantRateLimiter(f: FunctionBase, allowance?: RequestAllowance): TenantRateLimiter {
  return new TenantRateLimiter({
    limits: f.aws.use(f.local?.tenants ?? f.awsAdapter('tenantRecords'), 'rateLimitOf'),
    allowance: allowance ?? new SharedWindowAllowance(f.aws.use(f.local?.requestWindows ?? f.awsAdapter('requestWindows'), 'take')),
    defaultLimit: defaultRateLimit(f.settings),
    clock: f.clock,
    log: f.logger,
  });
}
