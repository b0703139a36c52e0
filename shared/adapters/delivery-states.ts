/**
 * The delivery as a claim or a recorded outcome leaves it, told from what the dispatcher already
 * holds (the message, the attempt) instead of read back. Both delivery stores return these: the
 * DynamoDB delivery log has nothing else to read (its attempt items are the delivery's state),
 * and the SQLite store, whose row would say more, spends no read on it (two reads were about
 * 24 us of the one-machine runtime's main thread a delivery). DispatchDelivery asks for no more:
 * where it needs the stored delivery (a redelivered message, a health step) it reads it.
 */
import type { Attempt, Delivery, DeliveryMessage, HealthFollowUp } from '../domain/deliveries.ts';
import type { Completion } from '../usecases/dispatch.ts';

/** The delivery with attempt `message.attempt` claimed at `now`, as the message describes it. */
export function claimedDelivery(message: DeliveryMessage, now: Date): Delivery {
  const at = now.toISOString();
  return {
    delivery_id: message.delivery_id,
    tenant_id: message.tenant_id,
    webhook_id: message.webhook_id,
    event_id: message.event_id,
    event_type: message.event?.event ?? '',
    state: 'pending',
    attempts_started: message.attempt,
    attempts_completed: message.attempt - 1,
    claimed_at: at,
    ...(message.due_at && message.attempt > 1 ? { next_attempt_at: message.due_at } : {}),
    ...(message.history?.length ? { history: message.history } : {}),
    created_at: message.event?.received_at ?? at,
    updated_at: at,
  };
}

/** The delivery right after `attempt` was recorded with `completion`. */
export function deliveryAfter(attempt: Attempt, completion: Completion, followUp: HealthFollowUp | undefined): Delivery {
  return {
    delivery_id: attempt.delivery_id,
    tenant_id: attempt.tenant_id,
    webhook_id: attempt.webhook_id,
    event_id: attempt.event_id,
    event_type: attempt.event,
    state: completion.kind === 'retry' ? 'pending' : completion.kind,
    attempts_started: attempt.attempt,
    attempts_completed: attempt.attempt,
    ...(completion.kind === 'retry' ? { next_attempt_at: completion.nextAttemptAt.toISOString() } : {}),
    ...(followUp ? { follow_up: followUp } : {}),
    created_at: attempt.attempted_at,
    updated_at: attempt.attempted_at,
  };
}
