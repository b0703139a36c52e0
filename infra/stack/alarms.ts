/**
 * The alarms of the pipeline, but for the dead-letter queue ones (queues.ts): the age of the oldest
 * message on both work queues, errors and throttles of every function, throttled requests of every
 * table, the API's 5xx rate, EventBridge Scheduler's failed and dropped retries, and, when email is
 * on, the account's SES bounce and complaint rates. Each is named `<alarmNamePrefix>-<id>`; the
 * pipeline points all of them at the alarm topic.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { ResolvedAlarmSettings } from './alarm-settings.ts';
import { FUNCTION_NAMES, constructId } from './functions.ts';
import type { FunctionName } from './functions.ts';
import type { HooklineQueues } from './queues.ts';

/** The period every alarm but the SES ones looks at. */
export const ALARM_PERIOD = Duration.minutes(5);
/** SES publishes its reputation rates a few times an hour. */
export const SES_PERIOD = Duration.minutes(15);
/** Below this many requests in a period the API's 5xx rate counts as 0 %: one error of three requests is no outage. */
export const API_MIN_REQUESTS = 10;

/** A fraction as a percentage without binary noise (0.07 -> "7"). */
const percent = (fraction: number): string => String(Number((fraction * 100).toPrecision(6)));

/** The account's SES reputation metrics (no dimension: they are the account's, in the region). */
export const sesReputation = (name: 'BounceRate' | 'ComplaintRate', period = SES_PERIOD): Metric =>
  new Metric({ namespace: 'AWS/SES', metricName: `Reputation.${name}`, statistic: 'Maximum', period });

/** Read and write throttle events of a table (its indexes' throttles show on the table too), summed. */
export function tableThrottles(table: Table, key: string, period = ALARM_PERIOD): MathExpression {
  const id = key.toLowerCase();
  return new MathExpression({
    expression: `r${id} + w${id}`,
    usingMetrics: {
      [`r${id}`]: table.metric('ReadThrottleEvents', { statistic: 'Sum', period }),
      [`w${id}`]: table.metric('WriteThrottleEvents', { statistic: 'Sum', period }),
    },
    label: `${key} throttles`,
    period,
  });
}

/** Percentage of the API's requests answered with a 5xx, 0 below API_MIN_REQUESTS requests. */
export function apiServerErrorRate(api: HttpApi, period = ALARM_PERIOD): MathExpression {
  return new MathExpression({
    expression: `IF(requests >= ${API_MIN_REQUESTS}, 100 * errors / requests, 0)`,
    usingMetrics: {
      errors: api.metricServerError({ statistic: 'Sum', period }),
      requests: api.metricCount({ statistic: 'Sum', period }),
    },
    label: '5xx rate (%)',
    period,
  });
}

export interface HooklineAlarmsProps {
  readonly settings: ResolvedAlarmSettings;
  /** `<prefix>-<id>` is each alarm's name. */
  readonly alarmNamePrefix: string;
  readonly queues: HooklineQueues;
  readonly functions: Record<FunctionName, IFunction>;
  /** Every table, each watched on its own. */
  readonly tables: readonly Table[];
  readonly httpApi: HttpApi;
  readonly scheduleGroup: ScheduleGroup;
  /** Whether the pipeline sends email (`senderEmail`): only then the SES reputation alarms. */
  readonly sendsEmail: boolean;
}

export class HooklineAlarms extends Construct {
  /** Every alarm of this construct, by construct id (also the alarm name's suffix). */
  readonly byId: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: HooklineAlarmsProps) {
    super(scope, id);
    const s = props.settings;
    const q = props.queues;
    const add = (alarmId: string, metric: IMetric, threshold: number, description: string) => {
      this.byId[alarmId] = new Alarm(this, alarmId, {
        alarmName: `${props.alarmNamePrefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    };
    const age = (queue: typeof q.eventsQueue) => queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: ALARM_PERIOD });

    add(
      'EventsQueueAge',
      age(q.eventsQueue),
      s.eventsQueueAgeThreshold.toSeconds(),
      `A published event has waited ${s.eventsQueueAgeThreshold.toHumanString()} for fan-out: fan-out is failing, throttled or too slow, and no delivery starts.`,
    );
    add(
      'DeliveriesQueueAge',
      age(q.deliveriesQueue),
      s.deliveriesQueueAgeThreshold.toSeconds(),
      `A delivery has waited ${s.deliveriesQueueAgeThreshold.toHumanString()} on the deliveries queue: the dispatcher is failing, throttled or capped (dispatcherMaxConcurrency) below the load.`,
    );

    for (const name of FUNCTION_NAMES) {
      const fn = props.functions[name];
      const cid = constructId(name);
      add(
        `${cid}Errors`,
        fn.metricErrors({ statistic: 'Sum', period: ALARM_PERIOD }),
        s.functionErrorsThreshold,
        `The ${name} function failed ${s.functionErrorsThreshold} or more invocations in five minutes. Read its log group.`,
      );
      add(
        `${cid}Throttles`,
        fn.metricThrottles({ statistic: 'Sum', period: ALARM_PERIOD }),
        s.functionThrottlesThreshold,
        `Lambda throttled ${s.functionThrottlesThreshold} or more ${name} invocations in five minutes: the account's concurrency is exhausted.`,
      );
    }

    for (const table of props.tables) {
      add(
        `${table.node.id}Throttles`,
        tableThrottles(table, table.node.id),
        s.tableThrottlesThreshold,
        `DynamoDB throttled ${s.tableThrottlesThreshold} or more requests to the ${table.node.id} table in five minutes (a hot key or a burst past twice the previous peak).`,
      );
    }

    add(
      'ApiServerErrors',
      apiServerErrorRate(props.httpApi),
      s.apiServerErrorRateThreshold,
      `${s.apiServerErrorRateThreshold} % or more of the API's requests were answered with a 5xx in five minutes (with at least ${API_MIN_REQUESTS} requests).`,
    );

    const group = props.scheduleGroup;
    add(
      'SchedulerTargetErrors',
      group.metricTargetErrors({ statistic: 'Sum', period: ALARM_PERIOD }),
      s.schedulerTargetErrorsThreshold,
      'EventBridge Scheduler failed to send due retries to the deliveries queue (after its own retries they go to SchedulerDLQ: move them to the deliveries queue, see the runbook).',
    );
    add(
      'SchedulerDropped',
      new MathExpression({
        expression: 'dropped + undeliverable',
        usingMetrics: {
          dropped: group.metricDropped({ statistic: 'Sum', period: ALARM_PERIOD }),
          undeliverable: group.metricFailedToBeSentToDLQ(undefined, { statistic: 'Sum', period: ALARM_PERIOD }),
        },
        label: 'retries dropped',
        period: ALARM_PERIOD,
      }),
      1,
      'EventBridge Scheduler dropped due retries, or could not put them in SchedulerDLQ: those deliveries stay pending without a next attempt (a manual retry answers 409; see the runbook).',
    );

    if (props.sendsEmail) {
      add(
        'SesBounceRate',
        sesReputation('BounceRate'),
        s.sesBounceRateThreshold,
        `The account's SES bounce rate reached ${percent(s.sesBounceRateThreshold)} % (SES reviews an account at 5 % and may pause its sending at 10 %): owner addresses bounce.`,
      );
      add(
        'SesComplaintRate',
        sesReputation('ComplaintRate'),
        s.sesComplaintRateThreshold,
        `The account's SES complaint rate reached ${percent(s.sesComplaintRateThreshold)} % (SES reviews an account at 0.1 % and may pause its sending at 0.5 %).`,
      );
    }
  }
}
