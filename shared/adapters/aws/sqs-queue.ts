import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueError } from './errors.ts';
import { MAX_SQS_MESSAGE_BYTES, sqsSafeJson } from './sqs-messages.ts';

export interface OutgoingMessage {
  readonly body: string;
  /** 0..900 seconds: SQS holds the message back this long. */
  readonly delaySeconds?: number;
  /**
   * The tenant the message is for, sent as MessageGroupId: on a standard queue that makes it an
   * SQS fair queue, which serves a tenant holding a large share of the messages in flight after
   * the others (no ordering or deduplication, which only FIFO queues add).
   */
  readonly tenantId?: string;
}

const BATCH = 10;

const MAX_DELAY_SECONDS = 900;

/** Sends messages in `SendMessageBatch` calls of 10, the batches in parallel; failed entries are retried once. */
export class SqsQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly coalesceMs: number;
  private waiting: { messages: readonly OutgoingMessage[]; done: (err?: unknown) => void }[] = [];

  /**
   * `coalesceMs`: how long a send waits for the sends of other callers to share its
   * SendMessageBatch calls. SQS bills per request, so the records of one invocation that each
   * send one message (a fan-out of one event to one webhook) would otherwise cost ten times as
   * much. Each caller still learns whether its own messages were sent.
   */
  constructor(client: SQSClient, queueUrl: string, options: { coalesceMs?: number } = {}) {
    this.client = client;
    this.queueUrl = queueUrl;
    this.coalesceMs = options.coalesceMs ?? 0;
  }

  sendMany(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.coalesceMs <= 0 || messages.length === 0) return this.sendNow(messages);
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.length === 0) setTimeout(() => void this.flush(), this.coalesceMs);
      this.waiting.push({ messages, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  }

  private async flush(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    try {
      await this.sendNow(waiting.flatMap((w) => w.messages));
      waiting.forEach((w) => w.done());
    } catch (err) {
      waiting.forEach((w) => w.done(err ?? new Error('send failed')));
    }
  }

  private async sendNow(messages: readonly OutgoingMessage[]): Promise<void> {
    // Batches of at most 10 messages and at most MAX_SQS_MESSAGE_BYTES in all.
    const chunks: { body: string; message: OutgoingMessage }[][] = [];
    let size = 0;
    for (const message of messages) {
      const body = sqsSafeJson(message.body);
      const bytes = Buffer.byteLength(body, 'utf8');
      const last = chunks.at(-1);
      if (!last || last.length === BATCH || size + bytes > MAX_SQS_MESSAGE_BYTES) {
        chunks.push([{ body, message }]);
        size = bytes;
      } else {
        last.push({ body, message });
        size += bytes;
      }
    }
    await Promise.all(chunks.map((chunk) => this.sendBatch(chunk)));
  }

  private async sendBatch(chunk: readonly { body: string; message: OutgoingMessage }[]): Promise<void> {
    let entries: SendMessageBatchRequestEntry[] = chunk.map(({ body, message: m }, i) => ({
      Id: String(i),
      MessageBody: body,
      ...(m.delaySeconds ? { DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(m.delaySeconds)) } : {}),
      ...(m.tenantId ? { MessageGroupId: m.tenantId } : {}),
    }));
    for (let round = 0; round < 2 && entries.length > 0; round++) {
      let failedIds: Set<string | undefined>;
      try {
        const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      } catch (err) {
        throw new QueueError(`SendMessageBatch to ${this.queueUrl} failed`, { cause: err });
      }
      entries = entries.filter((e) => failedIds.has(e.Id));
    }
    if (entries.length > 0) throw new QueueError(`${entries.length} message(s) were not accepted by ${this.queueUrl}`);
  }
}
