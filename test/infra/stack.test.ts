/**
 * The synthesized Hookline stack with default props: its functions, tables, queues, HTTP API and
 * outputs. Its permissions and retry schedules have files of their own (stack-*.test.ts).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../shared/config.ts';
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import { ROUTES } from '../../shared/http/routes.ts';
import { FUNCTION_NAMES } from '../../infra/stack/functions.ts';
import { EXTRA_ENV } from '../../infra/stack/hookline-stack.ts';
import { CATALOGUE_ENV } from '../../infra/stack/functions.ts';
import { logicalId } from './helpers.ts';
import { fnId, fnProps, stack, synthDefaultStack, tableId, template } from './stack-fixture.ts';

synthDefaultStack();

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
