/**
 * HooklinePipeline in another app's stack, imported the way that app imports it: through the
 * package's `exports` (`hookline/pipeline`). The embedding stack brings its own alarm topic and
 * thresholds, and grants its own role access to the pipeline.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { HooklinePipeline } from 'hookline/pipeline';
import { REPO_ROOT } from '../support/runtime.ts';
import { TEMPLATE_ONLY, actionsByTarget, logicalId, statementsOfRole } from './helpers.ts';

let stack: Stack;
let pipeline: HooklinePipeline;
let template: Template;
let support: Role;
const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(stack, construct);

beforeAll(() => {
  const app = new App(TEMPLATE_ONLY);
  stack = new Stack(app, 'Platform', { env: { account: '123456789012', region: 'eu-central-1' } });
  const oncall = new Topic(stack, 'Oncall', { enforceSSL: true });
  pipeline = new HooklinePipeline(stack, 'Webhooks', {
    alarmTopic: oncall,
    alarmNamePrefix: 'platform-webhooks',
    dashboardName: 'platform-webhooks',
    alarmOkActions: false,
    deliveriesQueueAgeThreshold: Duration.minutes(15),
    functionErrorsThreshold: 2,
    apiServerErrorRateThreshold: 5,
    secretPrefix: 'platform/hookline/',
  });
  support = new Role(stack, 'Support', { assumedBy: new AccountRootPrincipal() });
  pipeline.grantReadDeliveryLog(support);
  pipeline.grantReadAdminKey(support);
  pipeline.grantRedriveDeadLetters(support);
  template = Template.fromStack(stack);
});

describe('HooklinePipeline in a stack of another app', () => {
  it('builds the whole pipeline under its own construct id', () => {
    template.resourceCountIs('AWS::Lambda::Function', 7);
    template.resourceCountIs('AWS::DynamoDB::Table', 4);
    template.resourceCountIs('AWS::SQS::Queue', 5);
    expect(id(pipeline.tables.tenants)).toMatch(/^WebhooksTablesTenants/);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Platform-retries' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'platform/hookline/admin-api-key' });
  });

  it('exposes the API URL, the queues, the tables and the alarm topic', () => {
    expect(stack.resolve(pipeline.apiUrl)).toEqual({ 'Fn::GetAtt': [id(pipeline.api.httpApi), 'ApiEndpoint'] });
    expect(pipeline.eventsQueue).toBe(pipeline.queues.eventsQueue);
    expect(pipeline.deliveriesQueue).toBe(pipeline.queues.deliveriesQueue);
    expect(Object.keys(pipeline.tables.all)).toEqual(['tenants', 'webhooks', 'events', 'attempts']);
    expect(pipeline.alarmTopic.node.path).toBe('Platform/Oncall');
  });

  it("sends every alarm to the embedding app's topic, with its thresholds and names", () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(pipeline.alarms.length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: id(pipeline.alarmTopic) }]);
      expect(alarm.Properties.OKActions).toBeUndefined();
      expect(alarm.Properties.AlarmName).toMatch(/^platform-webhooks-/);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'platform-webhooks-DeliveriesQueueAge', Threshold: 15 * 60 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'platform-webhooks-DispatcherErrors', Threshold: 2 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'platform-webhooks-ApiServerErrors', Threshold: 5 });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'platform-webhooks' });
  });

  it('grants read access to the delivery log: the events and attempts tables, not tenants or webhooks', () => {
    const byTarget = actionsByTarget(statementsOfRole(template, id(support)));
    const t = pipeline.tables;
    for (const table of [t.events, ...t.attempts]) {
      expect([...byTarget.get(id(table))!]).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      expect([...byTarget.get(id(table))!].filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    }
    for (const table of [t.tenants, t.webhooks]) expect(byTarget.has(id(table))).toBe(false);
  });

  it('grants reading the admin key', () => {
    const byTarget = actionsByTarget(statementsOfRole(template, id(support)));
    expect([...byTarget.get(id(pipeline.adminKey))!]).toContain('secretsmanager:GetSecretValue');
  });

  it("grants moving dead letters back to their queues, and the runbook's reads of them (depth, URL), nothing else on the queues", () => {
    const byTarget = actionsByTarget(statementsOfRole(template, id(support)));
    const q = pipeline.queues;
    for (const [dlq, source] of [
      [q.eventsDlq, q.eventsQueue],
      [q.deliveriesDlq, q.deliveriesQueue],
    ] as const) {
      expect([...byTarget.get(id(dlq))!].sort()).toEqual([
        'sqs:CancelMessageMoveTask',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ListMessageMoveTasks',
        'sqs:ReceiveMessage',
        'sqs:StartMessageMoveTask',
      ]);
      expect([...byTarget.get(id(source))!].sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    }
    // SchedulerDLQ is no queue's own DLQ (no move task): its messages are received and sent on.
    expect([...byTarget.get(id(q.schedulerDlq))!].sort()).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage']);
  });
});

describe("the package's exports", () => {
  const run = promisify(execFile);
  let appDir: string;

  beforeAll(() => {
    // An embedding CDK app in a folder of its own, with hookline linked into its node_modules
    // (as `npm install <path to hookline>` links it) next to its own aws-cdk-lib.
    appDir = mkdtempSync(join(tmpdir(), 'hookline-embedding-'));
    mkdirSync(join(appDir, 'node_modules'));
    symlinkSync(REPO_ROOT, join(appDir, 'node_modules', 'hookline'), 'dir');
    symlinkSync(join(REPO_ROOT, 'node_modules', 'aws-cdk-lib'), join(appDir, 'node_modules', 'aws-cdk-lib'), 'dir');
    symlinkSync(join(REPO_ROOT, 'node_modules', 'constructs'), join(appDir, 'node_modules', 'constructs'), 'dir');
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'platform', type: 'module', private: true }));
    writeFileSync(
      join(appDir, 'app.js'),
      [
        "import { App, Stack } from 'aws-cdk-lib';",
        "import { HooklinePipeline } from 'hookline/pipeline';",
        // Without CDK's built-in template validation (3 s here), as TEMPLATE_ONLY: nag.test.ts runs it.
        "const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });",
        "const stack = new Stack(app, 'Platform');",
        "const pipeline = new HooklinePipeline(stack, 'Webhooks', { alarmEmail: 'oncall@example.com' });",
        'const template = app.synth().getStackByName(stack.stackName).template;',
        'const types = Object.values(template.Resources).map((r) => r.Type);',
        "console.log(JSON.stringify({ functions: types.filter((t) => t === 'AWS::Lambda::Function').length, topics: types.filter((t) => t === 'AWS::SNS::Topic').length, dashboards: types.filter((t) => t === 'AWS::CloudWatch::Dashboard').length, apiUrl: typeof pipeline.apiUrl }));",
      ].join('\n'),
    );
  });

  afterAll(() => rmSync(appDir, { recursive: true, force: true }));

  it('let a CDK app of its own import HooklinePipeline as hookline/pipeline and synthesize it', async () => {
    const { stdout } = await run(join(REPO_ROOT, 'node_modules', '.bin', 'node'), ['app.js'], { cwd: appDir, maxBuffer: 16 * 1024 * 1024 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ functions: 7, topics: 1, dashboards: 1, apiUrl: 'string' });
  });

  it('export nothing but the pipeline (and package.json)', async () => {
    const { stdout } = await run(
      join(REPO_ROOT, 'node_modules', '.bin', 'node'),
      ['--input-type=module', '-e', "import('hookline/infra/stack/settings.ts').then(() => console.log('open'), (e) => console.log(e.code))"],
      { cwd: appDir },
    );
    expect(stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
