import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { Clock } from '../../usecases/ports.ts';
import { MAX_SQS_DELAY_SECONDS } from './queues.ts';

/**
 * The retry ladder on AWS: rungs SQS can hold back (up to 15 minutes, to the second) go back on
 * the deliveries queue with `DelaySeconds`; longer ones become EventBridge Scheduler one-time
 * schedules, which fire to the minute. Without a scheduler, long rungs hop through SQS 15 minutes
 * at a time (`not_before`).
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
    return seconds > MAX_SQS_DELAY_SECONDS && this.scheduler ? this.scheduler.schedule(message, at) : this.queue.schedule(message, at);
  }
}
