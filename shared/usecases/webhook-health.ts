import type { AttemptSummary } from '../domain/deliveries.ts';
import { disabledEmail, EMAIL_WINDOW_MS, failingEmail, type EmailContent, type OwnerEmailInput } from '../domain/notifications.ts';
import { sameAddress } from '../domain/owner-email.ts';
import type { StatusChange, Webhook, WebhookStatus } from '../domain/webhooks.ts';
import { noMetrics, type HealthMetrics } from './metrics.ts';
import type { EmailQuota, TenantOwners } from './owner-email.ts';
import type { Clock, Mailer } from './ports.ts';

/** What the webhook's email window says about a change (see WebhookStatusStore.claimEmail). */
export type EmailClaim =
  | { readonly kind: 'send'; readonly unsent: readonly StatusChange[]; readonly unsentCount: number }
  | { readonly kind: 'held' };

/** Port: conditional status changes of a webhook and its email window (see DynamoWebhookStore). */
export interface WebhookStatusStore {
  /**
   * Sets the status if it is one of `from`, or if it is `to` already by the same `cause`: a
   * change redone for its cause (a redelivered follow-up) succeeds again, so its email is owed.
   */
  transitionStatus(tenantId: string, webhookId: string, from: readonly WebhookStatus[], to: WebhookStatus, at: Date, cause: string): Promise<Webhook | undefined>;
  /**
   * One atomic decision per change: `send` when the webhook was not emailed since `windowStart`
   * (the window restarts at `now`; the changes held back so far come back, for the summary),
   * otherwise `held`: the change is kept for the next email.
   */
  claimEmail(tenantId: string, webhookId: string, change: StatusChange, now: Date, windowStart: Date): Promise<EmailClaim>;
  /** Keeps changes for the next email (an email the tenant's budget did not allow). */
  keepUnsent(tenantId: string, webhookId: string, changes: readonly StatusChange[], count: number): Promise<void>;
}

export interface HealthLogger {
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

interface Exhausted {
  readonly webhook: Webhook;
  readonly event: { readonly id: string; readonly event: string };
  readonly attempts: readonly AttemptSummary[];
  /** The delivery whose outcome this is. */
  readonly cause: string;
}

/**
 * A webhook's health after an outcome (CONTRACT.md section 6): `failing` when a delivery's last
 * attempt failed, `disabled` on 410 Gone, `healthy` again on the first success. Each change is a
 * conditional write, and only the caller whose write changed the status may email the owner.
 *
 * Emails are rate limited, atomically across dispatchers: one per webhook an hour (a change
 * later in the hour is kept and summed up in the next email; the first change is always
 * emailed), and EMAILS_PER_TENANT_PER_HOUR per tenant. They go to the webhook's owner address
 * once it is verified, to the tenant's own address until then.
 */
export class WebhookHealth {
  private readonly deps: {
    readonly webhooks: WebhookStatusStore;
    readonly tenants: TenantOwners;
    readonly quota: EmailQuota;
    /** Absent on AWS when no sender identity is configured: the change is logged instead. */
    readonly mailer: Mailer | undefined;
    readonly clock: Clock;
    readonly log: HealthLogger;
    /** Base URL of the API for the log link in emails; empty for a relative path. */
    readonly publicUrl: string;
    readonly metrics?: HealthMetrics;
  };
  private readonly metrics: HealthMetrics;
  constructor(deps: WebhookHealth['deps']) {
    this.deps = deps;
    this.metrics = deps.metrics ?? noMetrics;
  }

  async succeeded(webhook: Webhook, cause: string): Promise<void> {
    if (webhook.status !== 'failing') return;
    await this.deps.webhooks.transitionStatus(webhook.tenant_id, webhook.id, ['failing'], 'healthy', this.deps.clock(), cause);
  }

  async exhausted(input: Exhausted): Promise<void> {
    const now = this.deps.clock();
    const changed = await this.deps.webhooks.transitionStatus(input.webhook.tenant_id, input.webhook.id, ['healthy'], 'failing', now, input.cause);
    if (!changed) return;
    this.metrics.webhookTurned('failing');
    await this.notify(changed, now, (extra) => failingEmail({ ...input, webhook: changed, ...extra }));
  }

  async gone(input: Exhausted): Promise<void> {
    const now = this.deps.clock();
    const changed = await this.deps.webhooks.transitionStatus(input.webhook.tenant_id, input.webhook.id, ['healthy', 'failing'], 'disabled', now, input.cause);
    if (!changed) return;
    this.metrics.webhookTurned('disabled');
    await this.notify(changed, now, (extra) => disabledEmail({ ...input, webhook: changed, ...extra }));
  }

  /**
   * The status has changed already; a failed email is logged, not retried: retrying the message
   * would repeat the attempt, and the status (visible in the API) is the record that matters.
   */
  private async notify(
    webhook: Webhook,
    now: Date,
    compose: (extra: Pick<OwnerEmailInput, 'logUrl' | 'unsent' | 'ownerUnverified'>) => EmailContent,
  ): Promise<void> {
    const context = { webhook_id: webhook.id, status: webhook.status };
    if (!this.deps.mailer) return this.deps.log.warn('webhook status changed; no sender email configured, owner not emailed', context);
    const recipient = await this.recipient(webhook);
    if (!recipient) return this.deps.log.warn('webhook status changed; neither the webhook nor its tenant has an owner email', context);

    const change: StatusChange = { status: webhook.status, at: now.toISOString() };
    const claim = await this.deps.webhooks.claimEmail(webhook.tenant_id, webhook.id, change, now, new Date(now.getTime() - EMAIL_WINDOW_MS));
    if (claim.kind === 'held') return;
    if (!(await this.deps.quota.take(webhook.tenant_id, now))) {
      await this.deps.webhooks.keepUnsent(webhook.tenant_id, webhook.id, [...claim.unsent, change], claim.unsentCount + 1);
      return this.deps.log.warn('webhook status changed; the tenant\'s emails of this hour are spent, owner not emailed', context);
    }
    const email = compose({
      logUrl: `${this.deps.publicUrl}/api/v1/integrations/webhooks/${webhook.id}/deliveries`,
      unsent: { changes: claim.unsent, count: claim.unsentCount },
      ownerUnverified: recipient.ownerUnverified,
    });
    try {
      await this.deps.mailer.send({ to: recipient.to, ...email });
      this.metrics.emailSent();
    } catch (err) {
      this.deps.log.error('could not email the webhook owner', { ...context, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The webhook's owner address once verified; the tenant's own (trusted) address until then. */
  private async recipient(webhook: Webhook): Promise<{ to: string; ownerUnverified: boolean } | undefined> {
    if (webhook.owner_email && webhook.owner_email_verified) return { to: webhook.owner_email, ownerUnverified: false };
    const own = (await this.deps.tenants.get(webhook.tenant_id))?.owner_email;
    if (!own) return undefined;
    return { to: own, ownerUnverified: webhook.owner_email !== '' && !sameAddress(webhook.owner_email, own) };
  }
}
