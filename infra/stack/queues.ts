/**
 * The two work queues (published events -> fan-out, deliveries -> dispatcher), their
 * dead-letter queues, the dead-letter queue of the retry schedules (EventBridge Scheduler puts
 * a retry there when it cannot send it to the deliveries queue), and an alarm on each
 * dead-letter queue (named `<alarmNamePrefix>-<queue id>`; the pipeline gives it its actions).
 */
import { MAX_SQS_MESSAGE_BYTES } from '../../shared/adapters/aws/sqs-messages.ts';
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** A record is retried by SQS this many times before it lands in the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/**
 * AWS's guidance for Lambda consumers: visibility timeout at least six times the function
 * timeout (plus the batching window), so that throttled or retried invocations do not make a
 * message visible again while a batch holding it is still being processed.
 */
export const VISIBILITY_FACTOR = 6;

export interface HooklineQueuesProps {
  /** Timeout of the fan-out function, which consumes the events queue. */
  readonly fanoutTimeout: Duration;
  readonly fanoutBatchingWindow: Duration;
  /** Timeout of the dispatcher, which consumes the deliveries queue. */
  readonly dispatcherTimeout: Duration;
  readonly dispatcherBatchingWindow: Duration;
  /** `<prefix>-EventsDLQ` etc. are the names of the dead-letter queue alarms. */
  readonly alarmNamePrefix: string;
}

export class HooklineQueues extends Construct {
  readonly eventsQueue: Queue;
  readonly eventsDlq: Queue;
  readonly deliveriesQueue: Queue;
  readonly deliveriesDlq: Queue;
  /** Dead-letter queue of the retry schedules (`DeadLetterConfig` of each schedule). */
  readonly schedulerDlq: Queue;
  readonly eventsDlqAlarm: Alarm;
  readonly deliveriesDlqAlarm: Alarm;
  readonly schedulerDlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: HooklineQueuesProps) {
    super(scope, id);
    this.eventsDlq = this.deadLetterQueue('EventsDLQ');
    this.eventsQueue = this.workQueue('EventsQueue', this.eventsDlq, props.fanoutTimeout, props.fanoutBatchingWindow);
    this.deliveriesDlq = this.deadLetterQueue('DeliveriesDLQ');
    this.deliveriesQueue = this.workQueue(
      'DeliveriesQueue',
      this.deliveriesDlq,
      props.dispatcherTimeout,
      props.dispatcherBatchingWindow,
    );
    this.schedulerDlq = this.deadLetterQueue('SchedulerDLQ');
    Validations.of(this.schedulerDlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'SchedulerDLQ is itself a dead-letter queue: the dispatcher names it as the DeadLetterConfig of every retry schedule it creates at runtime, which cdk-nag cannot see (there is no redrive policy in the template pointing at it). A dead-letter queue of a dead-letter queue would only move the problem; its alarm is the safety net.',
    });
    const afterReceives = `after ${MAX_RECEIVE_COUNT} receives`;
    this.eventsDlqAlarm = this.alarm(
      'EventsDLQAlarm',
      this.eventsDlq,
      `published events that fan-out gave up on ${afterReceives}`,
      props.alarmNamePrefix,
    );
    this.deliveriesDlqAlarm = this.alarm(
      'DeliveriesDLQAlarm',
      this.deliveriesDlq,
      `deliveries the dispatcher gave up on ${afterReceives}`,
      props.alarmNamePrefix,
    );
    this.schedulerDlqAlarm = this.alarm(
      'SchedulerDLQAlarm',
      this.schedulerDlq,
      'retries that EventBridge Scheduler could not send to the deliveries queue (move them to the deliveries queue to make the attempts)',
      props.alarmNamePrefix,
    );
  }

  private workQueue(id: string, dlq: Queue, consumerTimeout: Duration, batchingWindow: Duration): Queue {
    return new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(VISIBILITY_FACTOR * consumerTimeout.toSeconds() + batchingWindow.toSeconds()),
      retentionPeriod: Duration.days(4),
      // The events queue carries whole events: a 256 KiB body with much non-ASCII text can
      // exceed SQS's former 256 KiB limit once encoded. Ingest refuses (413) what would not fit.
      maxMessageSizeBytes: MAX_SQS_MESSAGE_BYTES,
      deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }

  private deadLetterQueue(id: string): Queue {
    // No AwsSolutions-SQS3 finding: cdk-nag sees that the queue is the target of a redrive policy.
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: time to find the cause and redrive before messages expire.
      retentionPeriod: Duration.days(14),
      // Whatever its queue takes, so a redrive never meets a smaller limit.
      maxMessageSizeBytes: MAX_SQS_MESSAGE_BYTES,
    });
    Validations.of(queue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `${id} is a dead-letter queue, read by nobody but an operator who inspects and redrives it: nothing consumes it, so nothing can fail on it; a dead-letter queue of a dead-letter queue would only move the problem. Its alarm fires on the first message.`,
    });
    return queue;
  }

  private alarm(id: string, dlq: Queue, what: string, namePrefix: string): Alarm {
    return new Alarm(this, id, {
      alarmName: `${namePrefix}-${id.replace(/Alarm$/, '')}`,
      alarmDescription: `Messages in ${id.replace(/Alarm$/, '')}: ${what}. Inspect and redrive them.`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
