import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { Clock } from '../../usecases/ports.ts';

/**
 * From how long a rung goes to EventBridge Scheduler. A shorter one hops through the deliveries
 * queue 15 minutes at a time (`not_before`): a hop is a send, a receive and a delete, each
 * shared by a batch of 10 (about $0.14 per million with the dispatcher's invocation), against
 * Scheduler's $1.00 per million plus its send. Hops cost less up to about 2 hours.
 */
export const SCHEDULER_FROM_SECONDS = 2 * 3600;

/**
 * The retry ladder on AWS: rungs SQS can hold back (up to 15 minutes, to the second) go back on
 * the deliveries queue with `DelaySeconds`, rungs up to SCHEDULER_FROM_SECONDS hop through it,
 * and longer ones become EventBridge Scheduler one-time schedules, which fire to the minute.
 * Without a scheduler, every long rung hops.
 */
export class LadderRetryScheduler implements RetryScheduler {
  private readonly queue: RetryScheduler;
  private readonly scheduler: RetryScheduler | undefined;
  private readonly clock: Clock;
  constructor(queue: RetryScheduler, scheduler: RetryScheduler | undefined, clock: Clock) {
    this.queue = queue;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const seconds = (at.getTime() - this.clock().getTime()) / 1000;
    // (A second's slack: `at` was computed from a clock read a moment before this one.)
    return seconds + 1 >= SCHEDULER_FROM_SECONDS && this.scheduler ? this.scheduler.schedule(message, at) : this.queue.schedule(message, at);
  }
}
