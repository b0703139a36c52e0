/**
 * The synthesized Hookline stack with default props. One synth (without bundling: only the
 * template is read here; catalogue.test.ts bundles) is shared by every test in this file.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../shared/config.ts';
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import { ROUTES } from '../../shared/http/routes.ts';
import { FUNCTION_NAMES } from '../../infra/stack/functions.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { EXTRA_ENV, HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { retryScheduleGroupName } from '../../infra/stack/retries.ts';
import { INGEST_ROUTE_KEY } from '../../infra/stack/api.ts';
import { CATALOGUE_ENV } from '../../infra/stack/functions.ts';
import { NO_BUNDLING, actionsByTarget, asArray, flatten, logicalId, statementsOfRole } from './helpers.ts';
import type { Statement } from './helpers.ts';

let stack: HooklineStack;
let template: Template;
const fnId = (name: FunctionName) => logicalId(stack, stack.pipeline.functions.byName[name]);
const roleId = (name: FunctionName) => logicalId(stack, stack.pipeline.functions.byName[name].role!);
const fnProps = (name: FunctionName) => template.toJSON().Resources[fnId(name)].Properties;
const statements = (name: FunctionName): Statement[] => statementsOfRole(template, roleId(name));
const tableId = (key: keyof typeof TABLES) => logicalId(stack, stack.pipeline.tables.all[key][0]!);

beforeAll(() => {
  const app = new App({ context: NO_BUNDLING });
  stack = new HooklineStack(app, 'HooklineTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  template = Template.fromStack(stack);
});

describe('functions', () => {
  it('are the seven handlers, on Node 24 and arm64, bundled as ESM', () => {
    template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length);
    for (const name of FUNCTION_NAMES) {
      const p = fnProps(name);
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringContaining('Logs') });
    }
  });

  // Settings of shared/config.ts the stack does not set yet, so the functions run with the
  // defaults of settingsFromEnv (they came with the guardrails; no stack prop sizes them).
  const LEFT_TO_RUNTIME_DEFAULTS: string[] = [
    ENV.allowedPorts,
    ENV.maxWebhooksPerTenant,
    ENV.maxConcurrentPerWebhook,
    // Per dispatcher container, which works one batch of 10 at a time on AWS; SQS fair queues
    // (MessageGroupId = tenant) share the containers among tenants.
    ENV.maxConcurrentPerTenant,
    ENV.failingRequestTimeoutMs,
  ];
  // Set only on the functions that need them (see the tests of each).
  const PER_FUNCTION: string[] = [ENV.publicUrl, ENV.apiHost];

  it('get every shared setting from the environment names of shared/config.ts', () => {
    for (const name of FUNCTION_NAMES) {
      const env = fnProps(name).Environment.Variables;
      for (const variable of Object.values(ENV)) {
        if (PER_FUNCTION.includes(variable)) continue;
        if (LEFT_TO_RUNTIME_DEFAULTS.includes(variable)) expect(env).not.toHaveProperty([variable]);
        else expect(env).toHaveProperty([variable]);
      }
      expect(env[ENV.retryDelays]).toBe('0,30,120,600,3600');
      expect(env[ENV.signatureHeader]).toBe('X-Hookline-Signature');
      expect(env[ENV.allowPrivateTargets]).toBe('false');
      expect(env[ENV.requestTimeoutMs]).toBe('10000');
      expect(env[ENV.secretPrefix]).toBe('hookline/');
      expect(env[ENV.retentionDays]).toBe('30');
      // The default per-tenant limit (tenantRateLimit, tenantBurstLimit).
      expect(env[ENV.rateLimitPerSecond]).toBe('100');
      expect(env[ENV.rateLimitBurst]).toBe('200');
      expect(env[ENV.eventsTable]).toEqual({ Ref: tableId('events') });
      expect(env[ENV.deliveriesQueueUrl]).toEqual({ Ref: logicalId(stack, stack.pipeline.queues.deliveriesQueue) });
      expect(env).not.toHaveProperty('NODE_OPTIONS'); // no --enable-source-maps: 230 ms on the first stack trace
    }
    expect(fnProps('admin-api').Environment.Variables[EXTRA_ENV.adminKeySecret]).toBe('hookline/admin-api-key');
    expect(fnProps('dispatcher').Environment.Variables).not.toHaveProperty([EXTRA_ENV.adminKeySecret]);
  });

  it("tell the functions that check and send to webhook URLs the API's own host, so no webhook points back at it", () => {
    const apiHost = { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.api.httpApi), 'ApiEndpoint'] }] }] };
    for (const name of FUNCTION_NAMES) {
      const env = fnProps(name).Environment.Variables;
      if (name === 'dispatcher' || name === 'webhooks-api' || name === 'webhook-test') expect(env[ENV.apiHost]).toEqual(apiHost);
      else expect(env).not.toHaveProperty([ENV.apiHost]);
    }
  });

  it('reference each other without a dependency cycle (CloudFormation would refuse it at deploy, not synth)', () => {
    const resources = template.toJSON().Resources as Record<string, { Properties?: unknown; DependsOn?: string | string[] }>;
    const edges = new Map<string, Set<string>>();
    const collect = (node: unknown, into: Set<string>): void => {
      if (Array.isArray(node)) return node.forEach((n) => collect(n, into));
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (typeof o['Ref'] === 'string' && o['Ref'] in resources) into.add(o['Ref']);
      const att = o['Fn::GetAtt'];
      if (Array.isArray(att) && typeof att[0] === 'string' && att[0] in resources) into.add(att[0]);
      Object.values(o).forEach((v) => collect(v, into));
    };
    for (const [id, r] of Object.entries(resources)) {
      const deps = new Set<string>([r.DependsOn ?? []].flat());
      collect(r.Properties, deps);
      edges.set(id, deps);
    }
    const state = new Map<string, 'open' | 'done'>();
    const cycleFrom = (id: string, path: string[]): string[] | undefined => {
      state.set(id, 'open');
      for (const next of edges.get(id) ?? []) {
        if (state.get(next) === 'open') return [...path, id, next];
        const found = state.has(next) ? undefined : cycleFrom(next, [...path, id]);
        if (found) return found;
      }
      state.set(id, 'done');
      return undefined;
    };
    for (const id of edges.keys()) if (!state.has(id)) expect(cycleFrom(id, [])).toBeUndefined();
  });

  it('use the built-in catalogue when no catalogueFile is given', () => {
    for (const name of FUNCTION_NAMES) {
      const env = fnProps(name).Environment.Variables;
      expect(env).not.toHaveProperty([CATALOGUE_ENV.file]);
      expect(env).not.toHaveProperty([CATALOGUE_ENV.sha256]);
    }
  });

  it('are not traced by X-Ray (no half-on tracing; see functions.ts and logging.test.ts)', () => {
    for (const name of FUNCTION_NAMES) expect(fnProps(name).TracingConfig).toBeUndefined();
  });

  it('have timeouts that fit their callers', () => {
    // The dispatcher outlives a receiver request; API Gateway gives up after 30 s.
    expect(fnProps('dispatcher').Timeout).toBeGreaterThan(10_000 / 1000);
    expect(fnProps('dispatcher').Timeout).toBeGreaterThanOrEqual(60);
    for (const name of ['ingest', 'webhooks-api', 'webhook-test', 'admin-api', 'openapi'] as const) {
      expect(fnProps(name).Timeout).toBeLessThanOrEqual(29);
    }
  });

  it('keep their logs for a bounded time', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(FUNCTION_NAMES.length + 1); // + API access logs
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });
});

describe('tables', () => {
  it('follow the key schemas of shared/adapters/aws/tables.ts', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
    const resources = template.toJSON().Resources;
    for (const [key, schema] of Object.entries(TABLES) as [keyof typeof TABLES, (typeof TABLES)[keyof typeof TABLES]][]) {
      const id = tableId(key);
      expect(id).toContain(schema.id);
      const table = resources[id];
      const p = table.Properties;
      expect(table.DeletionPolicy).toBe('Retain');
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.SSESpecification).toEqual({ SSEEnabled: true });
      const keySchema: { AttributeName: string; KeyType: string }[] = [
        { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
      ];
      if ('sortKey' in schema) keySchema.push({ AttributeName: schema.sortKey.name, KeyType: 'RANGE' });
      expect(p.KeySchema).toEqual(keySchema);
      if ('ttlAttribute' in schema) {
        expect(p.TimeToLiveSpecification).toEqual({ AttributeName: schema.ttlAttribute, Enabled: true });
      } else {
        expect(p.TimeToLiveSpecification).toBeUndefined();
      }
    }
  });

  it('are the tenants, webhooks, events and the delivery log (attempts), with no secondary index (every write of an indexed item is billed again)', () => {
    expect(Object.keys(TABLES)).toEqual(['tenants', 'webhooks', 'events', 'attempts']);
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
      expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
    }
  });

  it("key the events by tenant and id together, and the delivery log by webhook shard and delivery attempt", () => {
    const keys = (key: keyof typeof TABLES) => template.toJSON().Resources[tableId(key)].Properties.KeySchema;
    expect(keys('events')).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(keys('attempts')).toEqual([
      { AttributeName: 'log_key', KeyType: 'HASH' },
      { AttributeName: 'entry', KeyType: 'RANGE' },
    ]);
  });
});

describe('queues', () => {
  const cases = [
    ['events', 'fanout'],
    ['deliveries', 'dispatcher'],
  ] as const;

  it.each(cases)('the %s queue has a DLQ and outlasts six %s timeouts', (queueName, consumer) => {
    const queue = stack.pipeline.queues[`${queueName}Queue`];
    const dlq = stack.pipeline.queues[`${queueName}Dlq`];
    const resources = template.toJSON().Resources;
    const q = resources[logicalId(stack, queue)].Properties;
    const d = resources[logicalId(stack, dlq)].Properties;
    expect(q.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, dlq), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fnProps(consumer).Timeout);
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(d.SqsManagedSseEnabled).toBe(true);
    expect(d.MessageRetentionPeriod).toBe(14 * 24 * 3600);

    const esm = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find(
      (m) => m.Properties.EventSourceArn['Fn::GetAtt'][0] === logicalId(stack, queue),
    );
    expect(esm?.Properties).toMatchObject({
      FunctionName: { Ref: fnId(consumer) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });

  it('caps the dispatcher concurrency and does not batch deliveries up', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('dispatcher') },
      ScalingConfig: { MaximumConcurrency: 50 },
      MaximumBatchingWindowInSeconds: 0,
    });
  });

  it('refuse requests without TLS', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    // Events and deliveries queues, their DLQs and the SchedulerDLQ: one policy each.
    expect(policies).toHaveLength(Object.keys(template.findResources('AWS::SQS::Queue')).length);
    expect(policies).toHaveLength(5);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('alarm on any message in a dead-letter queue', () => {
    for (const [dlq, name] of [
      [stack.pipeline.queues.eventsDlq, 'HooklineTest-EventsDLQ'],
      [stack.pipeline.queues.deliveriesDlq, 'HooklineTest-DeliveriesDLQ'],
      [stack.pipeline.queues.schedulerDlq, 'HooklineTest-SchedulerDLQ'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: name,
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, dlq), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('HTTP API', () => {
  it('has exactly one route per entry of ROUTES, integrated with the function it names, and a $default 404', () => {
    const resources = template.toJSON().Resources;
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([...ROUTES.map((r) => `${r.method} ${r.path}`), '$default'].sort());
    const fallback = routes.find((x) => x.Properties.RouteKey === '$default')!;
    expect(resources[fallback.Properties.Target['Fn::Join'][1][1].Ref].Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [fnId('openapi'), 'Arn'] });
    for (const route of ROUTES) {
      const r = routes.find((x) => x.Properties.RouteKey === `${route.method} ${route.path}`)!;
      expect(r.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
      const integrationId = r.Properties.Target['Fn::Join'][1][1].Ref as string;
      expect(resources[integrationId].Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [fnId(route.fn), 'Arn'] });
    }
    expect(routes.some((r) => r.Properties.RouteKey === 'GET /healthz')).toBe(true);
  });

  it('has a throttled default stage with access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 4000 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack, stack.pipeline.api.accessLogs), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });
});

describe('permissions', () => {
  const t = (key: keyof typeof TABLES) => () => tableId(key);
  // What each function may do per table, exactly. The stack derives
  // the grants from the adapter methods each function is handed; these lists are the expectation.
  const expectedDynamo: Record<FunctionName, [() => string, string[]][]> = {
    ingest: [
      // Authentication reads the key's lookup item and the rate limit the tenant's item;
      // UpdateItem: the tenant's request counter.
      [t('tenants'), ['GetItem', 'UpdateItem']],
      // DeleteItem: events it stored and could not queue (the 503) are removed again.
      [t('events'), ['PutItem', 'GetItem', 'DeleteItem']],
    ],
    // The event comes in its message and goes on in the deliveries' messages: the fan-out only
    // reads the tenant's webhooks (the queue and the delivery log keep the deliveries).
    fanout: [[t('webhooks'), ['Query']]],
    dispatcher: [
      // The delivery log is the deliveries' state: GetItem, whether the attempt is logged (the
      // claim); PutItem, its entry (a conditional put); Query, a redelivered message's look at
      // the delivery; UpdateItem, settling a health step.
      [t('attempts'), ['GetItem', 'PutItem', 'Query', 'UpdateItem']],
      // A manual attempt's event (the others come in their messages).
      [t('events'), ['GetItem']],
      // UpdateItem: the webhook's health status and its email window.
      [t('webhooks'), ['GetItem', 'UpdateItem']],
      // Owner emails: the tenant's own address, and its hourly email counter (UpdateItem); the
      // per-webhook attempt leases (GetItem, UpdateItem).
      [t('tenants'), ['GetItem', 'UpdateItem']],
    ],
    'webhooks-api': [
      // UpdateItem: the atomic per-tenant webhook counter (the quota), email and request counters;
      // PutItem and DeleteItem: the lock a change of the tenant's credentials secret holds.
      [t('tenants'), ['GetItem', 'UpdateItem', 'PutItem', 'DeleteItem']],
      [t('webhooks'), ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']],
      // The delivery log: a webhook's attempts, and (manual retry, recover) a delivery's state
      // from its attempts. Reopening writes nothing: the manual attempt's own entry is the record.
      [t('attempts'), ['Query']],
    ],
    'webhook-test': [
      // Authentication (keys, portal sessions) and the rate limit read the tenants table;
      // UpdateItem: the tenant's request counter.
      [t('tenants'), ['GetItem', 'UpdateItem']],
      [t('webhooks'), ['GetItem']],
      // PutItem: the test event is logged like any attempt.
      [t('attempts'), ['PutItem']],
    ],
    // Key management: keys listed on the tenant's item (UpdateItem), revoked lookups (DeleteItem);
    // the tenant's own rate limit on its item (UpdateItem).
    'admin-api': [[t('tenants'), ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']]],
    openapi: [],
  };

  it.each(FUNCTION_NAMES)('%s gets exactly its table actions', (name) => {
    const byTarget = actionsByTarget(statements(name));
    const dynamo = new Map<string, string[]>();
    for (const [target, actions] of byTarget) {
      const ddb = [...actions].filter((a) => a.startsWith('dynamodb:'));
      if (ddb.length) dynamo.set(target, ddb.sort());
    }
    expect(Object.fromEntries(dynamo)).toEqual(
      Object.fromEntries(expectedDynamo[name].map(([id, actions]) => [id(), actions.map((a) => `dynamodb:${a}`).sort()])),
    );
  });

  it('grants table actions on the tables themselves, never on an index', () => {
    for (const name of FUNCTION_NAMES) {
      for (const st of statements(name)) {
        const actions = asArray(st.Action).filter((a) => a.startsWith('dynamodb:'));
        if (actions.length === 0) continue;
        for (const resource of asArray(st.Resource).map(flatten)) expect({ name, resource }).toEqual({ name, resource: expect.stringMatching(/^<Tables\w+\.Arn>$/) });
      }
    }
  });

  it('no function has a wildcard action or a * resource', () => {
    for (const name of FUNCTION_NAMES) {
      for (const st of statements(name)) {
        for (const action of asArray(st.Action)) expect(action).not.toMatch(/\*/);
        expect({ name, resource: asArray(st.Resource).includes('*') }).toEqual({ name, resource: false });
      }
    }
  });

  it('each function writes its own log group only, with no managed policy', () => {
    for (const name of FUNCTION_NAMES) {
      const role = template.toJSON().Resources[roleId(name)].Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      const logs = statements(name).filter((st) => asArray(st.Action).some((a) => a.startsWith('logs:')));
      expect(logs.flatMap((st) => asArray(st.Action)).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(logs.flatMap((st) => asArray(st.Resource))).toEqual([{ 'Fn::GetAtt': [logicalId(stack, stack.pipeline.functions.logGroups[name]), 'Arn'] }]);
    }
  });

  const secretStatements = (name: FunctionName) =>
    statements(name).filter((st) => asArray(st.Action).some((a) => a.startsWith('secretsmanager:')));

  it("the dispatcher may only read the tenants' credentials secrets", () => {
    const sts = secretStatements('dispatcher');
    expect(sts).toHaveLength(1);
    expect(asArray(sts[0].Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(asArray(sts[0].Resource).map(flatten)).toEqual([
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/tenants/*',
    ]);
  });

  it("the webhooks API reads and writes the tenants' credentials secrets and the portal signing key, and nothing else; it never deletes one", () => {
    const sts = secretStatements('webhooks-api');
    for (const st of sts) {
      expect(asArray(st.Action).sort()).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    }
    expect(sts.flatMap((st) => asArray(st.Resource).map(flatten)).sort()).toEqual([
      // Exactly one secret: Secrets Manager's six-character suffix, no wildcard.
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/portal-signing-key-??????',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/tenants/*',
    ]);
  });

  it("webhook-test only reads the tenants' credentials secrets and the portal signing key", () => {
    const sts = secretStatements('webhook-test');
    expect(sts.flatMap((st) => asArray(st.Action))).toEqual(sts.map(() => 'secretsmanager:GetSecretValue'));
    expect(sts.flatMap((st) => asArray(st.Resource).map(flatten)).sort()).toEqual([
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/portal-signing-key-??????',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/tenants/*',
    ]);
  });

  it('only the admin API reads the admin key, and no other secret', () => {
    const adminKeyId = logicalId(stack, stack.pipeline.adminKey);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'hookline/admin-api-key',
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    const sts = secretStatements('admin-api');
    expect(sts.flatMap((st) => asArray(st.Resource))).toEqual([{ Ref: adminKeyId }]);
    expect(sts.flatMap((st) => asArray(st.Action))).toEqual(['secretsmanager:GetSecretValue']);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'admin-api')) {
      expect(JSON.stringify(statements(name))).not.toContain(adminKeyId);
    }
    for (const name of ['ingest', 'fanout', 'openapi'] as const) expect(secretStatements(name)).toEqual([]);
  });

  it('queue sends go to the right queues only', () => {
    const q = (queue: 'eventsQueue' | 'deliveriesQueue') => logicalId(stack, stack.pipeline.queues[queue]);
    const senders = (name: FunctionName) =>
      [...actionsByTarget(statements(name))].filter(([, a]) => a.has('sqs:SendMessage')).map(([target]) => target).sort();
    // SendMessageBatch is authorized as sqs:SendMessage, the only SQS action function code calls
    // (the event source mappings' statements, which receive and delete, aside).
    for (const name of FUNCTION_NAMES) {
      const sqs = statements(name)
        .filter((st) => !asArray(st.Action).includes('sqs:ReceiveMessage'))
        .flatMap((st) => asArray(st.Action))
        .filter((a) => a.startsWith('sqs:'));
      expect(new Set(sqs)).toEqual(new Set(sqs.length ? ['sqs:SendMessage'] : []));
    }
    expect(senders('ingest')).toEqual([q('eventsQueue')]);
    expect(senders('fanout')).toEqual([q('deliveriesQueue')]);
    expect(senders('dispatcher')).toEqual([q('deliveriesQueue')]);
    // Manual retry and recover re-queue deliveries.
    expect(senders('webhooks-api')).toEqual([q('deliveriesQueue')]);
    for (const name of ['admin-api', 'openapi', 'webhook-test'] as const) expect(senders(name)).toEqual([]);
    // Nobody but Scheduler (for dead-lettering) sends to the SchedulerDLQ.
    const schedulerDlq = logicalId(stack, stack.pipeline.queues.schedulerDlq);
    for (const name of FUNCTION_NAMES) expect(JSON.stringify(statements(name))).not.toContain(schedulerDlq);
  });

  it('openapi may only write its own logs', () => {
    const actions = statements('openapi').flatMap((st) => asArray(st.Action));
    expect(actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});

describe('scheduling and outputs', () => {
  it('schedules nothing: no reconciler on AWS (each message stays queued until its next step is)', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(FUNCTION_NAMES).not.toContain('reconciler');
  });

  it('outputs the API URL, table names and queue URLs', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        ...Object.values(TABLES).map((s) => `${s.id}TableName`),
        'EventsQueueUrl',
        'DeliveriesQueueUrl',
        'RetryScheduleGroupName',
        'SchedulerDLQUrl',
      ]),
    );
  });
});

describe('retry schedules', () => {
  const GROUP = 'HooklineTest-retries';
  const groupId = () => logicalId(stack, stack.pipeline.retries.scheduleGroup);
  const schedulerRoleId = () => logicalId(stack, stack.pipeline.retries.schedulerRole);
  const queueId = (queue: 'deliveriesQueue' | 'schedulerDlq') => logicalId(stack, stack.pipeline.queues[queue]);
  const SCHEDULER_ENV = [
    EXTRA_ENV.scheduleGroup,
    EXTRA_ENV.schedulerRoleArn,
    EXTRA_ENV.schedulerTargetArn,
    EXTRA_ENV.schedulerDlqArn,
  ] as const;

  it('go into a schedule group of the stack, named after it, deleted with it', () => {
    expect(retryScheduleGroupName(stack.stackName)).toBe(GROUP);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    const group = template.toJSON().Resources[groupId()];
    expect(group.Type).toBe('AWS::Scheduler::ScheduleGroup');
    expect(group.Properties.Name).toBe(GROUP);
    expect(group.DeletionPolicy).toBe('Delete');
    // The stack creates no schedules itself: the dispatcher does, at runtime.
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('are run by a role only EventBridge Scheduler, for this account and group, can assume', () => {
    const role = template.toJSON().Resources[schedulerRoleId()].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': '123456789012',
            'aws:SourceArn': { 'Fn::GetAtt': [groupId(), 'Arn'] },
          },
        },
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
  });

  it('whose only permission is SendMessage on the deliveries queue and the SchedulerDLQ', () => {
    const sts = statementsOfRole(template, schedulerRoleId());
    expect(sts.every((st) => st.Effect === 'Allow' && st.Condition === undefined)).toBe(true);
    const byTarget = Object.fromEntries([...actionsByTarget(sts)].map(([target, actions]) => [target, [...actions]]));
    expect(byTarget).toEqual({
      [queueId('deliveriesQueue')]: ['sqs:SendMessage'],
      [queueId('schedulerDlq')]: ['sqs:SendMessage'],
    });
  });

  const schedulerStatements = (name: FunctionName) =>
    statements(name).filter((st) => asArray(st.Action).some((a) => a.startsWith('scheduler:')));

  it('are created by the dispatcher in that group only', () => {
    const sts = schedulerStatements('dispatcher');
    expect(sts).toHaveLength(1);
    expect(asArray(sts[0].Action)).toEqual(['scheduler:CreateSchedule']);
    const resources = asArray(sts[0].Resource).map(flatten);
    expect(resources).toEqual([`arn:aws:scheduler:eu-west-1:123456789012:schedule/${GROUP}/*`]);
    for (const resource of resources) {
      expect(resource.endsWith(`schedule/${GROUP}/*`)).toBe(true);
      expect(resource).not.toMatch(/schedule\/\*/);
    }
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'dispatcher')) expect(schedulerStatements(name)).toEqual([]);
  });

  it('may be handed only SchedulerRole, only by the dispatcher, only for Scheduler', () => {
    const iam = (name: FunctionName) => statements(name).filter((st) => asArray(st.Action).some((a) => a.startsWith('iam:')));
    expect(iam('dispatcher')).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [schedulerRoleId(), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'dispatcher')) expect(iam(name)).toEqual([]);
  });

  it('are described to the dispatcher by its environment, and to no other function', () => {
    const env = fnProps('dispatcher').Environment.Variables;
    expect(env[EXTRA_ENV.scheduleGroup]).toEqual({ Ref: groupId() });
    expect(env[EXTRA_ENV.schedulerRoleArn]).toEqual({ 'Fn::GetAtt': [schedulerRoleId(), 'Arn'] });
    expect(env[EXTRA_ENV.schedulerTargetArn]).toEqual({ 'Fn::GetAtt': [queueId('deliveriesQueue'), 'Arn'] });
    expect(env[EXTRA_ENV.schedulerDlqArn]).toEqual({ 'Fn::GetAtt': [queueId('schedulerDlq'), 'Arn'] });
    // Default props: no sender, no public URL.
    expect(env).not.toHaveProperty([EXTRA_ENV.senderEmail]);
    expect(env).not.toHaveProperty([EXTRA_ENV.publicUrl]);
    for (const name of FUNCTION_NAMES) {
      const vars = fnProps(name).Environment.Variables;
      if (name === 'dispatcher') continue;
      for (const variable of [...SCHEDULER_ENV, EXTRA_ENV.senderEmail, EXTRA_ENV.publicUrl]) {
        expect(vars).not.toHaveProperty([variable]);
      }
    }
  });

  it('dead-letter into an encrypted, TLS-only SchedulerDLQ kept 14 days, with an alarm', () => {
    const id = queueId('schedulerDlq');
    expect(stack.pipeline.queues.schedulerDlq.node.id).toBe('SchedulerDLQ');
    const q = template.toJSON().Resources[id].Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(q.RedrivePolicy).toBeUndefined();
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((p) =>
      p.Properties.Queues.some((r: { Ref: string }) => r.Ref === id),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^Messages in SchedulerDLQ: '),
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('get a group name of at most 64 characters, the same for the same stack, for any stack name', () => {
    expect(retryScheduleGroupName('Hookline')).toBe('Hookline-retries');
    const a = `A${'x'.repeat(127)}`;
    const b = `A${'x'.repeat(126)}y`;
    for (const name of [a, b]) {
      expect(retryScheduleGroupName(name)).toMatch(/^[0-9A-Za-z._-]{1,64}$/);
      expect(retryScheduleGroupName(name)).toBe(retryScheduleGroupName(name));
      expect(retryScheduleGroupName(name).endsWith('-retries')).toBe(true);
    }
    expect(retryScheduleGroupName(a)).not.toBe(retryScheduleGroupName(b));
  });
});

describe('security', () => {
  it('no IAM policy of the stack has a wildcard action or a * resource', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
    // One per function role and SchedulerRole's.
    expect(policies).toHaveLength(FUNCTION_NAMES.length + 1);
    for (const [id, policy] of policies) {
      for (const st of policy.Properties.PolicyDocument.Statement as Statement[]) {
        expect({ id, effect: st.Effect }).toEqual({ id, effect: 'Allow' });
        for (const action of asArray(st.Action)) {
          // Neither `*` nor `service:*`, nor a prefix such as `dynamodb:Get*`.
          expect({ id, action, wildcard: action.includes('*') }).toEqual({ id, action, wildcard: false });
        }
        expect({ id, resource: asArray(st.Resource).includes('*') }).toEqual({ id, resource: false });
      }
    }
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      expect({ id, inline: role.Properties.Policies, managed: role.Properties.ManagedPolicyArns }).toEqual({
        id,
        inline: undefined,
        managed: undefined,
      });
    }
  });

  it('encrypts every table, explicitly with the AWS managed key', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const table of tables) expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('encrypts every queue and refuses plain-text transport to it', () => {
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(5);
    for (const [id, queue] of queues) {
      const p = queue.Properties;
      expect({ id, encrypted: p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined }).toEqual({ id, encrypted: true });
    }
  });

  it('keeps no secret value in the template: the admin key is generated by Secrets Manager, encrypted at rest', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    for (const secret of secrets) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toBeDefined();
      // No KmsKeyId: Secrets Manager encrypts with the account's aws/secretsmanager key.
      expect(secret.Properties.KmsKeyId).toBeUndefined();
    }
    // And no function environment carries it.
    const raw = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(raw).not.toMatch(/SecretString|resolve:secretsmanager/);
  });

  const stage = () => {
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(1);
    return stages[0];
  };

  it('throttles every route of the API stage, POST /v1/events on its own, far above one tenant\'s limit (a safety net)', () => {
    const p = stage().Properties;
    expect(p.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 4000 });
    expect(INGEST_ROUTE_KEY).toBe('POST /v1/events');
    expect(p.RouteSettings).toEqual({ [INGEST_ROUTE_KEY]: { ThrottlingRateLimit: 5000, ThrottlingBurstLimit: 5000 } });
    // The route exists, and the stage is created after it (route settings name an existing route).
    const routes = template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: INGEST_ROUTE_KEY } });
    expect(Object.keys(routes)).toHaveLength(1);
    expect(stage().DependsOn).toEqual(expect.arrayContaining(Object.keys(routes)));
  });

  it('logs every request as JSON with its id, caller IP, route and status, never credentials or bodies', () => {
    const settings = stage().Properties.AccessLogSettings;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.pipeline.api.accessLogs), 'Arn'] });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    // HTTP API access logs can only hold what a $context variable names: no header, no body, no
    // authorizer output.
    for (const value of Object.values(format)) {
      expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(value).not.toMatch(/authoriz|header|body|apikey|api_key/i);
    }
  });
});
