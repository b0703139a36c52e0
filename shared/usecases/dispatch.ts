import type { Catalogue } from '../domain/catalogue.ts';
import { logEntryOf, type AttemptSummary, type Delivery, type DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import { nextStep } from '../domain/retry-policy.ts';
import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';
import type { AttemptSender } from './attempt-sender.ts';
import { attemptRecord, cancelReasonOf, nextRung, withHistory } from './dispatch-steps.ts';
import { attemptOutcome, type OutboundSettings } from './outbound-request.ts';
import type {
  CredentialsReader,
  DeliveryClaims,
  DispatchSlots,
  EventReader,
  HealthInput,
  HealthTracker,
  LagObserver,
  OutcomeRecorder,
  Received,
  RetryScheduler,
  WebhookReader,
} from './dispatch-ports.ts';
import { countAttempt, noMetrics, type DeliveryMetrics } from './metrics.ts';
import type { Clock, SendResult } from './ports.ts';

// Callers import the ports from here, beside the use case that declares them.
export type * from './dispatch-ports.ts';

export interface DispatchSettings extends OutboundSettings {
  readonly retryDelaysSeconds: readonly number[];
  readonly catalogue: Catalogue;
  /**
   * Claims made before this are stale whatever their age. The one-machine runtime sets its start
   * time: it is the only dispatcher, so a claim older than the process was cut short by a crash.
   */
  readonly claimsStaleBefore?: Date;
  /** Timeout of a scheduled attempt to a `failing` webhook (see Settings.failingRequestTimeoutMs). */
  readonly failingRequestTimeoutMs?: number;
}

const EARLY_TOLERANCE_MS = 10;

/** The pipeline's states: what `prepare` found, then what `send` got. */
type Prepared =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'follow-up'; readonly delivery: Delivery; readonly webhook: Webhook; readonly event: PublishedEvent }
  | { readonly kind: 'requeue'; readonly next: DeliveryMessage }
  | { readonly kind: 'cancel'; readonly delivery: Delivery; readonly reason: string }
  | {
      readonly kind: 'ready';
      readonly delivery: Delivery;
      readonly webhook: Webhook;
      readonly event: PublishedEvent;
      readonly credentials: WebhookCredentials;
      readonly startedAt: Date;
    };

export type DispatchResult =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'cancelled'; readonly reason: string }
  | { readonly kind: 'succeeded'; readonly statusCode: number }
  | { readonly kind: 'retrying'; readonly nextAttemptAt: Date; readonly error: string }
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'gone' };

/**
 * One attempt of one delivery: prepare (claim, load, build and sign) -> send -> record the
 * outcome and arrange the next step. Infrastructure faults (a store or the secret store down)
 * throw, so the queue redelivers the message; a receiver's failure is a recorded attempt.
 */
export class DispatchDelivery {
  private readonly deps: {
    readonly deliveries: DeliveryClaims;
    readonly webhooks: WebhookReader;
    readonly events: EventReader;
    readonly credentials: CredentialsReader;
    readonly outcomes: OutcomeRecorder;
    readonly sender: Pick<AttemptSender, 'send'>;
    readonly retries: RetryScheduler;
    readonly health: HealthTracker;
    readonly slots: DispatchSlots;
    /** Told how late each claimed scheduled attempt is (the reconciler's view of the backlog). */
    readonly lag?: LagObserver;
    /** Told how each attempt ended (business metrics; none by default). */
    readonly metrics?: DeliveryMetrics;
    readonly clock: Clock;
    readonly settings: DispatchSettings;
  };
  constructor(deps: DispatchDelivery['deps']) {
    this.deps = deps;
  }

  async execute(message: DeliveryMessage, received: Received = {}): Promise<DispatchResult> {
    // Timers fire to the millisecond here and SQS delays round up, but EventBridge Scheduler fires
    // to the second: a message that came early waits out the rest.
    if (message.not_before && Date.parse(message.not_before) > this.deps.clock().getTime() + EARLY_TOLERANCE_MS) {
      await this.deps.retries.schedule(message, new Date(message.not_before));
      return { kind: 'skipped', reason: 'not due yet' };
    }
    // A webhook or a tenant with its share of attempts in flight waits its turn (a second, or
    // about an attempt's time for a slow webhook) instead of holding a worker that other
    // webhooks' and tenants' deliveries could use.
    const slot = await this.deps.slots.acquire(message);
    if ('reason' in slot) {
      await this.deps.retries.schedule(message, new Date(this.deps.clock().getTime() + slot.retryInMs));
      return { kind: 'skipped', reason: slot.reason };
    }
    try {
      return await this.attempt(message, received);
    } finally {
      await slot.release();
    }
  }

