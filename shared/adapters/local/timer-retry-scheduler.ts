import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';

/**
 * The retry timer on one machine: an in-process timer that puts the message back on the
 * deliveries queue when it is due, to the millisecond (tests use ladders of fractions of a
 * second). It survives a restart because the delivery's `due_at` is in DynamoDB: the runtime's
 * start-up reconcile queues every pending delivery again, and one that is not due yet comes back
 * here through its `not_before`.
 */
export class TimerRetryScheduler implements RetryScheduler {
  private readonly queue: { enqueue(messages: readonly DeliveryMessage[]): Promise<void> };
  private readonly onError: (error: unknown) => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(queue: TimerRetryScheduler['queue'], onError: (error: unknown) => void) {
    this.queue = queue;
    this.onError = onError;
  }

  async schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const { not_before: _n, ...due } = message;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A lost enqueue is found by the reconciler (the delivery is due in DynamoDB).
      this.queue.enqueue([due]).catch(this.onError);
    }, Math.max(0, at.getTime() - Date.now()));
    this.timers.add(timer);
  }

  /** Drops the pending timers (their deliveries stay due in DynamoDB). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
