/**
 * The synthesized Hookline stack's permissions: what each function's role may do, table by
 * table and secret by secret, and the stack-wide security properties (encryption, TLS, no
 * wildcard, no secret in the template, throttles, access logs).
 */
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import { FUNCTION_NAMES } from '../../infra/stack/functions.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { INGEST_ROUTE_KEY } from '../../infra/stack/api.ts';
import { actionsByTarget, asArray, flatten, logicalId } from './helpers.ts';
import type { Statement } from './helpers.ts';
import { roleId, stack, statements, synthDefaultStack, tableId, template } from './stack-fixture.ts';

synthDefaultStack();

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
