import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { PublishedEvent } from '../../domain/events.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { DeliveryQueue } from '../../usecases/fan-out.ts';
import type { Clock } from '../../usecases/ports.ts';
import type { EventQueue } from '../../usecases/publish-events.ts';
import type { DeadLetter } from './queue-messages.ts';
import type { SqliteQueues } from './sqlite-queue.ts';

/*
 * The pipeline's two queue ports on SqliteQueues: events (ingest -> fan-out) and deliveries
 * (fan-out -> dispatcher, and the retry ladder).
 */

/** The events queue: each message carries the whole event, as on SQS (ingest -> fan-out). */
export class SqliteEventQueue implements EventQueue {
  private readonly queues: SqliteQueues;
  /** The SQS queue's size rule (1 MiB), so that both runtimes accept the same events. */
  private readonly bodyFits: (body: string) => boolean;
  constructor(queues: SqliteQueues, bodyFits: (body: string) => boolean) {
    this.queues = queues;
    this.bodyFits = bodyFits;
  }
  enqueue(events: readonly PublishedEvent[]): Promise<void> {
    this.queues.send('events', events.map((e) => ({ body: JSON.stringify(e), groupId: e.tenant_id })));
    return Promise.resolve();
  }
  fits(event: PublishedEvent): boolean {
    return this.bodyFits(JSON.stringify(event));
  }
}

/**
 * The deliveries queue, also the retry timer: a retry is a message held back until it is due,
 * however far away (SQS holds one back 15 minutes at most; here a row's `visible_at` has no limit).
 *
 * A first attempt due now is its delivery row, pending with no attempt completed: created by the
 * fan-out in the same transaction, or found due by the reconciler. Its message goes to the
 * queue's memory lane (SqliteQueues.sendRowBacked), and after a restart LocalStore rebuilds it
 * from that row (firstAttemptOf). Everything else (later rungs, manual attempts, anything
 * delayed) has nothing but its message to say it is owed, and is stored.
 */
export class SqliteDeliveryQueue implements DeliveryQueue, RetryScheduler {
  private readonly queues: SqliteQueues;
  private readonly clock: Clock;
  constructor(queues: SqliteQueues, clock: Clock) {
    this.queues = queues;
    this.clock = clock;
  }
  enqueue(messages: readonly DeliveryMessage[], delaySeconds = 0): Promise<void> {
    if (delaySeconds === 0 && messages.every(isFirstAttempt)) {
      this.queues.sendRowBacked('deliveries', messages.map((m) => ({ payload: m, groupId: m.tenant_id })));
    } else {
      this.queues.send('deliveries', messages.map((m) => ({ body: JSON.stringify(m), groupId: m.tenant_id, delayMs: delaySeconds * 1000 })));
    }
    return Promise.resolve();
  }
  schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const { not_before: _due, ...rest } = message;
    const delayMs = at.getTime() - this.clock().getTime();
    this.queues.send('deliveries', [{ body: JSON.stringify(rest), groupId: message.tenant_id, delayMs }]);
    return Promise.resolve();
  }
}

/** The ladder's first attempt: its delivery row records that it is owed (see SqliteDeliveryQueue). */
const isFirstAttempt = (m: DeliveryMessage): boolean => m.attempt === 1 && m.trigger !== 'manual' && m.not_before === undefined;

/**
 * The message of a pending delivery's first attempt, from its row, after a restart (its message
 * was in memory). Without the event (the dispatcher reads it) and marked as one that may have
 * been sent: the last process may have made the attempt.
 */
export function firstAttemptOf(row: Pick<DeliveryMessage, 'delivery_id' | 'tenant_id' | 'webhook_id' | 'event_id'> & { readonly due_at: string }, now: Date): DeliveryMessage {
  const { delivery_id, tenant_id, webhook_id, event_id, due_at } = row;
  // due_at: when the attempt was due, for the lag it is taken with ('' when the row has none);
  // still ahead (the ladder's first rung holds attempt 1 back), the attempt waits for it.
  const later = due_at && Date.parse(due_at) > now.getTime() ? { not_before: due_at } : {};
  return { delivery_id, tenant_id, webhook_id, event_id, attempt: 1, trigger: 'scheduled', recheck: true, ...(due_at ? { due_at } : {}), ...later };
}

/**
 * What a log line says of a dead letter's work: its ids, never the event's data (a message of
 * either queue carries the whole event). Empty when the body is not one of these messages.
 */
export function deadLetterRef(letter: Pick<DeadLetter, 'queue' | 'body'>): Record<string, string | number> {
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(letter.body) as Record<string, unknown>;
  } catch {
    return {};
  }
  const ids = letter.queue === 'events' ? { tenant_id: message['tenant_id'], event_id: message['id'] } : { tenant_id: message['tenant_id'], delivery_id: message['delivery_id'], attempt: message['attempt'] };
  return Object.fromEntries(Object.entries(ids).filter((entry): entry is [string, string | number] => typeof entry[1] === 'string' || typeof entry[1] === 'number'));
}
