import { logEntryOf, type Attempt, type AttemptSummary, type Delivery, type DeliveryRef, type DeliveryState, type HealthFollowUp } from '../../domain/deliveries.ts';
import { shardOf } from '../../domain/ids.ts';
import type { Completion } from '../../usecases/dispatch.ts';
import { LOG_SHARDS, logTableOf } from './tables.ts';

/**
 * The delivery log's items (TABLES.attempts): one per attempt, which is also its delivery's state.
 * Pure: keys, the item of an attempt, and the delivery its items describe.
 */

/** How an attempt left its delivery: succeeded, failed for good, or a next rung planned. */
export type LoggedOutcome = Exclude<Completion['kind'], 'cancelled'>;

/** The partition of a delivery's attempts: its webhook, and a shard of the webhook's log. */
export const logKey = (webhookId: string, deliveryId: string): string => `${webhookId}#${shardOf(deliveryId, LOG_SHARDS)}`;
/** Of `tables` log tables, the one holding partition `key` (a logKey). */
export const tableOfLogKey = (key: string, tables: number): number => logTableOf(Number(key.slice(key.lastIndexOf('#') + 1)), tables);
/** Every partition of a webhook's log. */
export const logKeys = (webhookId: string): string[] => Array.from({ length: LOG_SHARDS }, (_, i) => `${webhookId}#${i}`);
export const keyOf = (ref: Pick<DeliveryRef, 'webhook_id' | 'delivery_id'>, attempt: number) => ({
  log_key: logKey(ref.webhook_id, ref.delivery_id),
  entry: logEntryOf(ref.delivery_id, attempt),
});

export interface AttemptItem extends Attempt {
  readonly log_key: string;
  readonly entry: string;
  readonly outcome: LoggedOutcome;
  /** The webhook-health step this attempt owes until it is settled (see DispatchDelivery.followUp). */
  readonly follow_up?: HealthFollowUp;
  readonly expires_at: number;
}

export function attemptItem(attempt: Attempt, outcome: LoggedOutcome, expiresAt: number, followUp?: HealthFollowUp): AttemptItem {
  return { ...keyOf(attempt, attempt.attempt), ...attempt, outcome, ...(followUp ? { follow_up: followUp } : {}), expires_at: expiresAt };
}

/** The attempt as the API shows it: the item without its keys and bookkeeping. */
export function attemptOf(item: Record<string, unknown>): Attempt {
  const { log_key: _l, entry: _e, outcome: _o, follow_up: _f, expires_at: _x, ...attempt } = item;
  return attempt as unknown as Attempt;
}

const summaryOf = (a: Attempt): AttemptSummary => ({
  attempt: a.attempt,
  status_code: a.status_code,
  attempted_at: a.attempted_at,
  ...(a.error === undefined ? {} : { error: a.error }),
});

const stateOf = (outcome: LoggedOutcome): DeliveryState => (outcome === 'retry' ? 'pending' : outcome);

/** The delivery its recorded attempts describe (oldest first), or undefined when none is recorded. */
export function deliveryOf(items: readonly Record<string, unknown>[]): Delivery | undefined {
  const sorted = [...items].sort((a, b) => Number(a['attempt']) - Number(b['attempt']));
  const first = sorted[0] as unknown as AttemptItem | undefined;
  const last = sorted.at(-1) as unknown as AttemptItem | undefined;
  if (!first || !last) return undefined;
  return {
    ...refOf(last),
    event_id: last.event_id,
    event_type: last.event,
    state: stateOf(last.outcome),
    attempts_started: last.attempt,
    attempts_completed: last.attempt,
    ...(last.outcome === 'retry' && last.next_attempt_at ? { next_attempt_at: last.next_attempt_at } : {}),
    history: sorted.map((i) => summaryOf(i as unknown as Attempt)),
    ...(last.follow_up ? { follow_up: last.follow_up } : {}),
    created_at: first.attempted_at,
    updated_at: last.attempted_at,
  };
}

const refOf = (a: Pick<Attempt, 'delivery_id' | 'tenant_id' | 'webhook_id'>): DeliveryRef => ({
  delivery_id: a.delivery_id,
  tenant_id: a.tenant_id,
  webhook_id: a.webhook_id,
});
