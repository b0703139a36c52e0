/**
 * The Lambda suite's own machinery, on a small hand-written template: IAM evaluation (wildcards,
 * conditions, explicit and resource-policy denies), the actions read from SDK requests, the
 * intrinsic functions, the grant edit and the unused-grant table. (lambda.test.ts runs it all
 * against the real stack; this shows each rule can refuse.)
 */
import { apiRoutes, selectRoute } from './api-gateway.ts';
import { describeCall } from './aws-requests.ts';
import { unusedGrantsTable, withoutGrant } from './grants.ts';
import { AccessLog, ResourcePolicies, RolePolicies, trustAllows } from './iam.ts';
import { StackModel, type CfnTemplate } from './template.ts';

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const TEMPLATE: CfnTemplate = {
  Resources: {
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    SchedulerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceArn': arnOf('Group') } },
            },
          ],
        },
      },
    },
    Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'retries' } },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: {
          Statement: [{ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Resource: arnOf('Queue'), Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
        },
      },
    },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [arnOf('Table'), { 'Fn::Join': ['', [arnOf('Table'), '/index/*']] }] },
            { Effect: 'Deny', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [arnOf('Table'), '/index/private']] } },
            { Effect: 'Allow', Action: 'sqs:Send*', Resource: arnOf('Queue') },
            { Effect: 'Allow', Action: 'iam:PassRole', Resource: arnOf('SchedulerRole'), Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
            { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:app/?ebhooks/*' } },
          ],
        },
      },
    },
  },
};

const model = new StackModel(TEMPLATE, '/nowhere', 'Stack');
const table = model.arnOf('Table');
const queue = model.arnOf('Queue');
const role = new RolePolicies(model, 'Role');

describe('RolePolicies', () => {
  it('allows what a statement grants, by action and resource, with wildcards, and nothing else', () => {
    expect(role.evaluate({ action: 'dynamodb:GetItem', resource: table }).allowed).toBe(true);
    expect(role.evaluate({ action: 'DynamoDB:getitem', resource: table }).allowed).toBe(true);
    expect(role.evaluate({ action: 'dynamodb:PutItem', resource: table }).allowed).toBe(false);
    expect(role.evaluate({ action: 'dynamodb:GetItem', resource: `${table}-other` }).allowed).toBe(false);
    expect(role.evaluate({ action: 'dynamodb:Query', resource: `${table}/index/due` }).allowed).toBe(true);
    expect(role.evaluate({ action: 'sqs:SendMessage', resource: queue }).allowed).toBe(true);
    expect(role.evaluate({ action: 'sqs:ReceiveMessage', resource: queue }).allowed).toBe(false);
    const secret = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app/webhooks/t/w-AbCdEf';
    expect(role.evaluate({ action: 'secretsmanager:GetSecretValue', resource: secret }).allowed).toBe(true);
    expect(role.evaluate({ action: 'secretsmanager:GetSecretValue', resource: secret.replace('app/', 'other/') }).allowed).toBe(false);
  });

  it('lets an explicit Deny win over an Allow', () => {
    const decision = role.evaluate({ action: 'dynamodb:Query', resource: `${table}/index/private` });
    expect(decision).toMatchObject({ allowed: false, explicitDeny: true });
  });

  it('checks conditions against the request context', () => {
    const passRole = { action: 'iam:PassRole', resource: model.arnOf('SchedulerRole') };
    expect(role.evaluate({ ...passRole, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }).allowed).toBe(true);
    expect(role.evaluate({ ...passRole, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }).allowed).toBe(false);
    expect(role.evaluate(passRole).allowed).toBe(false);
  });

  it('reads trust policies: Scheduler may assume the role for its own group only', () => {
    expect(trustAllows(model, 'SchedulerRole', 'scheduler.amazonaws.com', { 'aws:SourceArn': model.arnOf('Group') })).toBe(true);
    expect(trustAllows(model, 'SchedulerRole', 'scheduler.amazonaws.com', { 'aws:SourceArn': 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/other' })).toBe(false);
    expect(trustAllows(model, 'SchedulerRole', 'lambda.amazonaws.com', { 'aws:SourceArn': model.arnOf('Group') })).toBe(false);
  });
});

describe('AccessLog', () => {
  it('records the grants calls used, the denials, and applies resource-policy denies', () => {
    const log = new AccessLog();
    const resources = new ResourcePolicies(model);
    expect(log.authorize('fn', 'sqs SendMessage', role, [{ action: 'sqs:SendMessage', resource: queue, context: { 'aws:SecureTransport': 'true' } }], resources)).toBeUndefined();
    const insecure = log.authorize('fn', 'sqs SendMessage', role, [{ action: 'sqs:SendMessage', resource: queue, context: { 'aws:SecureTransport': 'false' } }], resources);
    expect(insecure?.reason).toMatch(/resource-based policy \(QueuePolicy#0\)/);
    expect(log.authorize('fn', 'dynamodb PutItem', role, [{ action: 'dynamodb:PutItem', resource: table }])).toMatchObject({
      principal: 'fn',
      action: 'dynamodb:PutItem',
      reason: 'no identity-based policy allows the dynamodb:PutItem action',
    });
    expect(log.denials).toHaveLength(2);
    const unused = role.grants().filter((g) => !log.used.has(g.key)).map((g) => g.action);
    expect(unused).toContain('dynamodb:GetItem');
    expect(unused).not.toContain('sqs:Send*');
  });
});

describe('describeCall', () => {
  const options = { sesIdentityOf: (from: string) => from };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));

  it('authorizes a DynamoDB batch per table and a Query on an index as the index', () => {
    const batch = describeCall('dynamodb', 'POST', '/', { 'x-amz-target': 'DynamoDB_20120810.BatchWriteItem' }, json({ RequestItems: { a: [], b: [] } }), options);
    expect(batch.requests.map((r) => [r.action, r.resource])).toEqual([
      ['dynamodb:BatchWriteItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/a'],
      ['dynamodb:BatchWriteItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/b'],
    ]);
    const query = describeCall('dynamodb', 'POST', '/', { 'x-amz-target': 'DynamoDB_20120810.Query' }, json({ TableName: 'a', IndexName: 'due' }), options);
    expect(query.requests[0]!.resource).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/a/index/due');
  });

  it('reads SQS batches as their single-message action on the queue of QueueUrl', () => {
    const call = describeCall('sqs', 'POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessageBatch' }, json({ QueueUrl: 'http://127.0.0.1:1/000000000000/q' }), options);
    expect(call.requests[0]).toMatchObject({ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:q' });
  });

  it('needs iam:PassRole on the target role to create a schedule', () => {
    const call = describeCall('scheduler', 'POST', '/schedules/d-1', {}, json({ GroupName: 'retries', Target: { RoleArn: 'arn:aws:iam::000000000000:role/r' } }), options);
    expect(call.requests).toEqual([
      { action: 'scheduler:CreateSchedule', resource: 'arn:aws:scheduler:us-east-1:000000000000:schedule/retries/d-1' },
      { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/r', context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
  });

  it('authorizes SendEmail on the sending identity and secrets on their full ARN', () => {
    expect(describeCall('ses', 'POST', '/v2/email/outbound-emails', {}, json({ FromEmailAddress: 'a@b.example' }), options).requests[0]).toEqual({
      action: 'ses:SendEmail',
      resource: 'arn:aws:ses:us-east-1:000000000000:identity/a@b.example',
    });
    expect(describeCall('secretsmanager', 'POST', '/', { 'x-amz-target': 'secretsmanager.GetSecretValue' }, json({ SecretId: 'app/x' }), options).requests[0]!.resource).toBe(
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:app/x-AbCdEf',
    );
  });
});

describe('StackModel.resolve', () => {
  it('resolves Ref, GetAtt, Join, Select, Split and Sub', () => {
    const ctx = { sqsOrigin: 'http://127.0.0.1:9' };
    expect(model.resolve({ Ref: 'Queue' }, ctx)).toBe('http://127.0.0.1:9/000000000000/Stack-Queue');
    expect(model.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Join': [':', ['a', { Ref: 'AWS::Region' }]] }] }] }, ctx)).toBe('us-east-1');
    expect(model.resolve({ 'Fn::Sub': '${Table.Arn}/x/${!Literal}' }, ctx)).toBe(`${table}/x/\${Literal}`);
    expect(() => model.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] }, ctx)).toThrow(/not known/);
  });
});

describe('grants', () => {
  it('removes one action from a role, and refuses to remove one it does not have', () => {
    const edited = new StackModel(withoutGrant(TEMPLATE, 'Role', 'dynamodb:GetItem'), '/nowhere', 'Stack');
    const policies = new RolePolicies(edited, 'Role');
    expect(policies.evaluate({ action: 'dynamodb:GetItem', resource: table }).allowed).toBe(false);
    expect(policies.evaluate({ action: 'dynamodb:Query', resource: table }).allowed).toBe(true);
    expect(() => withoutGrant(TEMPLATE, 'Role', 'dynamodb:PutItem')).toThrow(/no grant/);
  });

  it('prints the unused grants one line per principal and resource', () => {
    const report = unusedGrantsTable(new Map([['fn', role.grants().filter((g) => g.action.startsWith('dynamodb'))], ['idle', []]]));
    expect(report).toMatch(/fn\s+dynamodb:GetItem, dynamodb:Query\s+table\/Stack-Table\n/);
    expect(report).toMatch(/idle\s+\(none\)/);
  });
});

describe('API Gateway routes', () => {
  const route = (key: string) => ({
    Type: 'AWS::ApiGatewayV2::Route',
    Properties: { RouteKey: key, Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] } },
  });
  const api = new StackModel(
    {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
        Integration: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { IntegrationUri: arnOf('Fn'), PayloadFormatVersion: '2.0' } },
        ById: route('GET /a/{id}'),
        Test: route('GET /a/test'),
        Fallback: route('$default'),
      },
    },
    '/nowhere',
    'Stack',
  );
  const routes = apiRoutes(api);

  it('selects the most specific route, then $default', () => {
    expect(selectRoute(routes, 'GET', '/a/test')?.routeKey).toBe('GET /a/test');
    expect(selectRoute(routes, 'GET', '/a/123')?.routeKey).toBe('GET /a/{id}');
    expect(selectRoute(routes, 'POST', '/a/123')?.routeKey).toBe('$default');
    expect(selectRoute(routes.filter((r) => r.routeKey !== '$default'), 'GET', '/b')).toBeUndefined();
  });
});
