/**
 * The AWS adapters' declarations (`awsCalls`), which the stack turns into IAM grants, against
 * what their methods really send: each method runs against a recording client, on its normal
 * path and on its fallback paths (a condition that fails, a secret not there yet), and every
 * command it sends must be a declared action on the declared resource. A declaration that lags
 * the code fails here, before the Lambda suite would meet the AccessDenied.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { AwsCallLog, type AwsAdapter, type AwsCall } from '../../shared/adapters/aws/aws-calls.ts';
import { DynamoAttemptLog } from '../../shared/adapters/aws/dynamo-attempt-log.ts';
import { DynamoCredentialsLock } from '../../shared/adapters/aws/dynamo-credentials-lock.ts';
import { DynamoDeliveryStore } from '../../shared/adapters/aws/dynamo-delivery-store.ts';
import { DynamoEmailQuota } from '../../shared/adapters/aws/dynamo-email-quota.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { SqsDeliveryQueue, SqsEventQueue } from '../../shared/adapters/aws/queues.ts';
import { SchedulerRetryTimer } from '../../shared/adapters/aws/scheduler-retry-timer.ts';
import { SecretsManagerStore } from '../../shared/adapters/aws/secrets-manager-store.ts';
import { SesMailer } from '../../shared/adapters/aws/ses-mailer.ts';
import type { Attempt, DeliveryMessage } from '../../shared/domain/deliveries.ts';
import type { StatusChange } from '../../shared/domain/webhooks.ts';
import type { ApiKeyRecord, Tenant } from '../../shared/usecases/tenants.ts';
import { event, webhook } from '../unit/usecases/fakes.ts';

/** What a command was, as IAM names it, and which resource it named. */
interface Sent {
  readonly action: string;
  readonly table?: string;
  readonly index?: string;
  readonly queue?: string;
}

const DYNAMO_ACTIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchWriteCommand: 'BatchWriteItem',
  BatchGetCommand: 'BatchGetItem',
};

function iamName(command: { constructor: { name: string }; input: Record<string, unknown> }, service: string): Sent {
  const name = command.constructor.name;
  if (service === 'dynamodb') {
    const input = command.input;
    const table = (input['TableName'] as string | undefined) ?? Object.keys((input['RequestItems'] as object | undefined) ?? {})[0];
    return { action: `dynamodb:${DYNAMO_ACTIONS[name]}`, table, index: input['IndexName'] as string | undefined };
  }
  if (service === 'sqs') return { action: 'sqs:SendMessage', queue: command.input['QueueUrl'] as string };
  return { action: `${service}:${name.replace(/Command$/, '')}` };
}

const conditionFailed = () => Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' });
const notFound = () => Object.assign(new Error('missing'), { name: 'ResourceNotFoundException' });

/** A client that records each command and answers `{}`, or what `fail` says for that command. */
function recordingClient<C>(service: string, fail: Record<string, () => Error> = {}) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push(iamName(command, service));
      const failure = fail[command.constructor.name];
      if (failure) throw failure();
      return {};
    },
  };
  return { client: client as unknown as C, sent };
}

/** Every command sent is one of the method's declared actions, on its declared resource. */
function expectDeclared(calls: readonly AwsCall[], sent: readonly Sent[]) {
  expect(sent.length).toBeGreaterThan(0);
  for (const s of sent) {
    const allowed = calls.some(
      (c) =>
        c.actions.includes(s.action) &&
        (c.on.kind !== 'table' || (c.on.table === s.table && c.on.index === s.index)) &&
        (c.on.kind !== 'queue' || c.on.queue === s.queue),
    );
    expect({ sent: s, allowed }).toEqual({ sent: s, allowed: true });
  }
}

type Scenario<A> = readonly [method: keyof A & string, run: (adapter: A) => Promise<unknown>, fail?: Record<string, () => Error>];

async function check<A extends AwsAdapter>(service: string, make: (client: never) => A, scenarios: readonly Scenario<NoInfer<A>>[]) {
  for (const [method, run, fail] of scenarios) {
    const { client, sent } = recordingClient<never>(service, fail);
    const adapter = make(client);
    await run(adapter).catch(() => undefined);
    expectDeclared(adapter.awsCalls[method]!, sent);
  }
}

