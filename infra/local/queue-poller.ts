import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueuedMessage, QueueName } from '../../shared/adapters/sqlite/queue-messages.ts';
import type { SqliteQueues } from '../../shared/adapters/sqlite/sqlite-queue.ts';
import { lambdaContext } from './lambda-context.ts';

export interface PollerOptions {
  readonly name: string;
  readonly queues: SqliteQueues;
  readonly queue: QueueName;
  /** The ARN the records name as their source, as on AWS. */
  readonly queueArn: string;
  readonly handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
  /** Messages per invocation, as the event source mapping's BatchSize. */
  readonly batchSize: number;
  /**
   * Invocations in flight at once, as the mapping's MaximumConcurrency. A batch is in flight
   * until its slowest record is done, so this, not the batch size, bounds how many records
   * that hang can hold the consumer.
   */
  readonly concurrency: number;
  /**
   * Whether the handler can start more records soon (default: always). False while the ones it
   * has already wait for capacity of their own: a message taken then would only wait too.
   */
  readonly canTakeMore?: () => boolean;
  readonly onError: (error: unknown) => void;
}

/** The longest a poller sleeps without looking: messages whose visibility timeout ran out are seen within it. */
const MAX_IDLE_MS = 1_000;
/** How often a poller looks again while its handler cannot take more (canTakeMore): nothing wakes it for that. */
const HELD_BACK_MS = 5;

/**
 * Plays Lambda's SQS event source mapping over the SQLite queue: receives batches, invokes the
 * handler with an SQSEvent, deletes what succeeded (everything but `batchItemFailures`; nothing if
 * the handler threw) and leaves the rest to be seen again after the visibility timeout; a message
 * received too often goes to the dead-letter table (SqliteQueues.receive).
 *
 * Receiving costs a synchronous query, so there is no long poll: while fewer than `concurrency`
 * invocations are in flight the poller takes the next batch; with nothing visible it sleeps until
 * a send wakes it, the next delayed message is due, or MAX_IDLE_MS has passed.
 */
export class QueuePoller {
  private readonly options: PollerOptions;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly invocations = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: PollerOptions) {
    this.options = options;
  }

  start(): void {
    this.running = true;
    this.unsubscribe = this.options.queues.onSent(this.options.queue, () => this.wake?.());
    this.loop = this.run();
  }

  /** Stops receiving and waits for the invocations in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await Promise.all(this.invocations);
  }

  private async run(): Promise<void> {
    const { queues, queue, batchSize, concurrency } = this.options;
    while (this.running) {
      if (this.invocations.size >= concurrency) {
        await this.sleep(MAX_IDLE_MS);
        continue;
      }
      if (this.options.canTakeMore?.() === false) {
        await this.sleep(HELD_BACK_MS);
        continue;
      }
      let messages: QueuedMessage[];
      try {
        messages = queues.receive(queue, batchSize);
      } catch (error) {
        this.options.onError(error);
        await this.sleep(500);
        continue;
      }
      if (messages.length === 0) {
        const next = queues.nextVisibleAt(queue);
        await this.sleep(next === undefined ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(1, next - Date.now())));
        continue;
      }
      const invocation = this.invoke(messages)
        .catch((error: unknown) => this.options.onError(error))
        .finally(() => {
          this.invocations.delete(invocation);
          this.wake?.();
        });
      this.invocations.add(invocation);
      // Let the invocation start (and other work run) before the next receive.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Waits for a send to the queue, an invocation's end, stop(), or `ms`. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async invoke(messages: QueuedMessage[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => this.record(m)) };
    let failed: Set<string>;
    try {
      const response = await this.options.handler(event, lambdaContext(this.options.name));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      // As Lambda does: a failure naming no message of this batch fails the whole batch.
      const ids = new Set(messages.map((m) => m.id));
      if ([...failed].some((id) => !id || !ids.has(id))) return;
    } catch (error) {
      // A thrown handler fails the whole batch, as with Lambda: every message is retried.
      this.options.onError(error);
      return;
    }
    this.options.queues.delete(messages.filter((m) => !failed.has(m.id)).map((m) => m.receipt));
  }

  private record(m: QueuedMessage): SQSRecord {
    return {
      messageId: m.id,
      receiptHandle: m.receipt,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt.getTime()),
        SenderId: 'hookline',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: 'us-east-1',
    };
  }
}
