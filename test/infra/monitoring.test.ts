/**
 * What watches the pipeline: the alarm topic and who it reaches, every alarm and its threshold,
 * the dashboard, the SES identity and the synth warnings about email. Two stacks of one app:
 * `quiet` with the defaults (no email), `mail` with email on and an alarm subscription.
 */
import { App, Annotations as CdkAnnotations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ATTEMPT_OUTCOMES, METRIC, METRICS_NAMESPACE, OUTCOME_DIMENSION } from '../../shared/domain/metric-names.ts';
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import { FUNCTION_NAMES, constructId } from '../../infra/stack/functions.ts';
import { PIPELINE_WARNINGS } from '../../infra/stack/hookline-pipeline.ts';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { TEMPLATE_ONLY, flatten, logicalId } from './helpers.ts';

let quiet: HooklineStack;
let mail: HooklineStack;
let template: Template;
let mailTemplate: Template;

beforeAll(() => {
  const app = new App(TEMPLATE_ONLY);
  const env = { account: '123456789012', region: 'eu-west-1' };
  quiet = new HooklineStack(app, 'HooklineMon', { env });
  mail = new HooklineStack(app, 'HooklineMail', {
    env,
    senderEmail: 'hooks@example.com',
    createEmailIdentity: true,
    publicUrl: 'https://hooks.example.com',
    alarmEmail: 'oncall@example.com',
  });
  template = Template.fromStack(quiet);
  mailTemplate = Template.fromStack(mail);
});

const alarmNamed = (t: Template, name: string) => {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect({ name, found: found.length }).toEqual({ name, found: 1 });
  return found[0]!.Properties;
};
const ref = (construct: Parameters<typeof logicalId>[1]) => ({ Ref: logicalId(quiet, construct) });
const attr = (construct: Parameters<typeof logicalId>[1], attribute: string) => ({ 'Fn::GetAtt': [logicalId(quiet, construct), attribute] });

/** `namespace name dim=value ...` of every metric a metric-math alarm reads. */
const mathMetrics = (alarm: { Metrics: { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] } } }[] }) =>
  alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])).map((m) =>
    [m.Namespace, m.MetricName, ...(m.Dimensions ?? []).map((d) => `${d.Name}=${flatten(d.Value)}`)].join(' '),
  );

