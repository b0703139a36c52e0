import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { FanOutEvent } from '../../shared/usecases/fan-out.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

/** Events queue -> one delivery per matching webhook -> deliveries queue. */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('fanout', overrides);
  const fanOut = new FanOutEvent({
    webhooks: w.webhooks,
    progress: w.events,
    deliveries: w.deliveries,
    queue: w.deliveryQueue,
    clock: w.clock,
  });
  const processRecord = async (record: SQSRecord) => {
    const event = JSON.parse(record.body) as PublishedEvent;
    const queued = await fanOut.execute(event);
    w.logger.debug('fanned out', { event_id: event.id, deliveries: queued });
  };
  // A processor per invocation: it holds the batch's state, and the one-machine runtime invokes
  // a handler concurrently (Lambda never does).
  return middy<SQSEvent, SQSBatchResponse, Error, Context>().handler((event, context) =>
    processPartialResponse(event, processRecord, new BatchProcessor(EventType.SQS), { context }),
  );
}

export const handler = lazyHandler(() => createHandler());
