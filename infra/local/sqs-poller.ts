import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';

export interface PollerOptions {
  readonly name: string;
  readonly client: SQSClient;
  readonly queueUrl: string;
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
  /** Long polls at once (at most `concurrency`), 2 by default: polls fetch, invocations wait. */
  readonly receivers?: number;
  readonly onError: (error: unknown) => void;
}

/**
 * Plays Lambda's SQS event source mapping: long-polls, invokes the handler with an SQSEvent,
 * deletes what succeeded (everything but `batchItemFailures`; nothing if the handler threw) and
 * leaves the rest to reappear after the visibility timeout; the queue's redrive policy moves a
 * message to the DLQ after its maximum receives, as on AWS.
 *
 * Receiving does not wait for the batches it started: a receiver goes on polling while fewer
 * than `concurrency` invocations are in flight (a poll in progress holds a place), so batches
 * held up by slow records leave the others running, and many invocations need few long polls.
 */
export class SqsPoller {
  private readonly options: PollerOptions;
  private running = false;
  private receivers: Promise<void>[] = [];
  private readonly invocations = new Set<Promise<void>>();
  /** Invocations in flight plus polls in progress, at most `concurrency`. */
  private taken = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor(options: PollerOptions) {
    this.options = options;
  }

  start(): void {
    this.running = true;
    const receivers = Math.min(this.options.receivers ?? 2, this.options.concurrency);
    this.receivers = Array.from({ length: receivers }, () => this.receive());
  }

  /** Stops polling and waits for the invocations in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.waiting.splice(0).forEach((wake) => wake());
    await Promise.all(this.receivers);
    await Promise.all(this.invocations);
  }

  private async receive(): Promise<void> {
    const { client, queueUrl } = this.options;
    while (this.running) {
      await this.take();
      if (!this.running) return this.giveBack();
      let messages: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.batchSize,
            WaitTimeSeconds: 2,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        this.giveBack();
        if (!this.running) return;
        this.options.onError(err);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) {
        this.giveBack();
        continue;
      }
      // The place taken for the poll is the invocation's until it ends.
      const invocation = this.invoke(messages).catch((err: unknown) => this.options.onError(err)).finally(() => {
        this.invocations.delete(invocation);
        this.giveBack();
      });
      this.invocations.add(invocation);
    }
  }

  /** Waits for a place among `concurrency` (or for stop()), then takes it. */
  private async take(): Promise<void> {
    while (this.running && this.taken >= this.options.concurrency) {
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
    this.taken++;
  }

  private giveBack(): void {
    this.taken--;
    this.waiting.shift()?.();
  }

  private async invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => this.record(m)) };
    let failed: Set<string>;
    try {
      const response = await this.options.handler(event, lambdaContext(this.options.name));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      // As Lambda does: a failure naming no message of this batch fails the whole batch.
      const ids = new Set(messages.map((m) => m.MessageId));
      if ([...failed].some((id) => !id || !ids.has(id))) return;
    } catch (err) {
      // A thrown handler fails the whole batch, as with Lambda: every message is retried.
      this.options.onError(err);
      return;
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    for (let i = 0; i < done.length; i += 10) {
      try {
        await this.options.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: done.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      } catch (err) {
        this.options.onError(err);
      }
    }
  }

  private record(m: Message): SQSRecord {
    return {
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: (m.Attributes ?? {}) as unknown as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: 'us-east-1',
    };
  }
}
