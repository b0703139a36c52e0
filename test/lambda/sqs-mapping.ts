/**
 * An `AWS::Lambda::EventSourceMapping` from an SQS queue, played as Lambda plays it: it polls the
 * queue with the function's role (which must allow sqs:ReceiveMessage, DeleteMessage,
 * GetQueueAttributes and ChangeMessageVisibility, or the mapping never runs), invokes the function
 * with batches of up to `BatchSize` records shaped as Lambda shapes them, deletes what succeeded
 * (with `ReportBatchItemFailures`, every record but the reported ones; nothing when the function
 * fails or reports an invalid identifier) and leaves the rest to the queue's visibility timeout
 * and redrive policy.
 */
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { InvokeResult } from './container.ts';
import { REGION } from './template.ts';

export interface MappingOptions {
  /** The function's short name. */
  readonly functionName: string;
  readonly queueArn: string;
  /** The queue on the stand-in, polled directly by the harness (as Lambda's pollers do). */
  readonly queueUrl: string;
  readonly client: SQSClient;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly invoke: (event: unknown) => Promise<InvokeResult>;
  readonly onFunctionError: (error: string) => void;
}

/** The SQS permissions Lambda needs on the function's role to run a mapping. */
export const MAPPING_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'];

export class SqsEventSourceMapping {
  readonly options: MappingOptions;
  /** Batches handed to the function, and how each ended. */
  readonly batches: { size: number; failed: number; error?: string }[] = [];
  private running = false;
  private paused = false;
  private processing = false;
  private loop: Promise<void> = Promise.resolve();
  private abort = new AbortController();

  constructor(options: MappingOptions) {
    this.options = options;
  }

  /** True while a received batch is being handled (invocation and deletes). */
  get busy(): boolean {
    return this.processing;
  }

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  /**
   * Stops polling (as disabling the mapping does); the batch in hand is finished first. The poll
   * in flight is let run out (at most its 1 s wait) rather than aborted: the stand-in would still
   * hand a message to an aborted long poll, and that message would stay hidden for the queue's
   * visibility timeout.
   */
  async pause(): Promise<void> {
    this.paused = true;
    await this.loop;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.abort = new AbortController();
    this.loop = this.poll();
  }

  /**
   * Receives `count` messages of the queue for a test to hand to a container itself (as another
   * poller would), hidden from this mapping for `visibilitySeconds`. Pause the mapping first.
   */
  async take(count: number, visibilitySeconds = 60, timeoutMs = 10_000): Promise<Message[]> {
    const { client, queueUrl } = this.options;
    const taken = new Map<string, Message>();
    const deadline = Date.now() + timeoutMs;
    while (taken.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${taken.size} of ${count} messages on ${queueUrl} within ${timeoutMs} ms`);
      const out = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, count - taken.size), WaitTimeSeconds: 1, VisibilityTimeout: visibilitySeconds, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
      );
      for (const m of out.Messages ?? []) taken.set(m.MessageId!, m);
    }
    return [...taken.values()];
  }

  /** Makes messages taken with take() visible again at once, as if their visibility timeout had run out. */
  async giveBack(messages: readonly Message[]): Promise<void> {
    await this.options.client.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.options.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }),
    );
  }

  /** Deletes messages taken with take(), as Lambda does with the records a batch did not report failed. */
  async remove(messages: readonly Message[]): Promise<void> {
    await this.options.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
  }

  private async poll(): Promise<void> {
    const { client, queueUrl, batchSize } = this.options;
    while (this.running && !this.paused) {
      let messages: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(batchSize, 10),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch {
        if (!this.running || this.paused) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      this.processing = true;
      try {
        await this.handle(messages);
      } finally {
        this.processing = false;
      }
    }
  }

  private async handle(messages: Message[]): Promise<void> {
    const event = { Records: messages.map((m) => sqsRecord(m, this.options.queueArn)) };
    const result = await this.options.invoke(event);
    let failed: Set<string>;
    if (!result.ok) {
      this.batches.push({ size: messages.length, failed: messages.length, error: `${result.error.errorType}: ${result.error.errorMessage}` });
      this.options.onFunctionError(`${result.error.errorType}: ${result.error.errorMessage}`);
      return;
    }
    if (this.options.reportBatchItemFailures) {
      const reported: unknown = result.value?.batchItemFailures ?? [];
      const ids = new Set(messages.map((m) => m.MessageId));
      const identifiers = Array.isArray(reported) ? reported.map((f: { itemIdentifier?: unknown }) => f?.itemIdentifier) : [undefined];
      // An invalid response, or an identifier that is empty or names no record: the whole batch failed.
      if (identifiers.some((id) => typeof id !== 'string' || !ids.has(id))) {
        this.batches.push({ size: messages.length, failed: messages.length, error: `invalid batchItemFailures ${JSON.stringify(reported)}` });
        return;
      }
      failed = new Set(identifiers as string[]);
    } else {
      failed = new Set();
    }
    this.batches.push({ size: messages.length, failed: failed.size });
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await this.options.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
      );
    }
  }
}

/** A received message as a record of the event Lambda invokes the function with. */
export function sqsRecord(m: Message, queueArn: string) {
  const messageAttributes = Object.fromEntries(
    Object.entries(m.MessageAttributes ?? {}).map(([name, a]) => [
      name,
      {
        ...(a.StringValue === undefined ? {} : { stringValue: a.StringValue }),
        ...(a.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(a.BinaryValue).toString('base64') }),
        stringListValues: [],
        binaryListValues: [],
        dataType: a.DataType,
      },
    ]),
  );
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: m.Attributes ?? {},
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}
