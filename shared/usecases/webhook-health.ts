import type { AttemptSummary } from '../domain/deliveries.ts';
import { disabledEmail, failingEmail } from '../domain/notifications.ts';
import type { Webhook, WebhookStatus } from '../domain/webhooks.ts';
import type { Clock, Mailer } from './ports.ts';

/** Port: conditional status changes of a webhook (see DynamoWebhookStore.transitionStatus). */
export interface WebhookStatusStore {
  transitionStatus(tenantId: string, webhookId: string, from: readonly WebhookStatus[], to: WebhookStatus, at: Date): Promise<Webhook | undefined>;
}

export interface HealthLogger {
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

interface Exhausted {
  readonly webhook: Webhook;
  readonly event: { readonly id: string; readonly event: string };
  readonly attempts: readonly AttemptSummary[];
}

/**
 * A webhook's health after an outcome (CONTRACT.md section 6): `failing` when a delivery's last
 * attempt failed, `disabled` on 410 Gone, `healthy` again on the first success. Each change is a
 * conditional write, and only the caller whose write changed the status sends the owner's
 * email: one email per change, however many deliveries exhaust at once.
 */
export class WebhookHealth {
  private readonly deps: {
    readonly webhooks: WebhookStatusStore;
    /** Absent on AWS when no sender identity is configured: the change is logged instead. */
    readonly mailer: Mailer | undefined;
    readonly clock: Clock;
    readonly log: HealthLogger;
    /** Base URL of the API for the log link in emails; empty for a relative path. */
    readonly publicUrl: string;
  };
  constructor(deps: WebhookHealth['deps']) {
    this.deps = deps;
  }

  async succeeded(webhook: Webhook): Promise<void> {
    if (webhook.status !== 'failing') return;
    await this.deps.webhooks.transitionStatus(webhook.tenant_id, webhook.id, ['failing'], 'healthy', this.deps.clock());
  }

  async exhausted(input: Exhausted): Promise<void> {
    const changed = await this.deps.webhooks.transitionStatus(input.webhook.tenant_id, input.webhook.id, ['healthy'], 'failing', this.deps.clock());
    if (changed) await this.notify(changed, failingEmail({ ...input, webhook: changed, logUrl: this.logUrl(changed) }));
  }

  async gone(input: Exhausted): Promise<void> {
    const changed = await this.deps.webhooks.transitionStatus(input.webhook.tenant_id, input.webhook.id, ['healthy', 'failing'], 'disabled', this.deps.clock());
    if (changed) await this.notify(changed, disabledEmail({ ...input, webhook: changed, logUrl: this.logUrl(changed) }));
  }

  private logUrl(webhook: Webhook): string {
    return `${this.deps.publicUrl}/api/v1/integrations/webhooks/${webhook.id}/deliveries`;
  }

  /**
   * The status has changed already; a failed email is logged, not retried: retrying the message
   * would repeat the attempt, and the status (visible in the API) is the record that matters.
   */
  private async notify(webhook: Webhook, email: { subject: string; text: string }): Promise<void> {
    const context = { webhook_id: webhook.id, status: webhook.status };
    if (!this.deps.mailer) return this.deps.log.warn('webhook status changed; no sender email configured, owner not emailed', context);
    if (!webhook.owner_email) return this.deps.log.warn('webhook status changed; webhook has no owner email', context);
    try {
      await this.deps.mailer.send({ to: webhook.owner_email, ...email });
    } catch (err) {
      this.deps.log.error('could not email the webhook owner', { ...context, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
