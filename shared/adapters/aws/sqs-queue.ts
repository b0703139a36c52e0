import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueError } from './errors.ts';

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

/**
 * SQS accepts only some Unicode (no U+FFFE/U+FFFF, no lone surrogates) and stand-ins accept less;
 * JSON can carry any character as a \u escape, so bodies go out as ASCII.
 */
export const asciiOnly = (json: string): string =>
  json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const MAX_DELAY_SECONDS = 900;

/** Sends messages in `SendMessageBatch` calls of 10, the batches in parallel; failed entries are retried once. */
export class SqsQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  constructor(client: SQSClient, queueUrl: string) {
    this.client = client;
    this.queueUrl = queueUrl;
  }

  async sendMany(messages: readonly OutgoingMessage[]): Promise<void> {
    const chunks: OutgoingMessage[][] = [];
    for (let i = 0; i < messages.length; i += BATCH) chunks.push(messages.slice(i, i + BATCH));
    await Promise.all(chunks.map((chunk) => this.sendBatch(chunk)));
  }

  private async sendBatch(chunk: readonly OutgoingMessage[]): Promise<void> {
    let entries: SendMessageBatchRequestEntry[] = chunk.map((m, i) => ({
      Id: String(i),
      MessageBody: asciiOnly(m.body),
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
