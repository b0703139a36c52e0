/**
 * The pure steps of DispatchDelivery (dispatch.ts): what an attempt's record is, why a delivery
 * is cancelled, the next rung's message, the history an owner's email shows.
 */
import type { Attempt, AttemptSummary, Delivery, DeliveryMessage } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import { newAttemptId } from '../domain/ids.ts';
import { isReceiving, type Webhook } from '../domain/webhooks.ts';
import type { AttemptOutcome } from './outbound-request.ts';
import type { SendResult } from './ports.ts';

/** The message of the ladder's next rung: the same delivery and event, one attempt further. */
export function nextRung(message: DeliveryMessage, dueAt: string, history: readonly AttemptSummary[] | undefined): DeliveryMessage {
  const { not_before: _n, recheck: _r, ...rest } = message;
  return { ...rest, attempt: message.attempt + 1, trigger: 'scheduled', due_at: dueAt, ...(history?.length ? { history } : {}) };
}

/** A store that keeps no history (the delivery log on AWS) leaves the email the message's. */
export const withHistory = (delivery: Delivery, history: readonly AttemptSummary[]): Delivery =>
  delivery.history?.length ? delivery : { ...delivery, history };

export function cancelReasonOf(webhook: Webhook | undefined, event: PublishedEvent | undefined): string | undefined {
  if (!webhook) return 'webhook deleted';
  if (!isReceiving(webhook)) return webhook.active ? 'webhook disabled' : 'webhook inactive';
  return event ? undefined : 'event no longer stored';
}

export function attemptRecord(
  message: DeliveryMessage,
  event: PublishedEvent,
  outcome: AttemptOutcome,
  result: SendResult,
  startedAt: Date,
  nextAttemptAt: Date | undefined,
): Attempt {
  return {
    id: newAttemptId(),
    tenant_id: message.tenant_id,
    webhook_id: message.webhook_id,
    delivery_id: message.delivery_id,
    event_id: event.id,
    event: event.event,
    attempt: message.attempt,
    trigger: message.trigger ?? 'scheduled',
    success: outcome.success,
    status_code: outcome.statusCode,
    response_time_ms: result.durationMs,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(result.kind === 'response' && result.bodyPrefix ? { response_body: result.bodyPrefix } : {}),
    attempted_at: startedAt.toISOString(),
    ...(nextAttemptAt ? { next_attempt_at: nextAttemptAt.toISOString() } : {}),
  };
}
