import { ENV, FUNCTION_ENV } from '../config.ts';
import type { AwsAdapter } from '../adapters/aws/aws-calls.ts';
import type { EmailMetrics } from '../usecases/metrics.ts';
import type { TenantOwners } from '../usecases/owner-email.ts';
import type { Mailer } from '../usecases/ports.ts';
import type { FunctionBase } from './function-base.ts';

/**
 * What the two functions that send email share (the dispatcher's owner notifications, the
 * webhooks API's verification links). Only their kits (functions/<name>/aws.ts) give SES, so no
 * other bundle carries the SES client.
 */

export interface MailOverrides {
  /** The one-machine runtime's outbox instead of SES. */
  readonly mailer?: Mailer;
}

/** SES from the configured sender identity; none when no sender is configured (a warning is logged instead). */
export function mailer(f: FunctionBase, overrides: MailOverrides): Mailer | undefined {
  if (overrides.mailer) return overrides.mailer;
  const from = f.env[FUNCTION_ENV.senderEmail];
  return from ? f.aws.use(f.awsAdapter('mailer', from), 'send') : undefined;
}

/** Base URL of the API for links in emails; empty (relative links) when not configured. */
export const publicUrl = (f: FunctionBase): string => (f.env[ENV.publicUrl] ?? '').replace(/\/+$/, '');

/** The tenant's hourly email budget: each caller picks the methods it calls (its grants). */
export const emailQuotaStore = (f: FunctionBase) => f.local?.emailQuota ?? f.awsAdapter('emailQuota');

/**
 * What every use case that emails a tenant's people needs besides the budget (emailQuotaStore):
 * the tenant's own (trusted) address, SES, the base URL for links, and where `EmailsSent` is
 * counted. `metrics` is the caller's: the dispatcher's EMF recorder; `noMetrics` in the webhooks
 * API, whose verification emails are counted from their log line (so its bundle carries no
 * Powertools Metrics).
 */
export function emailDeps<M extends EmailMetrics>(f: FunctionBase, o: MailOverrides, tenantStore: TenantOwners & Partial<AwsAdapter>, metrics: M) {
  return {
    tenants: f.aws.use(tenantStore, 'get'),
    mailer: mailer(f, o),
    clock: f.clock,
    log: f.logger,
    publicUrl: publicUrl(f),
    metrics,
  };
}