const doc = (c: never) => c as DynamoDBDocumentClient;
const page = { page: 1, perPage: 10 };
const AT = '2025-01-01T00:00:00.000Z';
const tenant: Tenant = { id: 't1', name: 'T', owner_email: 'o@example.com', created_at: AT };
const key: ApiKeyRecord = { id: 'key_1', hash: 'h', prefix: 'hk_', created_at: AT };
const due = { delivery_id: 'd1', tenant_id: 't1', webhook_id: 'w1', event_id: 'e1', due_at: AT, attempts_completed: 0 };
const change: StatusChange = { status: 'failing', at: AT };
const message = (attempt: number): DeliveryMessage => ({ delivery_id: 'd1', tenant_id: 't1', webhook_id: 'w1', event_id: 'e1', attempt });

describe('AWS adapters send only what they declare', () => {
  it('DynamoTenantStore', async () => {
    await check('dynamodb', (c: never) => new DynamoTenantStore(doc(c), 'tenants'), [
      ['get', (a) => a.get('t1')],
      ['createIfAbsent', (a) => a.createIfAbsent(tenant)],
      ['reserve', (a) => a.reserve('t1', 5)],
      ['release', (a) => a.release('t1')],
      ['listKeys', (a) => a.listKeys('t1')],
      ['addKey', (a) => a.addKey('t1', key, 10)],
      ['addKey', (a) => a.addKey('t1', key, 10), { PutCommand: conditionFailed }],
      ['revokeKey', (a) => a.revokeKey('t1', 'h', 'key_1')],
      ['putKey', (a) => a.putKey('h', 't1', 'key_1')],
      ['tenantIdForKey', (a) => a.tenantIdForKey('h')],
    ]);
  });

  it('DynamoCredentialsLock', async () => {
    await check('dynamodb', (c: never) => new DynamoCredentialsLock(doc(c), 'tenants'), [
      ['acquire', (a) => a.acquire('t1', 'h1', new Date(), new Date(Date.now() + 30_000))],
      ['acquire', (a) => a.acquire('t1', 'h1', new Date(), new Date(Date.now() + 30_000)), { PutCommand: conditionFailed }],
      ['release', (a) => a.release('t1', 'h1')],
      ['release', (a) => a.release('t1', 'h1'), { DeleteCommand: conditionFailed }],
    ]);
  });

  it('DynamoWebhookStore', async () => {
    await check('dynamodb', (c: never) => new DynamoWebhookStore(doc(c), 'webhooks'), [
      ['get', (a) => a.get('t1', 'w1', true)],
      ['create', (a) => a.create(webhook())],
      ['update', (a) => a.update('t1', 'w1', { description: 'x' })],
      ['update', (a) => a.update('t1', 'w1', {})],
      ['transitionStatus', (a) => a.transitionStatus('t1', 'w1', ['healthy'], 'failing', new Date(), 'd1')],
      ['claimEmail', (a) => a.claimEmail('t1', 'w1', change, new Date(), new Date(0))],
      ['claimEmail', (a) => a.claimEmail('t1', 'w1', change, new Date(), new Date(0)), { UpdateCommand: conditionFailed }],
      ['keepUnsent', (a) => a.keepUnsent('t1', 'w1', [change], 1)],
      ['confirmOwnerEmail', (a) => a.confirmOwnerEmail('t1', 'w1', 'h', new Date())],
      ['delete', (a) => a.delete('t1', 'w1')],
      ['list', (a) => a.list('t1', page)],
      ['pages', async (a) => {
        for await (const _ of a.pages('t1')) void _;
      }],
    ]);
  });

  it('DynamoEventStore', async () => {
    await check('dynamodb', (c: never) => new DynamoEventStore(doc(c), 'events', 30), [
      ['putIfAbsent', (a) => a.putIfAbsent(event())],
      ['putIfAbsent', (a) => a.putIfAbsent(event()), { PutCommand: conditionFailed }],
      ['get', (a) => a.get('t1', 'e1')],
      ['finishFanout', (a) => a.finishFanout('t1', 'e1', new Date())],
      ['listDue', (a) => a.listDue(new Date(), 10)],
      ['postpone', (a) => a.postpone({ tenant_id: 't1', id: 'e1', due_at: '' }, new Date())],
      ['refreshDue', (a) => a.refreshDue({ tenant_id: 't1', id: 'e1', due_at: '' })],
      ['scanUnfinished', (a) => a.scanUnfinished()],
    ]);
  });

  it('DynamoDeliveryStore', async () => {
    const fresh = { delivery_id: 'd1', tenant_id: 't1', webhook_id: 'w1', event_id: 'e1', event_type: 'scan.completed' };
    await check('dynamodb', (c: never) => new DynamoDeliveryStore(doc(c), 'deliveries', 30), [
      ['createMany', (a) => a.createMany([fresh], new Date())],
      ['get', (a) => a.get('d1')],
      ['claim', (a) => a.claim('d1', 1, new Date(), new Date())],
      ['complete', (a) => a.complete('d1', 1, { kind: 'succeeded' }, new Date())],
      ['settleFollowUp', (a) => a.settleFollowUp('d1', 1)],
      ['reopen', (a) => a.reopen('d1', new Date())],
      ['listDue', (a) => a.listDue(new Date(), 10)],
      ['postpone', (a) => a.postpone(due, new Date())],
      ['refreshDue', (a) => a.refreshDue(due)],
      ['scanPending', (a) => a.scanPending()],
    ]);
  });

  it('DynamoAttemptLog and DynamoEmailQuota', async () => {
    const attempt: Attempt = {
      id: 'a1', tenant_id: 't1', webhook_id: 'w1', delivery_id: 'd1', event_id: 'e1', event: 'scan.completed',
      attempt: 1, trigger: 'scheduled', success: true, status_code: 200, response_time_ms: 5, attempted_at: AT,
    };
    await check('dynamodb', (c: never) => new DynamoAttemptLog(doc(c), 'attempts', 30), [
      ['record', (a) => a.record(attempt)],
      ['failedDeliveriesSince', (a) => a.failedDeliveriesSince('w1', new Date(), 10)],
      ['list', (a) => a.list('t1', 'w1', page)],
    ]);
    await check('dynamodb', (c: never) => new DynamoEmailQuota(doc(c), 'tenants', 5), [['take', (a) => a.take('t1', new Date())]]);
  });

  it('the SQS queues', async () => {
    await check('sqs', (c: never) => new SqsEventQueue(c as SQSClient, 'events'), [['enqueue', (a) => a.enqueue([event()])]]);
    await check('sqs', (c: never) => new SqsDeliveryQueue(c as SQSClient, 'deliveries', () => new Date()), [
      ['enqueue', (a) => a.enqueue([message(1)])],
      ['schedule', (a) => a.schedule(message(2), new Date(Date.now() + 3_600_000))],
    ]);
  });

  it('Secrets Manager, SES and EventBridge Scheduler', async () => {
    await check('secretsmanager', (c: never) => new SecretsManagerStore(c as SecretsManagerClient, 'webhook-secrets'), [
      ['get', (a) => a.get('hookline/tenants/t1')],
      ['put', (a) => a.put('hookline/tenants/t1', 'v')],
      ['put', (a) => a.put('hookline/tenants/t1', 'v'), { PutSecretValueCommand: notFound }],
      ['delete', (a) => a.delete('hookline/tenants/t1')],
    ]);
    await check('ses', (c: never) => new SesMailer(c as SESv2Client, 'hooks@example.com'), [['send', (a) => a.send({ to: 'o@example.com', subject: 's', text: 't' })]]);
    const target = { groupName: 'g', roleArn: 'r', queueArn: 'q', deadLetterQueueArn: 'd' };
    await check('scheduler', (c: never) => new SchedulerRetryTimer(c as SchedulerClient, target), [
      ['schedule', (a) => a.schedule(message(2), new Date())],
    ]);
  });
});

describe('AwsCallLog', () => {
  it('records the calls of the methods handed out, and only those, merged per resource', () => {
    const log = new AwsCallLog();
    const store = new DynamoDeliveryStore(recordingClient<DynamoDBDocumentClient>('dynamodb').client, 'deliveries', 30);
    const claims = log.use(store, 'claim', 'complete');
    log.use(store, 'get');
    expect(claims).toBe(store);
    expect(log.calls).toEqual([{ on: { kind: 'table', table: 'deliveries' }, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }]);
    log.use(store, 'listDue');
    expect(log.calls).toContainEqual({ on: { kind: 'table', table: 'deliveries', index: 'due' }, actions: ['dynamodb:Query'] });
  });

  it('refuses a method its adapter declares nothing for', () => {
    const adapter = { awsCalls: {}, run: () => undefined };
    expect(() => new AwsCallLog().use(adapter, 'run')).toThrow(/declares no AWS calls for run/);
  });
});
