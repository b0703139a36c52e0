import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processLogged } from '../../shared/compose/queue-records.ts';
import { functionBase, type BaseOverrides } from '../../shared/compose/function-base.ts';
import type { QueuedEvent } from '../../shared/domain/events.ts';
import { memoizePages } from '../../shared/usecases/batch-memo.ts';
import { FanOutEvent } from '../../shared/usecases/fan-out.ts';
import { EVENTS_QUEUE_LAG, QueueLagReporter, receivedOf, sentAtOf } from '../../shared/usecases/queue-lag.ts';

export type FanoutOverrides = BaseOverrides;

/** Events queue -> one delivery per matching webhook -> deliveries queue. */
export function composeFanout(o: FanoutOverrides = {}) {
  const f = functionBase('fanout', o);
  const local = f.local;
  const webhooks = f.aws.use(local?.webhooks ?? f.awsAdapter('webhookStore'), 'pages');
  // The batch's records run at once and each queues its own deliveries: 5 ms lets them share
  // SendMessageBatch calls (a request per delivery at fan-out 1 otherwise).
  const queue = f.aws.use(local?.deliveryQueue ?? f.awsAdapter('deliveryQueue', 5), 'enqueue');
  // Per invocation: the batch's events (often one publish, one tenant) list its webhooks once.
  const fanOutFor = () => new FanOutEvent({
    webhooks: memoizePages(webhooks),
    // One machine: delivery records and fan-out progress; on AWS the queues and the delivery log keep both.
    ...(local ? { progress: local.events, deliveries: local.deliveries } : {}),
    queue,
    clock: f.clock,
    firstDelaySeconds: f.settings.retryDelaysSeconds[0] ?? 0,
  });
  // One machine: how late the events taken are, so that its reconciler leaves events waiting in a
  // backlog alone (on AWS nothing re-queues events: their messages stay queued until fanned out).
  const lag = local && new QueueLagReporter(local.queueLag, (error) => f.logger.warn('could not record the events queue lag', error instanceof Error ? error : String(error)));
  const idsOf = (event: QueuedEvent) => ({ tenant_id: event.tenant_id, event_id: event.id });
  const processRecord = (fanOut: FanOutEvent, record: SQSRecord) =>
    processLogged(f.logger, 'events message failed; it is received again', record, idsOf, async (event: QueuedEvent) => {
      if (lag) {
        // From when its message was sent: the first send, or the reconciler's.
        const sentAt = sentAtOf(record.attributes?.SentTimestamp)?.getTime() ?? 0;
        lag.observe(EVENTS_QUEUE_LAG, new Date(Math.max(Date.parse(event.received_at), sentAt)), f.clock());
      }
      const queued = await fanOut.execute(event, (receivedOf(record.attributes).receiveCount ?? 1) > 1);
      f.logger.debug('fanned out', { event_id: event.id, deliveries: queued });
    });
  // A processor per invocation: it holds the batch's state, and the one-machine runtime invokes
  // a handler concurrently (Lambda never does).
  return f.composed(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const fanOut = fanOutFor();
    const response = await processPartialResponse(event, (record: SQSRecord) => processRecord(fanOut, record), new BatchProcessor(EventType.SQS), { context });
    await lag?.flush();
    return response;
  });
}
