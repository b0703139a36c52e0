import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { documentClient, sqsClient } from '../../shared/adapters/aws/clients.ts';
import { DynamoDeliveryStore } from '../../shared/adapters/aws/dynamo-delivery-store.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoQueueLag } from '../../shared/adapters/aws/dynamo-queue-lag.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { SqsDeliveryQueue } from '../../shared/adapters/aws/queues.ts';
import { functionBase, type BaseOverrides } from '../../shared/compose/function-base.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { FanOutEvent } from '../../shared/usecases/fan-out.ts';
import { EVENTS_QUEUE_LAG, QueueLagReporter, sentAtOf } from '../../shared/usecases/queue-lag.ts';

export type FanoutOverrides = BaseOverrides;

/** Events queue -> one delivery per matching webhook -> deliveries queue. */
export function composeFanout(o: FanoutOverrides = {}) {
  const f = functionBase('fanout', o);
  const { tables, queues, retentionDays } = f.settings;
  const fanOut = new FanOutEvent({
    webhooks: f.aws.use(f.local?.webhooks ?? new DynamoWebhookStore(documentClient(), tables.webhooks), 'pages'),
    progress: f.aws.use(f.local?.events ?? new DynamoEventStore(documentClient(), tables.events, retentionDays), 'finishFanout'),
    deliveries: f.aws.use(f.local?.deliveries ?? new DynamoDeliveryStore(documentClient(), tables.deliveries, retentionDays), 'createMany'),
    // The batch's records run at once and each queues its own deliveries: 5 ms lets them share
    // SendMessageBatch calls (a request per delivery at fan-out 1 otherwise).
    queue: f.aws.use(f.local?.deliveryQueue ?? new SqsDeliveryQueue(sqsClient(), queues.deliveries, f.clock, { coalesceMs: 5 }), 'enqueue'),
    clock: f.clock,
  });
  // How late the events taken are: the reconciler leaves events waiting in a backlog alone.
  const lag = new QueueLagReporter(f.aws.use(f.local?.queueLag ?? new DynamoQueueLag(documentClient(), tables.tenants), 'record'), (error) =>
    f.logger.warn('could not record the events queue lag', error instanceof Error ? error : String(error)),
  );
  const processRecord = async (record: SQSRecord) => {
    const event = JSON.parse(record.body) as PublishedEvent;
    // From when its message was sent: the first send, or the reconciler's.
    const sentAt = sentAtOf(record.attributes?.SentTimestamp)?.getTime() ?? 0;
    lag.observe(EVENTS_QUEUE_LAG, new Date(Math.max(Date.parse(event.received_at), sentAt)), f.clock());
    const queued = await fanOut.execute(event);
    f.logger.debug('fanned out', { event_id: event.id, deliveries: queued });
  };
  // A processor per invocation: it holds the batch's state, and the one-machine runtime invokes
  // a handler concurrently (Lambda never does).
  return f.composed(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(event, processRecord, new BatchProcessor(EventType.SQS), { context });
    await lag.flush();
    return response;
  });
}
