/**
 * Non-default props reach the functions, the queues and the grants; `cdk.json` context maps
 * onto the props. One synth for the whole file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ENV } from '../../shared/config.ts';
import { PROJECT_ROOT } from '../../infra/stack/functions.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { EXTRA_ENV, HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { CONTEXT, settingsFromContext } from '../../infra/stack/context.ts';
import { resolveSettings } from '../../infra/stack/settings.ts';
import { INGEST_ROUTE_KEY } from '../../infra/stack/api.ts';
import { TEMPLATE_ONLY, actionsByTarget, asArray, flatten, logicalId, statementsOfRole } from './helpers.ts';

let stack: HooklineStack;
let template: Template;
const fnProps = (name: FunctionName) =>
  template.toJSON().Resources[logicalId(stack, stack.pipeline.functions.byName[name])].Properties;

beforeAll(() => {
  const app = new App(TEMPLATE_ONLY);
  stack = new HooklineStack(app, 'HooklineBranded', {
    env: { account: '123456789012', region: 'us-east-2' },
    retryDelaysSeconds: [0, 5, 60],
    signatureHeader: 'X-NetRecon-Signature',
    allowPrivateTargets: true,
    requestTimeoutMs: 25_000,
    deploymentHost: 'hooks.netrecon.example',
    secretPrefix: 'netrecon/hookline/',
    retentionDays: 7,
    senderEmail: 'alerts@netrecon.example',
    publicUrl: 'https://hooks.netrecon.example/',
    alarmTopicArn: 'arn:aws:sns:us-east-2:123456789012:ops',
    dispatcherMaxConcurrency: 20,
    logTables: 3,
    warmThroughput: { attempts: { writeUnitsPerSecond: 15000 } },
    tenantRateLimit: 5,
    tenantBurstLimit: 10,
    apiRateLimit: 10,
    apiBurstLimit: 20,
    ingestRateLimit: 500,
    ingestBurstLimit: 1000,
  });
  // The acknowledgements depend on the secret prefix: the packs must still pass.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  template = Template.fromStack(stack);
});

describe('props', () => {
  it('reach every function as environment variables', () => {
    const env = fnProps('dispatcher').Environment.Variables;
    expect(env[ENV.retryDelays]).toBe('0,5,60');
    expect(env[ENV.signatureHeader]).toBe('X-NetRecon-Signature');
    expect(env[ENV.allowPrivateTargets]).toBe('true');
    expect(env[ENV.requestTimeoutMs]).toBe('25000');
    expect(env[ENV.deploymentHost]).toBe('hooks.netrecon.example');
    expect(env[ENV.secretPrefix]).toBe('netrecon/hookline/');
    expect(env[ENV.retentionDays]).toBe('7');
    expect(env[EXTRA_ENV.senderEmail]).toBe('alerts@netrecon.example');
    expect(env[EXTRA_ENV.publicUrl]).toBe('https://hooks.netrecon.example');
    // The webhooks API sends owner address verification links.
    expect(fnProps('webhooks-api').Environment.Variables[EXTRA_ENV.senderEmail]).toBe('alerts@netrecon.example');
    expect(fnProps('webhooks-api').Environment.Variables[EXTRA_ENV.publicUrl]).toBe('https://hooks.netrecon.example');
    // The test event's sender refuses the public URL's host as Hookline's own, as the dispatcher's does.
    expect(fnProps('webhook-test').Environment.Variables[EXTRA_ENV.publicUrl]).toBe('https://hooks.netrecon.example');
    for (const name of ['ingest', 'fanout', 'admin-api', 'openapi'] as const) {
      expect(fnProps(name).Environment.Variables).not.toHaveProperty([EXTRA_ENV.publicUrl]);
      expect(fnProps(name).Environment.Variables).not.toHaveProperty([EXTRA_ENV.senderEmail]);
    }
    expect(fnProps('admin-api').Environment.Variables[EXTRA_ENV.adminKeySecret]).toBe('netrecon/hookline/admin-api-key');
    // The default per-tenant limit: applied by the API functions, shown by the admin API.
    for (const name of ['ingest', 'webhooks-api', 'admin-api'] as const) {
      expect(fnProps(name).Environment.Variables).toMatchObject({ [ENV.rateLimitPerSecond]: '5', [ENV.rateLimitBurst]: '10' });
    }
  });

  it('stretch the dispatcher timeout and the deliveries visibility timeout with the request timeout', () => {
    const timeout = fnProps('dispatcher').Timeout as number;
    // An OAuth2 attempt: token, POST, and after a 401 a new token and the POST again.
    expect(timeout).toBeGreaterThanOrEqual(4 * 25);
    const queue = template.toJSON().Resources[logicalId(stack, stack.pipeline.queues.deliveriesQueue)].Properties;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 20 } });
  });

  it('move every secret under the prefix', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'netrecon/hookline/admin-api-key' });
    const sts = statementsOfRole(template, logicalId(stack, stack.pipeline.functions.byName.dispatcher.role!));
    const secretResources = sts
      .filter((st) => asArray(st.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((st) => asArray(st.Resource).map(flatten));
    expect(secretResources).toEqual([
      'arn:aws:secretsmanager:us-east-2:123456789012:secret:netrecon/hookline/tenants/*',
    ]);
  });

  it('let the dispatcher and the webhooks API send email from the sender identity only, and no other function', () => {
    const ses = (name: FunctionName) =>
      statementsOfRole(template, logicalId(stack, stack.pipeline.functions.byName[name].role!)).filter((st) => asArray(st.Action).some((a) => a.startsWith('ses:')));
    for (const name of ['dispatcher', 'webhooks-api'] as const) {
      expect(ses(name).flatMap((st) => asArray(st.Action))).toEqual(['ses:SendEmail']);
      expect(ses(name).flatMap((st) => asArray(st.Resource).map(flatten)).sort()).toEqual([
        'arn:aws:ses:us-east-2:123456789012:identity/alerts@netrecon.example',
        'arn:aws:ses:us-east-2:123456789012:identity/netrecon.example',
      ]);
    }
    for (const name of ['ingest', 'fanout', 'admin-api', 'openapi'] as const) expect(ses(name)).toEqual([]);
  });

  it('name the retry schedule group after the stack, in the stack\'s region', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'HooklineBranded-retries' });
    const sts = statementsOfRole(template, logicalId(stack, stack.pipeline.functions.byName.dispatcher.role!));
    const create = sts.filter((st) => asArray(st.Action).includes('scheduler:CreateSchedule'));
    expect(create.flatMap((st) => asArray(st.Resource).map(flatten))).toEqual([
      'arn:aws:scheduler:us-east-2:123456789012:schedule/HooklineBranded-retries/*',
    ]);
  });

  it('send every alarm to the topic of alarmTopicArn, and create no topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(stack.pipeline.alarms.length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:us-east-2:123456789012:ops']);
      expect(alarm.Properties.OKActions).toEqual(['arn:aws:sns:us-east-2:123456789012:ops']);
    }
    template.resourceCountIs('AWS::SNS::Topic', 0);
    // With a sender, the account's SES reputation is watched too.
    for (const name of ['SesBounceRate', 'SesComplaintRate']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `HooklineBranded-${name}`, Namespace: 'AWS/SES' });
    }
  });

  it('throttle POST /v1/events and the other routes apart', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      RouteSettings: { [INGEST_ROUTE_KEY]: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 } },
    });
  });

  it('split the delivery log over logTables tables: each with the log keys, warm throughput and a throttle alarm; every function that uses the log names and may use them all, in order', () => {
    const tables = stack.pipeline.tables.attempts;
    expect(tables.map((t) => t.node.id)).toEqual(['Attempts', 'Attempts2', 'Attempts3']);
    const resources = template.toJSON().Resources;
    for (const table of tables) {
      const p = resources[logicalId(stack, table)].Properties;
      expect(p.KeySchema).toEqual([
        { AttributeName: 'log_key', KeyType: 'HASH' },
        { AttributeName: 'entry', KeyType: 'RANGE' },
      ]);
      expect(p.WarmThroughput).toEqual({ WriteUnitsPerSecond: 15000 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp(`-${table.node.id}Throttles$`) });
      template.hasOutput(`${table.node.id}TableName`, { Value: { Ref: logicalId(stack, table) } });
    }
    // Shard s of a webhook's log is in table s mod 3: the order of the names is the routing.
    const names = tables.map((t) => `<${logicalId(stack, t)}>`).join(',');
    for (const name of ['dispatcher', 'webhooks-api', 'webhook-test'] as const) {
      expect(flatten(fnProps(name).Environment.Variables[ENV.attemptsTable])).toBe(names);
      const targets = actionsByTarget(statementsOfRole(template, logicalId(stack, stack.pipeline.functions.byName[name].role!)));
      const onFirst = [...targets.get(logicalId(stack, tables[0]!))!].sort();
      expect(onFirst.length).toBeGreaterThan(0);
      for (const table of tables) expect([...targets.get(logicalId(stack, table))!].sort()).toEqual(onFirst);
    }
  });

  it('are refused when they make no sense', () => {
    expect(() => resolveSettings({ ingestRateLimit: 0 })).toThrow(/ingestRateLimit/);
    for (const logTables of [0, 17, 1.5]) expect(() => resolveSettings({ logTables })).toThrow(/logTables must be an integer from 1 to 16/);
    expect(() => resolveSettings({ ingestBurstLimit: 1.5 })).toThrow(/ingestBurstLimit/);
    expect(() => resolveSettings({ apiRateLimit: -1 })).toThrow(/apiRateLimit/);
    expect(() => resolveSettings({ tenantRateLimit: 501, tenantBurstLimit: 600 })).toThrow(/tenantRateLimit/);
    expect(() => resolveSettings({ tenantRateLimit: 50, tenantBurstLimit: 40 })).toThrow(/tenantBurstLimit/);
    expect(() => resolveSettings({ tenantBurstLimit: 1001 })).toThrow(/tenantBurstLimit/);
    // The stage's throttles are shared by every tenant: never below one tenant's limit.
    expect(() => resolveSettings({ apiRateLimit: 50 })).toThrow(/apiRateLimit/);
    expect(() => resolveSettings({ ingestRateLimit: 300, tenantRateLimit: 400, tenantBurstLimit: 400 })).toThrow(/ingestRateLimit/);
    expect(() => resolveSettings({ signatureHeader: 'Bad Header' })).toThrow(/signatureHeader/);
    expect(() => resolveSettings({ retryDelaysSeconds: [] })).toThrow(/retryDelaysSeconds/);
    expect(() => resolveSettings({ retryDelaysSeconds: [0, 86_400], retentionDays: 1 })).toThrow(/retryDelaysSeconds adds up to 86400 s, not shorter than the retention/);
    expect(() => resolveSettings({ requestTimeoutMs: 900_000 })).toThrow(/requestTimeoutMs/);
    // An event source mapping's MaximumConcurrency is an integer: CloudFormation would refuse 2.5 at deploy.
    expect(() => resolveSettings({ dispatcherMaxConcurrency: 2.5 })).toThrow('dispatcherMaxConcurrency must be an integer from 2 to 1000');
    expect(() => resolveSettings({ senderEmail: 'nobody' })).toThrow(/senderEmail/);
    expect(() => resolveSettings({ publicUrl: 'hooks.example.com' })).toThrow(/publicUrl/);
    expect(() => resolveSettings({ publicUrl: 'ftp://hooks.example.com' })).toThrow(/publicUrl/);
    expect(() => resolveSettings({ publicUrl: 'https://hooks.example.com/?a=1' })).toThrow(/publicUrl/);
    expect(resolveSettings({ publicUrl: 'https://hooks.example.com/base//' }).publicUrl).toBe('https://hooks.example.com/base');
    expect(resolveSettings({ publicUrl: '' }).publicUrl).toBeUndefined();
    expect(() => resolveSettings({ createEmailIdentity: true })).toThrow(/createEmailIdentity needs senderEmail/);
    expect(() => resolveSettings({ alarmEmail: 'oncall' })).toThrow(/alarmEmail/);
    expect(() => resolveSettings({ eventsQueueAgeThreshold: Duration.seconds(30) })).toThrow(/eventsQueueAgeThreshold/);
    expect(() => resolveSettings({ functionErrorsThreshold: 0 })).toThrow(/functionErrorsThreshold/);
    expect(() => resolveSettings({ tableThrottlesThreshold: 2.5 })).toThrow(/tableThrottlesThreshold/);
    expect(() => resolveSettings({ apiServerErrorRateThreshold: 0 })).toThrow(/apiServerErrorRateThreshold/);
    // Fractions, not percentages: 5 would be 500 %.
    expect(() => resolveSettings({ sesBounceRateThreshold: 5 })).toThrow(/sesBounceRateThreshold/);
    expect(() => resolveSettings({ sesComplaintRateThreshold: 0 })).toThrow(/sesComplaintRateThreshold/);
  });
});

describe('cdk.json context', () => {
  it('holds the defaults and maps onto the props', () => {
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'));
    expect(cdkJson.app).toBe('node infra/app.ts');
    const app = new App({ context: cdkJson.context });
    const settings = resolveSettings(settingsFromContext(app.node));
    expect(settings).toMatchObject({
      retryDelaysSeconds: [0, 30, 120, 600, 3600],
      signatureHeader: 'X-Hookline-Signature',
      allowPrivateTargets: false,
      requestTimeoutMs: 10_000,
      deploymentHost: 'hookline',
      secretPrefix: 'hookline/',
      retentionDays: 30,
      logRetention: RetentionDays.ONE_MONTH,
    });
    expect(settings.senderEmail).toBeUndefined();
    expect(settings.publicUrl).toBeUndefined();
    expect(cdkJson.context).toHaveProperty([CONTEXT.publicUrl], '');
    expect(settings.logTables).toBe(1);
    expect(settings).toMatchObject({ tenantRateLimit: 100, tenantBurstLimit: 200, apiRateLimit: 2000, apiBurstLimit: 4000, ingestRateLimit: 5000, ingestBurstLimit: 5000 });
    // The built-in catalogue unless the platform team names a file.
    expect(cdkJson.context).toHaveProperty([CONTEXT.catalogueFile], '');
    expect(settings.catalogueFile).toBeUndefined();
    // Every context key of CONTEXT is in cdk.json, so `cdk.json` documents them all.
    for (const key of Object.values(CONTEXT)) expect(cdkJson.context).toHaveProperty([key]);
    expect(settings.alarmTopicArn).toBeUndefined();
    expect(settings.alarmEmail).toBeUndefined();
    expect(settings.createEmailIdentity).toBe(false);
  });

  it('accepts the string values of `cdk -c key=value`', () => {
    const app = new App({
      context: {
        [CONTEXT.retryDelays]: '0, 10,20',
        [CONTEXT.allowPrivateTargets]: 'true',
        [CONTEXT.requestTimeoutMs]: '5000',
        [CONTEXT.logRetentionDays]: '14',
        [CONTEXT.publicUrl]: 'https://hooks.example.com',
        [CONTEXT.ingestRateLimit]: '250',
        [CONTEXT.ingestBurstLimit]: '500',
        [CONTEXT.tenantRateLimit]: '20',
        [CONTEXT.tenantBurstLimit]: '40',
        [CONTEXT.alarmEmail]: 'oncall@example.com',
        [CONTEXT.createEmailIdentity]: 'true',
        [CONTEXT.logTables]: '4',
      },
    });
    expect(settingsFromContext(app.node)).toMatchObject({
      tenantRateLimit: 20,
      tenantBurstLimit: 40,
      ingestRateLimit: 250,
      ingestBurstLimit: 500,
      retryDelaysSeconds: [0, 10, 20],
      allowPrivateTargets: true,
      requestTimeoutMs: 5000,
      logRetention: RetentionDays.TWO_WEEKS,
      publicUrl: 'https://hooks.example.com',
      alarmEmail: 'oncall@example.com',
      createEmailIdentity: true,
      logTables: 4,
    });
    expect(() => settingsFromContext(new App({ context: { [CONTEXT.logRetentionDays]: '2' } }).node)).toThrow(
      /logRetentionDays/,
    );
  });

  it('refuses a retry ladder with an empty or non-numeric rung, as the runtime does, instead of an immediate retry', () => {
    for (const delays of ['0,30,,5', '0,30,', 'soon', ['0', ''], [0, 'x']]) {
      expect(() => settingsFromContext(new App({ context: { [CONTEXT.retryDelays]: delays } }).node)).toThrow(/hookline:retryDelays must be comma-separated/);
    }
    expect(settingsFromContext(new App({ context: { [CONTEXT.retryDelays]: [0, '30', 120] } }).node).retryDelaysSeconds).toEqual([0, 30, 120]);
  });
});