  private async attempt(message: DeliveryMessage, received: Received): Promise<DispatchResult> {
    const prepared = await this.prepare(message, received);
    switch (prepared.kind) {
      case 'skip':
        return { kind: 'skipped', reason: prepared.reason };
      case 'follow-up':
        await this.followUp(prepared.delivery, prepared.webhook, prepared.event);
        return { kind: 'skipped', reason: 'attempt already made; its health step is done now' };
      case 'requeue':
        await this.deps.retries.schedule(prepared.next, new Date(Date.parse(prepared.next.due_at ?? '') || this.deps.clock().getTime()));
        return { kind: 'skipped', reason: 'attempt already made; its next rung is queued again' };
      case 'cancel':
        await this.deps.deliveries.complete(message, message.attempt, { kind: 'cancelled', reason: prepared.reason }, this.deps.clock());
        return { kind: 'cancelled', reason: prepared.reason };
      case 'ready': {
        const result = await this.deps.sender.send(prepared.webhook, prepared.credentials, prepared.event, prepared.startedAt, {
          timeoutMs: this.timeoutFor(message, prepared.webhook),
          attemptKey: logEntryOf(message.delivery_id, message.attempt),
        });
        return this.record(message, prepared, result);
      }
    }
  }

  private async prepare(message: DeliveryMessage, received: Received): Promise<Prepared> {
    // Read first, claim last: a store or secret-store fault throws before the claim, so the
    // redelivered message can still claim the attempt instead of waiting for it to go stale.
    // The event comes with the message (a manual attempt's is read).
    const read = (consistent: boolean) =>
      Promise.all([
        this.deps.webhooks.get(message.tenant_id, message.webhook_id, consistent),
        message.event ?? this.deps.events.get(message.tenant_id, message.event_id, consistent),
      ]);
    let [webhook, event] = await read(false);
    let cancelReason = cancelReasonOf(webhook, event);
    // Cancelling is final: a miss or an inactive webhook read from a lagging replica (a webhook
    // just created or re-activated) is read again, consistently, before it cancels anything.
    if (cancelReason !== undefined) {
      [webhook, event] = await read(true);
      cancelReason = cancelReasonOf(webhook, event);
    }
    const credentials = webhook && cancelReason === undefined ? await this.deps.credentials.get(webhook) : undefined;

    const now = this.deps.clock();
    // A claimed attempt whose dispatcher died may be claimed again once it cannot still be running.
    const staleBefore = new Date(
      Math.max(now.getTime() - this.deps.settings.requestTimeoutMs - 60_000, this.deps.settings.claimsStaleBefore?.getTime() ?? 0),
    );
    const delivery = await this.deps.deliveries.claim(message, now, staleBefore, received);
    if (!delivery) {
      // The attempt was made. If the dispatcher that made it failed before the webhook's health
      // step was done, the step is still owed, and this redelivered message does it; if it failed
      // before its next rung was queued, this message queues it (a second copy of that rung
      // finds its attempt made and stops: one ladder).
      const current = await this.deps.deliveries.get(message);
      if (current?.follow_up && current.attempts_completed === message.attempt && webhook && event) {
        return { kind: 'follow-up', delivery: current, webhook, event };
      }
      if (current?.state === 'pending' && current.attempts_completed === message.attempt && current.next_attempt_at && message.trigger !== 'manual') {
        // Its first copy may have gone out: the dispatcher that takes this one checks the log.
        return { kind: 'requeue', next: { ...nextRung(message, current.next_attempt_at, current.history), recheck: true } };
      }
      return { kind: 'skip', reason: 'attempt already made or delivery finished' };
    }
    this.observeLag(message, delivery, received, now);
    if (cancelReason !== undefined || !webhook || !event || !credentials) {
      return { kind: 'cancel', delivery, reason: cancelReason ?? 'webhook deleted' };
    }
    return { kind: 'ready', delivery, webhook, event, credentials, startedAt: now };
  }

  /**
   * A `failing` webhook's ladder attempts get the short timeout: an endpoint that is down or hangs
   * holds its dispatcher (and its batch) for seconds. A manual attempt (retry, recover) gets the
   * full one, so that an endpoint that is slow but up can still prove itself healthy.
   */
  private timeoutFor(message: DeliveryMessage, webhook: Webhook): number | undefined {
    const short = this.deps.settings.failingRequestTimeoutMs;
    if (short === undefined || webhook.status !== 'failing' || message.trigger === 'manual') return undefined;
    return Math.min(short, this.deps.settings.requestTimeoutMs);
  }

  /** How late this attempt is: from when the ladder wanted it (the first: from the delivery's creation). */
  private observeLag(message: DeliveryMessage, delivery: Delivery, received: Received, now: Date): void {
    if (!this.deps.lag || message.trigger === 'manual') return;
    const dueAt = Date.parse(message.due_at ?? (message.attempt > 1 ? delivery.next_attempt_at : undefined) ?? delivery.created_at);
    if (Number.isFinite(dueAt)) this.deps.lag.observe(message, new Date(dueAt), received.sentAt, now);
  }

