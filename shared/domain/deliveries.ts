import type { PublishedEvent } from './events.ts';

/**
 * A delivery is one event on its way to one webhook; each try is an attempt in the delivery log.
 *
 *   pending --2xx--> succeeded
 *   pending --failure, rungs left--> pending (next_attempt_at set, retry queued)
 *   pending --failure, last rung--> failed
 *   pending --webhook gone/inactive/disabled--> cancelled
 */
export type DeliveryState = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export type AttemptTrigger = 'scheduled' | 'manual' | 'test';

/** What an attempt's outcome makes of its webhook: healthy again, failing, or disabled (410). */
export type HealthFollowUp = 'healthy' | 'failing' | 'disabled';

export interface Delivery {
  readonly delivery_id: string;
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly state: DeliveryState;
  /** Highest attempt number claimed by a dispatcher (0 before the first). */
  readonly attempts_started: number;
  /** Highest attempt number whose outcome is recorded. */
  readonly attempts_completed: number;
  readonly claimed_at?: string;
  readonly next_attempt_at?: string;
  /** One line per completed attempt, for the owner's email. */
  readonly history?: readonly AttemptSummary[];
  /**
   * The webhook-health step the completed attempt still owes (written with the completion,
   * removed once done): a redelivered message finds it and does the step, so a change of status
   * and its email are not lost when the dispatcher fails right after recording the outcome.
   */
  readonly follow_up?: HealthFollowUp;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface AttemptSummary {
  readonly attempt: number;
  readonly status_code: number | null;
  readonly error?: string;
  readonly attempted_at: string;
}

/** One line of the delivery log. */
export interface Attempt {
  readonly id: string;
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly delivery_id: string;
  readonly event_id: string;
  readonly event: string;
  /** 1-based. */
  readonly attempt: number;
  readonly trigger: AttemptTrigger;
  readonly success: boolean;
  readonly status_code: number | null;
  readonly response_time_ms: number;
  readonly error?: string;
  /** The first bytes of the receiver's answer, for debugging. */
  readonly response_body?: string;
  readonly attempted_at: string;
  readonly next_attempt_at?: string;
}

/** The attempt as the API shows it (CONTRACT.md section 4). */
export function attemptView(a: Attempt) {
  return {
    id: a.id,
    delivery_id: a.delivery_id,
    event_id: a.event_id,
    event: a.event,
    attempt: a.attempt,
    trigger: a.trigger,
    success: a.success,
    status_code: a.status_code,
    response_time_ms: a.response_time_ms,
    ...(a.error === undefined ? {} : { error: a.error }),
    ...(a.response_body === undefined ? {} : { response_body: a.response_body }),
    attempted_at: a.attempted_at,
    ...(a.next_attempt_at === undefined ? {} : { next_attempt_at: a.next_attempt_at }),
  };
}

/**
 * An attempt's place in its webhook's delivery log: after its delivery's id, which starts with
 * the event's arrival time, so the log sorts newest delivery first and a delivery's attempts
 * together, by number. The same key in both stores, so both list in the same order.
 */
export const logEntryOf = (deliveryId: string, attempt: number): string => `${deliveryId}#${String(attempt).padStart(3, '0')}`;

/** The log keys of one delivery's attempts lie strictly between these two (`#` sorts right before `$`). */
export const logEntriesOf = (deliveryId: string): { readonly above: string; readonly below: string } => ({ above: `${deliveryId}#`, below: `${deliveryId}$` });

/**
 * The most attempts a delivery may have: the log's key numbers them in three digits (ladder and
 * manual ones together), so an attempt 1000 would sort between 100 and 101.
 */
export const MAX_ATTEMPTS_PER_DELIVERY = 999;

/** Which delivery: its id, and the webhook and tenant it belongs to (the delivery log is kept by webhook). */
export type DeliveryRef = Pick<DeliveryMessage, 'delivery_id' | 'tenant_id' | 'webhook_id'>;

/** The message on the deliveries queue: which attempt of which delivery to make. */
export interface DeliveryMessage {
  readonly delivery_id: string;
  readonly tenant_id: string;
  readonly webhook_id: string;
  readonly event_id: string;
  readonly attempt: number;
  readonly trigger?: AttemptTrigger;
  /** Set when the attempt is due later than the queue can hold a message back. */
  readonly not_before?: string;
  /** When the ladder wants this attempt (absent: when the message was sent), for the lag it is taken with. */
  readonly due_at?: string;
  /**
   * The event itself, so that the dispatcher reads nothing to send it (the fan-out and the ladder
   * carry it; a manual attempt reads it from the event store).
   */
  readonly event?: PublishedEvent;
  /** The attempt may have been made already (a fan-out run again): the dispatcher checks the log first. */
  readonly recheck?: true;
  /** The ladder's earlier attempts, one line each, for the owner's email when the last one fails. */
  readonly history?: readonly AttemptSummary[];
}
