import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { PublishedEvent } from '../../domain/events.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { DeliveryQueue } from '../../usecases/fan-out.ts';
import type { Clock } from '../../usecases/ports.ts';
import type { EventQueue } from '../../usecases/publish-events.ts';
import type { AwsAdapter, AwsCall, AwsCalls, QueueKey } from './aws-calls.ts';
import { MAX_SQS_MESSAGE_BYTES, sqsMessageBytes } from './sqs-messages.ts';
import { SqsQueue } from './sqs-queue.ts';

/** SendMessageBatch is authorized as sqs:SendMessage. */
const sendTo = (queue: QueueKey): AwsCall[] => [{ actions: ['sqs:SendMessage'], on: { kind: 'queue', queue } }];

/**
 * The events queue: each message carries the whole event, so the fan-out needs no read, and its
 * tenant as MessageGroupId (a fair queue: one tenant's flood does not hold up the others' events).
 */
export class SqsEventQueue implements EventQueue, AwsAdapter {
  readonly awsCalls: AwsCalls<SqsEventQueue> = { enqueue: sendTo('events'), fits: [] };
  private readonly queue: SqsQueue;
  constructor(client: SQSClient, url: string) {
    this.queue = new SqsQueue(client, url);
  }
  enqueue(events: readonly PublishedEvent[]): Promise<void> {
    return this.queue.sendMany(events.map((e) => ({ body: JSON.stringify(e), tenantId: e.tenant_id })));
  }

  fits(event: PublishedEvent): boolean {
    return sqsMessageBytes(JSON.stringify(event)) <= MAX_SQS_MESSAGE_BYTES;
  }
}

/** SQS holds a message back at most 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;

/**
 * The deliveries queue, also used as the retry timer for rungs SQS can hold back: a message due
 * later than 15 minutes carries `not_before` and is held back 15 minutes at a time (the
 * dispatcher sends it round again until it is due). Every message carries its tenant as
 * MessageGroupId, so the queue is a fair queue: a tenant whose endpoints hold many dispatchers
 * has its messages served after the other tenants'.
 */
export class SqsDeliveryQueue implements DeliveryQueue, RetryScheduler, AwsAdapter {
  readonly awsCalls: AwsCalls<SqsDeliveryQueue> = { enqueue: sendTo('deliveries'), schedule: sendTo('deliveries') };
  private readonly queue: SqsQueue;
  private readonly clock: Clock;
  /** `options.coalesceMs`: see SqsQueue (the fan-out's records share their sends). */
  constructor(client: SQSClient, url: string, clock: Clock, options: { coalesceMs?: number } = {}) {
    this.queue = new SqsQueue(client, url, options);
    this.clock = clock;
  }

  enqueue(messages: readonly DeliveryMessage[], delaySeconds = 0): Promise<void> {
    return this.queue.sendMany(messages.map((m) => ({ body: JSON.stringify(m), delaySeconds, tenantId: m.tenant_id })));
  }

  schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const seconds = Math.max(0, (at.getTime() - this.clock().getTime()) / 1000);
    const { not_before: _old, ...rest } = message;
    const body = seconds > MAX_SQS_DELAY_SECONDS ? { ...rest, not_before: at.toISOString() } : rest;
    return this.queue.sendMany([{ body: JSON.stringify(body), delaySeconds: Math.min(seconds, MAX_SQS_DELAY_SECONDS), tenantId: message.tenant_id }]);
  }
}