  private async record(
    message: DeliveryMessage,
    prepared: Extract<Prepared, { kind: 'ready' }>,
    result: SendResult,
  ): Promise<DispatchResult> {
    const now = this.deps.clock();
    const outcome = attemptOutcome(result, now);
    countAttempt(this.deps.metrics ?? noMetrics, { success: outcome.success, result, manual: message.trigger === 'manual', receivedAt: prepared.event.received_at, endedAt: now });
    // A manual attempt is one more try, not a new ladder; 410 Gone ends the delivery at once.
    const next =
      outcome.success || outcome.gone || message.trigger === 'manual'
        ? undefined
        : nextStep(this.deps.settings.retryDelaysSeconds, message.attempt, outcome.retryAfterSeconds);
    const nextAttemptAt = next?.kind === 'retry' ? new Date(now.getTime() + next.delaySeconds * 1000) : undefined;
    const attempt = attemptRecord(message, prepared.event, outcome, result, prepared.startedAt, nextAttemptAt);
    const summary: AttemptSummary = {
      attempt: attempt.attempt,
      status_code: attempt.status_code,
      attempted_at: attempt.attempted_at,
      ...(attempt.error === undefined ? {} : { error: attempt.error }),
    };
    const { webhook, event } = prepared;

    // The ladder so far, for the owner's email (the one-machine store keeps it too).
    const history = [...(message.history ?? []), summary];
    const overtaken: DispatchResult = { kind: 'skipped', reason: 'attempt recorded by another dispatcher' };
    if (outcome.success) {
      const followUp = webhook.status === 'failing' ? 'healthy' : undefined;
      const done = await this.deps.outcomes.recordOutcome(attempt, { kind: 'succeeded' }, now, summary, followUp);
      if (!done) return overtaken;
      if (done.follow_up) await this.followUp(withHistory(done, history), webhook, event);
      return { kind: 'succeeded', statusCode: outcome.statusCode ?? 0 };
    }
    const error = outcome.error ?? 'failed';
    if (nextAttemptAt) {
      // Record the plan before queueing it: if queueing fails, this message comes back, finds
      // the attempt recorded and queues the next rung then.
      const done = await this.deps.outcomes.recordOutcome(attempt, { kind: 'retry', nextAttemptAt }, now, summary);
      // Only the dispatcher whose outcome was recorded goes on with the ladder.
      if (!done) return overtaken;
      await this.deps.retries.schedule(nextRung(message, nextAttemptAt.toISOString(), history), nextAttemptAt);
      return { kind: 'retrying', nextAttemptAt, error };
    }
    // A manual attempt's failure changes nothing: the webhook's status came from its ladder. A
    // webhook already failing owes no step (turning failing is from healthy only): no write to
    // settle. The webhook read may be a second old (a container's cache): one that looks healthy
    // is read again, consistently, before a step is owed.
    const turnsFailing = !outcome.gone && message.trigger !== 'manual' && webhook.status === 'healthy' && (await this.stillHealthy(webhook));
    const followUp = outcome.gone ? 'disabled' : turnsFailing ? 'failing' : undefined;
    const done = await this.deps.outcomes.recordOutcome(attempt, { kind: 'failed' }, now, summary, followUp);
    // Only the dispatcher whose completion was recorded speaks for this attempt.
    if (!done) return overtaken;
    if (done.follow_up) await this.followUp(withHistory(done, history), webhook, event);
    return outcome.gone ? { kind: 'gone' } : { kind: 'failed', error };
  }

  private async stillHealthy(webhook: Webhook): Promise<boolean> {
    return (await this.deps.webhooks.get(webhook.tenant_id, webhook.id, true))?.status === 'healthy';
  }

  /**
   * The health step a completed attempt owes, then marked done. If this throws, the message
   * comes back, finds `follow_up` still set, and does it again: the status change and its email
   * happen at least once, and their own conditions (same cause, the email window) keep them to once.
   */
  private async followUp(delivery: Delivery, webhook: Webhook, event: PublishedEvent): Promise<void> {
    const input: HealthInput = { webhook, event, attempts: delivery.history ?? [], cause: delivery.delivery_id };
    if (delivery.follow_up === 'healthy') await this.deps.health.succeeded(webhook, delivery.delivery_id);
    else if (delivery.follow_up === 'failing') await this.deps.health.exhausted(input);
    else if (delivery.follow_up === 'disabled') await this.deps.health.gone(input);
    await this.deps.deliveries.settleFollowUp(delivery, delivery.attempts_completed);
  }
}
