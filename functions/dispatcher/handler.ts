import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';
import { retryScheduler, webhookHealth } from '../../shared/dispatcher-wiring.ts';
import { memoizeGets } from '../../shared/usecases/batch-memo.ts';
import { DispatchDelivery } from '../../shared/usecases/dispatch.ts';
import { DeliverySlots } from '../../shared/usecases/webhook-slots.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

/**
 * Deliveries queue -> one signed POST per message, the batch's records concurrently. A failed
 * attempt is a logged result; only infrastructure faults become `batchItemFailures`.
 */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('dispatcher', overrides);
  // Shared by concurrent invocations (the one-machine runtime's; Lambda runs one at a time).
  const slots = new DeliverySlots({ perWebhook: w.settings.maxConcurrentPerWebhook, perTenant: w.settings.maxConcurrentPerTenant });
  const dispatchFor = () => new DispatchDelivery({
    deliveries: w.deliveries,
    webhooks: memoizeGets(w.webhooks),
    events: memoizeGets(w.events),
    credentials: w.credentials,
    attempts: w.attempts,
    sender: w.attemptSender,
    retries: retryScheduler(w),
    health: webhookHealth(w),
    slots,
    clock: w.clock,
    settings: {
      ...w.outbound,
      retryDelaysSeconds: w.settings.retryDelaysSeconds,
      ...(overrides.claimsStaleBefore ? { claimsStaleBefore: overrides.claimsStaleBefore } : {}),
    },
  });
  const processRecord = async (dispatch: DispatchDelivery, record: SQSRecord) => {
    const message = JSON.parse(record.body) as DeliveryMessage;
    const result = await dispatch.execute(message);
    if (result.kind === 'retrying' || result.kind === 'failed') {
      w.logger.info('delivery attempt failed', { delivery_id: message.delivery_id, attempt: message.attempt, outcome: result.kind, error: result.error });
    }
  };
  // Per invocation: a memo of reads for this batch, and a processor (it holds the batch's state;
  // the one-machine runtime invokes a handler concurrently, Lambda never does).
  return middy<SQSEvent, SQSBatchResponse, Error, Context>().handler((event, context) => {
    const dispatch = dispatchFor();
    return processPartialResponse(event, (record: SQSRecord) => processRecord(dispatch, record), new BatchProcessor(EventType.SQS), { context });
  });
}

export const handler = lazyHandler(() => createHandler());
