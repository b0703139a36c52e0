/**
 * The alarm props of the Hookline pipeline: who is told, and when. Each alarm looks at one
 * five-minute period (SES reputation: fifteen minutes) and fires when its metric reaches the
 * threshold; a period without data is not a breach. Part of HooklineSettings (settings.ts resolves
 * and validates them with the others).
 */
import { Duration, Token } from 'aws-cdk-lib';
import { EMAIL_SHAPE } from '../../shared/config.ts';

export interface HooklineAlarmSettings {
  /**
   * Email address subscribed to the alarm topic (SNS sends it a confirmation link first). Works
   * with a topic of the pipeline's own as well as with `alarmTopic` / `alarmTopicArn`.
   * @default - no subscription: subscribe someone to `alarmTopic` yourself
   */
  readonly alarmEmail?: string;
  /**
   * Whether an alarm also notifies the topic when it returns to OK.
   * @default true
   */
  readonly alarmOkActions?: boolean;
  /**
   * Age of the oldest message on the events queue (published events waiting for fan-out) at
   * which `EventsQueueAgeAlarm` fires. Fan-out normally takes them within seconds.
   * @default Duration.minutes(5)
   */
  readonly eventsQueueAgeThreshold?: Duration;
  /**
   * Age of the oldest message on the deliveries queue at which `DeliveriesQueueAgeAlarm` fires.
   * Above the longest SQS delay of a retry (15 minutes) and a few redeliveries of a failed batch.
   * @default Duration.minutes(30)
   */
  readonly deliveriesQueueAgeThreshold?: Duration;
  /**
   * Errors of one function in five minutes at which its `<Function>ErrorsAlarm` fires (an
   * error is an invocation that failed as a whole, not a failed delivery attempt).
   * @default 5
   */
  readonly functionErrorsThreshold?: number;
  /**
   * Throttled invocations of one function in five minutes at which its `<Function>ThrottlesAlarm`
   * fires: the account's (or the function's) concurrency is exhausted.
   * @default 1
   */
  readonly functionThrottlesThreshold?: number;
  /**
   * Read and write throttle events of one table (its indexes included) in five minutes at which
   * its `<Table>ThrottlesAlarm` fires. The SDK retries a throttled request, so a few are absorbed.
   * @default 10
   */
  readonly tableThrottlesThreshold?: number;
  /**
   * Percentage of API requests answered with a 5xx in five minutes at which `ApiServerErrorsAlarm`
   * fires; periods with fewer than 10 requests count as 0 %.
   * @default 1
   */
  readonly apiServerErrorRateThreshold?: number;
  /**
   * Failed attempts of EventBridge Scheduler to send a due retry to the deliveries queue, in five
   * minutes, at which `SchedulerTargetErrorsAlarm` fires.
   * @default 1
   */
  readonly schedulerTargetErrorsThreshold?: number;
  /**
   * The account's SES bounce rate (a fraction: 0.05 is 5 %) at which `SesBounceRateAlarm` fires.
   * SES puts an account under review at 5 % and may pause its sending at 10 %. Only with
   * `senderEmail`.
   * @default 0.05
   */
  readonly sesBounceRateThreshold?: number;
  /**
   * The account's SES complaint rate (a fraction: 0.001 is 0.1 %) at which `SesComplaintRateAlarm`
   * fires. SES puts an account under review at 0.1 % and may pause its sending at 0.5 %. Only with
   * `senderEmail`.
   * @default 0.001
   */
  readonly sesComplaintRateThreshold?: number;
}

/** The alarm settings with every default applied. */
export interface ResolvedAlarmSettings {
  readonly alarmEmail?: string;
  readonly alarmOkActions: boolean;
  readonly eventsQueueAgeThreshold: Duration;
  readonly deliveriesQueueAgeThreshold: Duration;
  readonly functionErrorsThreshold: number;
  readonly functionThrottlesThreshold: number;
  readonly tableThrottlesThreshold: number;
  readonly apiServerErrorRateThreshold: number;
  readonly schedulerTargetErrorsThreshold: number;
  readonly sesBounceRateThreshold: number;
  readonly sesComplaintRateThreshold: number;
}

/** Applies the defaults and returns the problems of the values, if any (settings.ts fails the synth with them). */
export function resolveAlarmSettings(props: HooklineAlarmSettings): { settings: ResolvedAlarmSettings; problems: string[] } {
  const settings: ResolvedAlarmSettings = {
    alarmEmail: props.alarmEmail || undefined,
    alarmOkActions: props.alarmOkActions ?? true,
    eventsQueueAgeThreshold: props.eventsQueueAgeThreshold ?? Duration.minutes(5),
    deliveriesQueueAgeThreshold: props.deliveriesQueueAgeThreshold ?? Duration.minutes(30),
    functionErrorsThreshold: props.functionErrorsThreshold ?? 5,
    functionThrottlesThreshold: props.functionThrottlesThreshold ?? 1,
    tableThrottlesThreshold: props.tableThrottlesThreshold ?? 10,
    apiServerErrorRateThreshold: props.apiServerErrorRateThreshold ?? 1,
    schedulerTargetErrorsThreshold: props.schedulerTargetErrorsThreshold ?? 1,
    sesBounceRateThreshold: props.sesBounceRateThreshold ?? 0.05,
    sesComplaintRateThreshold: props.sesComplaintRateThreshold ?? 0.001,
  };
  const problems: string[] = [];
  const s = settings;
  if (s.alarmEmail !== undefined && !Token.isUnresolved(s.alarmEmail) && !EMAIL_SHAPE.test(s.alarmEmail)) {
    problems.push('alarmEmail is not an email address');
  }
  for (const [name, age] of [
    ['eventsQueueAgeThreshold', s.eventsQueueAgeThreshold],
    ['deliveriesQueueAgeThreshold', s.deliveriesQueueAgeThreshold],
  ] as const) {
    if (age.toSeconds() < 60) problems.push(`${name} must be at least a minute (SQS reports the age once a minute)`);
  }
  for (const [name, count] of [
    ['functionErrorsThreshold', s.functionErrorsThreshold],
    ['functionThrottlesThreshold', s.functionThrottlesThreshold],
    ['tableThrottlesThreshold', s.tableThrottlesThreshold],
    ['schedulerTargetErrorsThreshold', s.schedulerTargetErrorsThreshold],
  ] as const) {
    if (!Number.isInteger(count) || count < 1) problems.push(`${name} must be a positive integer (a count in five minutes)`);
  }
  if (!(s.apiServerErrorRateThreshold > 0 && s.apiServerErrorRateThreshold <= 100)) {
    problems.push('apiServerErrorRateThreshold must be a percentage above 0 and at most 100');
  }
  for (const [name, rate] of [
    ['sesBounceRateThreshold', s.sesBounceRateThreshold],
    ['sesComplaintRateThreshold', s.sesComplaintRateThreshold],
  ] as const) {
    if (!(rate > 0 && rate < 1)) problems.push(`${name} must be a fraction between 0 and 1 (0.05 is 5 %)`);
  }
  return { settings, problems };
}
