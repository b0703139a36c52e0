import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EmfMetrics } from '../../shared/adapters/aws/emf-metrics.ts';
import { LadderRetryScheduler } from '../../shared/adapters/aws/ladder-retry-scheduler.ts';
import { catalogueFromEnv } from '../../shared/compose/catalogue.ts';
import { credentialsCache } from '../../shared/compose/credentials.ts';
import { processLogged } from '../../shared/compose/queue-records.ts';
import { functionBase, type BaseOverrides, type FunctionBase } from '../../shared/compose/function-base.ts';
import { emailDeps, emailQuotaStore, type MailOverrides } from '../../shared/compose/mail.ts';
import type { AwsAdapterOf } from '../../shared/compose/aws-kit.ts';
import type { LocalAdapters } from '../../shared/compose/local-adapters.ts';
import { outbound, type OutboundOverrides } from '../../shared/compose/outbound.ts';
import { FUNCTION_ENV } from '../../shared/config.ts';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';
import { cacheGets, memoizeGets } from '../../shared/usecases/batch-memo.ts';
import { DispatchDelivery, type DispatchSlots, type RetryScheduler } from '../../shared/usecases/dispatch.ts';
import type { SecretReader } from '../../shared/usecases/ports.ts';
import { DeliveryLag, QueueLagReporter, receivedOf } from '../../shared/usecases/queue-lag.ts';
import { WebhookHealth } from '../../shared/usecases/webhook-health.ts';
import { DeliverySlots, SharedWebhookSlots } from '../../shared/usecases/webhook-slots.ts';

export interface DispatcherOverrides extends BaseOverrides, OutboundOverrides, MailOverrides {
  /** One machine: signing secrets in files instead of Secrets Manager. */
  readonly secrets?: SecretReader;
  /** One machine: an in-process timer instead of SQS delays and EventBridge Scheduler. */
  readonly retries?: RetryScheduler;
  /** See DispatchSettings.claimsStaleBefore: the one-machine runtime's start time. */
  readonly claimsStaleBefore?: Date;
  /** One machine: this process is the only dispatcher, so its own slots are the whole truth (no lease). */
  readonly inProcessSlots?: boolean;
}

/** How long a dispatcher container keeps a webhook's item (see cacheGets). */
const WEBHOOK_CACHE_MS = 1_000;

/** One machine: how long an attempt waits for its webhook's or tenant's slot before it goes round the queue. */
const IN_PROCESS_SLOT_WAIT_MS = 250;

/**
 * The per-webhook and per-tenant limits: in this process, and on AWS, where containers are many,
 * with a DynamoDB lease per webhook besides (see SharedWebhookSlots for when it is taken). Shared
 * by concurrent invocations (the one-machine runtime's; Lambda runs one at a time).
 */
function dispatchSlots(f: FunctionBase, o: DispatcherOverrides): DispatchSlots {
  const limits = { perWebhook: f.settings.maxConcurrentPerWebhook, perTenant: f.settings.maxConcurrentPerTenant };
  if (o.inProcessSlots) return new DeliverySlots({ ...limits, waitMs: IN_PROCESS_SLOT_WAIT_MS });
  const leases = f.aws.use(f.awsAdapter('webhookLeases'), 'take', 'drop');
  return new SharedWebhookSlots(leases, {
    ...limits,
    // An OAuth2 webhook's attempt may fetch a token, post, fetch another and post again.
    attemptMaxMs: 4 * f.settings.requestTimeoutMs,
    clock: f.clock,
    onError: (message, error) => f.logger.warn(message, error instanceof Error ? error : String(error)),
  });
}

/** SQS delays for short rungs, EventBridge Scheduler (when the stack gives a schedule group) for long ones. */
function retryScheduler(f: FunctionBase, queue: AwsAdapterOf<'deliveryQueue'>): RetryScheduler {
  const group = f.env[FUNCTION_ENV.scheduleGroup];
  const scheduler = group
    ? f.awsAdapter('retryTimer', {
        groupName: group,
        roleArn: f.env[FUNCTION_ENV.schedulerRoleArn] ?? '',
        queueArn: f.env[FUNCTION_ENV.schedulerTargetArn] ?? '',
        deadLetterQueueArn: f.env[FUNCTION_ENV.schedulerDlqArn] ?? '',
      })
    : undefined;
  return new LadderRetryScheduler(f.aws.use(queue, 'schedule'), scheduler && f.aws.use(scheduler, 'schedule'), f.clock);
}

/**
 * Deliveries queue -> one signed POST per message, the batch's records concurrently. A failed
 * attempt is a logged result; only infrastructure faults become `batchItemFailures`.
 */