describe('alarm topic', () => {
  it('is created when none is given: TLS-only, and open to CloudWatch alarms of this account alone', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(quiet.pipeline.alarmTopic.node.id).toBe('AlarmTopic');
    const statements = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0]!.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const cloudwatch = statements.find((s: { Sid?: string }) => s.Sid === 'CloudWatchAlarmsPublish');
    expect(cloudwatch).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' });
    expect(cloudwatch.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '123456789012' });
    expect(flatten(cloudwatch.Condition.ArnLike['aws:SourceArn'])).toBe('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*');
  });

  it('gets every alarm and its return to OK', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    // 3 dead-letter queues, 2 queue ages, 7 functions x (errors, throttles), 5 tables, API, Scheduler x 2.
    expect(alarms).toHaveLength(3 + 2 + 2 * FUNCTION_NAMES.length + Object.keys(TABLES).length + 1 + 2);
    expect(alarms).toHaveLength(quiet.pipeline.alarms.length);
    const topic = ref(quiet.pipeline.alarmTopic);
    for (const [id, alarm] of alarms) {
      expect({ id, alarm: alarm.Properties.AlarmActions, ok: alarm.Properties.OKActions }).toEqual({ id, alarm: [topic], ok: [topic] });
      expect({ id, missing: alarm.Properties.TreatMissingData }).toEqual({ id, missing: 'notBreaching' });
    }
  });

  it('emails alarmEmail, when given', () => {
    mailTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: logicalId(mail, mail.pipeline.alarmTopic) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('alarms', () => {
  it('on the age of the oldest message of both work queues', () => {
    for (const [name, queue, seconds] of [
      ['HooklineMon-EventsQueueAge', quiet.pipeline.eventsQueue, 5 * 60],
      ['HooklineMon-DeliveriesQueueAge', quiet.pipeline.deliveriesQueue, 30 * 60],
    ] as const) {
      expect(alarmNamed(template, name)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Statistic: 'Maximum',
        Dimensions: [{ Name: 'QueueName', Value: attr(queue, 'QueueName') }],
        Threshold: seconds,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it.each(FUNCTION_NAMES)('on errors and throttles of the %s function', (name) => {
    const fn = ref(quiet.pipeline.functions.byName[name]);
    for (const [metric, threshold] of [
      ['Errors', 5],
      ['Throttles', 1],
    ] as const) {
      expect(alarmNamed(template, `HooklineMon-${constructId(name)}${metric}`)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Statistic: 'Sum',
        Period: 300,
        Dimensions: [{ Name: 'FunctionName', Value: fn }],
        Threshold: threshold,
      });
    }
  });

  it.each(Object.values(TABLES).map((t) => t.id))('on throttled reads and writes of the %s table', (id) => {
    const alarm = alarmNamed(template, `HooklineMon-${id}Throttles`);
    const table = logicalId(quiet, quiet.pipeline.tables.list.find((t) => t.node.id === id)!);
    expect(mathMetrics(alarm).sort()).toEqual([`AWS/DynamoDB ReadThrottleEvents TableName=<${table}>`, `AWS/DynamoDB WriteThrottleEvents TableName=<${table}>`]);
    expect(alarm.Threshold).toBe(10);
  });

  it("on the API's 5xx rate, once there are requests enough for a rate", () => {
    const alarm = alarmNamed(template, 'HooklineMon-ApiServerErrors');
    const api = logicalId(quiet, quiet.pipeline.api.httpApi);
    expect(mathMetrics(alarm).sort()).toEqual([`AWS/ApiGateway 5xx ApiId=<${api}>`, `AWS/ApiGateway Count ApiId=<${api}>`]);
    expect(alarm.Metrics.find((m: { Expression?: string }) => m.Expression)?.Expression).toBe('IF(requests >= 10, 100 * errors / requests, 0)');
    expect(alarm.Threshold).toBe(1);
  });

  it('on retries EventBridge Scheduler failed to send, dead-lettered or dropped', () => {
    const group = 'HooklineMon-retries';
    expect(alarmNamed(template, 'HooklineMon-SchedulerTargetErrors')).toMatchObject({
      Namespace: 'AWS/Scheduler',
      MetricName: 'TargetErrorCount',
      Dimensions: [{ Name: 'ScheduleGroup', Value: group }],
      Threshold: 1,
    });
    expect(mathMetrics(alarmNamed(template, 'HooklineMon-SchedulerDropped')).sort()).toEqual([
      `AWS/Scheduler InvocationDroppedCount ScheduleGroup=${group}`,
      `AWS/Scheduler InvocationsFailedToBeSentToDeadLetterCount ScheduleGroup=${group}`,
    ]);
    // Dead-letter sends: any message in SchedulerDLQ.
    expect(alarmNamed(template, 'HooklineMon-SchedulerDLQ')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: attr(quiet.pipeline.queues.schedulerDlq, 'QueueName') }],
      Threshold: 0,
    });
  });

  it("on the account's SES bounce and complaint rates, when the pipeline sends email", () => {
    expect(alarmNamed(mailTemplate, 'HooklineMail-SesBounceRate')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.BounceRate', Threshold: 0.05 });
    expect(alarmNamed(mailTemplate, 'HooklineMail-SesComplaintRate')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.ComplaintRate', Threshold: 0.001 });
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SES' } }))).toEqual([]);
  });
});

describe('dashboard', () => {
  type Widget = { type: string; properties: { title?: string; alarms?: string[]; metrics?: unknown[][] } };
  let widgets: Widget[];
  /** `namespace name dim=value ...` of every metric the dashboard graphs. */
  let graphed: Set<string>;

  beforeAll(() => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toHaveLength(1);
    expect(dashboard[0]!.Properties.DashboardName).toBe('HooklineMon');
    widgets = (JSON.parse(flatten(dashboard[0]!.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
    graphed = new Set(
      widgets.flatMap((w) => w.properties.metrics ?? []).flatMap((row) => {
        const parts = row.filter((p): p is string => typeof p === 'string');
        return parts.length >= 2 ? [[parts[0], parts[1], ...parts.slice(2).map((p, i, all) => (i % 2 === 0 ? `${p}=${all[i + 1]}` : '')).filter(Boolean)].join(' ')] : [];
      }),
    );
  });

  it('starts with the state of every alarm', () => {
    const alarms = widgets.find((w) => w.type === 'alarm')!.properties.alarms!;
    expect(alarms.sort()).toEqual(quiet.pipeline.alarms.map((a) => `<${logicalId(quiet, a)}.Arn>`).sort());
  });

  it('shows the business metrics without a dimension, and failed attempts by outcome too', () => {
    for (const name of Object.values(METRIC)) expect(graphed).toContain(`${METRICS_NAMESPACE} ${name}`);
    for (const outcome of ATTEMPT_OUTCOMES) expect(graphed).toContain(`${METRICS_NAMESPACE} ${METRIC.attemptsFailed} ${OUTCOME_DIMENSION}=${outcome}`);
    expect([...graphed].filter((g) => g.startsWith(`${METRICS_NAMESPACE} `))).toHaveLength(Object.keys(METRIC).length + ATTEMPT_OUTCOMES.length);
  });

  it('shows queue depth and the age of the oldest message, and the dead-letter queues', () => {
    const q = quiet.pipeline.queues;
    const name = (queue: typeof q.eventsQueue) => `QueueName=<${logicalId(quiet, queue)}.QueueName>`;
    for (const queue of [q.eventsQueue, q.deliveriesQueue]) {
      expect(graphed).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible ${name(queue)}`);
      expect(graphed).toContain(`AWS/SQS ApproximateAgeOfOldestMessage ${name(queue)}`);
    }
    for (const dlq of [q.eventsDlq, q.deliveriesDlq, q.schedulerDlq]) expect(graphed).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible ${name(dlq)}`);
  });

  it('shows errors, throttles, duration and concurrency of every function', () => {
    for (const name of FUNCTION_NAMES) {
      const fn = `FunctionName=<${logicalId(quiet, quiet.pipeline.functions.byName[name])}>`;
      for (const metric of ['Errors', 'Throttles', 'Duration', 'ConcurrentExecutions']) expect(graphed).toContain(`AWS/Lambda ${metric} ${fn}`);
    }
  });

  it('shows DynamoDB throttles, API errors and latency, Scheduler target errors and SES bounces', () => {
    for (const table of quiet.pipeline.tables.list) {
      expect(graphed).toContain(`AWS/DynamoDB ReadThrottleEvents TableName=<${logicalId(quiet, table)}>`);
      expect(graphed).toContain(`AWS/DynamoDB WriteThrottleEvents TableName=<${logicalId(quiet, table)}>`);
    }
    const api = `ApiId=<${logicalId(quiet, quiet.pipeline.api.httpApi)}>`;
    for (const metric of ['4xx', '5xx', 'Latency', 'Count']) expect(graphed).toContain(`AWS/ApiGateway ${metric} ${api}`);
    expect(graphed).toContain('AWS/Scheduler TargetErrorCount ScheduleGroup=HooklineMon-retries');
    expect(graphed).toContain('AWS/SES Reputation.BounceRate');
    expect(graphed).toContain('AWS/SES Reputation.ComplaintRate');
  });
});

describe('email on a first deploy', () => {
  it('creates the SES identity of senderEmail when asked, and none otherwise', () => {
    mailTemplate.resourceCountIs('AWS::SES::EmailIdentity', 1);
    mailTemplate.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'hooks@example.com' });
    expect(mail.pipeline.emailIdentity?.node.id).toBe('EmailIdentity');
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });

  it('warns at synth when senderEmail or publicUrl is empty, and not when both are set', () => {
    const path = `/${quiet.pipeline.node.path}`;
    const warnings = Annotations.fromStack(quiet);
    warnings.hasWarning(path, Match.stringLikeRegexp('^senderEmail is empty: no email is sent on AWS'));
    warnings.hasWarning(path, Match.stringLikeRegexp('^publicUrl is empty: links in owner emails'));
    expect(Annotations.fromStack(mail).findWarning('*', Match.stringLikeRegexp('(senderEmail|publicUrl) is empty'))).toEqual([]);
    expect(Object.values(PIPELINE_WARNINGS)).toEqual(['hookline:senderEmailUnset', 'hookline:publicUrlUnset']);
  });

  it('lets a warning be acknowledged by its id', () => {
    const stack = new HooklineStack(new App(TEMPLATE_ONLY), 'HooklineAck', { senderEmail: 'hooks@example.com' });
    CdkAnnotations.of(stack.pipeline).acknowledgeWarning(PIPELINE_WARNINGS.noPublicUrl, 'emails carry relative links on purpose');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is empty'))).toEqual([]);
  });
});