export function composeDispatcher(o: DispatcherOverrides = {}) {
  const f = functionBase('dispatcher', o);
  const local = f.local;
  const webhookStore: LocalAdapters['webhooks'] = local?.webhooks ?? f.awsAdapter('webhookStore');
  const tenantStore: LocalAdapters['tenants'] = local?.tenants ?? f.awsAdapter('tenantStore');
  // On AWS the delivery log is the deliveries' state: one conditional put per attempt. One
  // machine: delivery records, and the log entry and the completion in one transaction.
  const store = local
    ? { deliveries: local.deliveries, outcomes: local.outcomes }
    : ((log) => ({ deliveries: log, outcomes: f.aws.use(log, 'recordOutcome') }))(f.awsAdapter('deliveryLog'));
  const deliveries = f.aws.use(store.deliveries, 'claim', 'complete', 'get', 'settleFollowUp');
  const { outcomes } = store;
  const webhooks = f.aws.use(webhookStore, 'get');
  // A manual attempt's event (the others come in their messages).
  const events = f.aws.use(local?.events ?? f.awsAdapter('eventStore'), 'get');
  // Each tenant's secret, kept for up to an hour per container and read again when a webhook's credentials change.
  const credentials = credentialsCache(f, o.secrets);
  // The batch's records end at about the same time when an endpoint is down: 20 ms lets their
  // next rungs share SendMessageBatch calls.
  const retries = o.retries ?? local?.deliveryQueue ?? retryScheduler(f, f.awsAdapter('deliveryQueue', 20));
  const catalogue = catalogueFromEnv(f.env);
  const out = outbound(f, catalogue, o);
  const metrics = f.metrics(() => new EmfMetrics(f.logger));
  const health = new WebhookHealth({
    webhooks: f.aws.use(webhookStore, 'transitionStatus', 'claimEmail', 'keepUnsent'),
    ...emailDeps(f, o, tenantStore, metrics),
    quota: f.aws.use(emailQuotaStore(f), 'take'),
  });
  const slots = dispatchSlots(f, o);
  // One machine: how late the attempts taken are, so that its reconciler leaves work waiting in
  // a backlog alone (on AWS nothing re-queues deliveries: each message stays until its next step is queued).
  const lag = local && new QueueLagReporter(local.queueLag, (error) => f.logger.warn('could not record a queue lag', error instanceof Error ? error : String(error)));
  // On AWS every batch of every container reads its webhooks: kept a second per container (at
  // fan-out 5 that was most of a busy tenant's reads on its key). One machine: per batch, so a
  // change applies to the next batch.
  const containerWebhooks = local ? undefined : cacheGets(webhooks, WEBHOOK_CACHE_MS);
  const dispatchFor = () =>
    new DispatchDelivery({
      deliveries,
      webhooks: containerWebhooks ?? memoizeGets(webhooks),
      events: memoizeGets(events),
      credentials,
      outcomes,
      sender: out.attemptSender,
      retries,
      health,
      slots,
      ...(lag ? { lag: new DeliveryLag(lag) } : {}),
      metrics,
      clock: f.clock,
      settings: {
        ...out.settings,
        retryDelaysSeconds: f.settings.retryDelaysSeconds,
        failingRequestTimeoutMs: f.settings.failingRequestTimeoutMs,
        ...(o.claimsStaleBefore ? { claimsStaleBefore: o.claimsStaleBefore } : {}),
      },
    });
  const idsOf = (message: DeliveryMessage) => ({ delivery_id: message.delivery_id, attempt: message.attempt });
  const processRecord = (dispatch: DispatchDelivery, record: SQSRecord) =>
    processLogged(f.logger, 'delivery message failed; it is received again', record, idsOf, async (message: DeliveryMessage) => {
      const result = await dispatch.execute(message, receivedOf(record.attributes));
      // Debug: every failed attempt is in the delivery log and the AttemptsFailed metric already,
      // and a line each would be a third of what a failed attempt costs.
      if (result.kind === 'retrying' || result.kind === 'failed') {
        f.logger.debug('delivery attempt failed', { ...idsOf(message), outcome: result.kind, error: result.error });
      }
    });
  // Per invocation: a memo of reads for this batch, and a processor (it holds the batch's state;
  // the one-machine runtime invokes a handler concurrently, Lambda never does).
  const composed = f.composed(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const dispatch = dispatchFor();
    const response = await processPartialResponse(event, (record: SQSRecord) => processRecord(dispatch, record), new BatchProcessor(EventType.SQS), { context });
    await lag?.flush();
    return response;
  });
  // One machine: how many received attempts wait for a slot, so that its queue poller takes no
  // more messages than the slots can start soon (see infra/local/runtime.ts). On Lambda none
  // waits in the container: SharedWebhookSlots refuses at once.
  const inProcess = slots instanceof DeliverySlots ? slots : undefined;
  return { ...composed, waitingForSlots: () => inProcess?.waiting() ?? 0 };
}
