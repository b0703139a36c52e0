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
import { DynamoCredentialsLock } from '../../shared/adapters/aws/dynamo-credentials-lock.ts';
import { DynamoDeliveryLog } from '../../shared/adapters/aws/dynamo-delivery-log.ts';
import { DynamoDeliveryLogReader } from '../../shared/adapters/aws/dynamo-delivery-log-reader.ts';
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

/** What a command was, as IAM names it, and which resource it named (a table's index is none the stack grants). */
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

/** Every command sent is one of the method's declared actions, on its declared resource; a method that declares none sends none. */
function expectDeclared(calls: readonly AwsCall[], sent: readonly Sent[]) {
  if (calls.length === 0) {
    expect(sent).toEqual([]);
    return;
  }
  expect(sent.length).toBeGreaterThan(0);
  for (const s of sent) {
    const allowed = calls.some(
      (c) =>
        c.actions.includes(s.action) &&
        (c.on.kind !== 'table' || (c.on.table === s.table && s.index === undefined)) &&
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
      ['get', (a) => a.get('t1', 'e1', true)],
      ['forget', (a) => a.forget([event()])],
      ['forget', (a) => a.forget([event()]), { DeleteCommand: conditionFailed }],
    ]);
  });

  it('DynamoDeliveryLog and DynamoDeliveryLogReader', async () => {
    const attempt: Attempt = {
      id: 'a1', tenant_id: 't1', webhook_id: 'w1', delivery_id: 'd1', event_id: 'e1', event: 'scan.completed',
      attempt: 1, trigger: 'scheduled', success: true, status_code: 200, response_time_ms: 5, attempted_at: AT,
    };
    const summary = { attempt: 1, status_code: 200, attempted_at: AT };
    const ref = { delivery_id: 'd1', tenant_id: 't1', webhook_id: 'w1' };
    const reads: Scenario<DynamoDeliveryLogReader>[] = [
      ['get', (a) => a.get(ref)],
      ['reopen', (a) => a.reopen(ref, new Date())],
      ['list', (a) => a.list('t1', 'w1', page)],
      ['failedDeliveriesSince', (a) => a.failedDeliveriesSince('w1', new Date(), 10)],
    ];
    await check('dynamodb', (c: never) => new DynamoDeliveryLogReader(doc(c), 'attempts', 30), reads);
    await check('dynamodb', (c: never) => new DynamoDeliveryLog(doc(c), 'attempts', 30), [
      ...reads,
      ['claim', (a) => a.claim(message(1), new Date(), new Date())],
      ['recordOutcome', (a) => a.recordOutcome(attempt, { kind: 'succeeded' }, new Date(), summary, 'healthy')],
      ['recordOutcome', (a) => a.recordOutcome(attempt, { kind: 'succeeded' }, new Date(), summary), { PutCommand: conditionFailed }],
      ['complete', (a) => a.complete(ref, 1, { kind: 'cancelled', reason: 'webhook deleted' }, new Date())],
      ['settleFollowUp', (a) => a.settleFollowUp(ref, 1)],
      ['settleFollowUp', (a) => a.settleFollowUp(ref, 1), { UpdateCommand: conditionFailed }],
      ['record', (a) => a.record(attempt)],
    ]);
  });

  it('DynamoEmailQuota', async () => {
    await check('dynamodb', (c: never) => new DynamoEmailQuota(doc(c), 'tenants', 5), [['take', (a) => a.take('t1', new Date())], ['giveBack', (a) => a.giveBack('t1', new Date())]]);
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
    const store = new DynamoDeliveryLog(recordingClient<DynamoDBDocumentClient>('dynamodb').client, 'attempts', 30);
    const claims = log.use(store, 'claim', 'complete');
    log.use(store, 'get');
    expect(claims).toBe(store);
    expect(log.calls).toEqual([{ on: { kind: 'table', table: 'attempts' }, actions: ['dynamodb:GetItem', 'dynamodb:Query'] }]);
    log.use(store, 'recordOutcome', 'settleFollowUp');
    expect(log.calls).toEqual([{ on: { kind: 'table', table: 'attempts' }, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] }]);
  });

  it('refuses a method its adapter declares nothing for', () => {
    const adapter = { awsCalls: {}, run: () => undefined };
    expect(() => new AwsCallLog().use(adapter, 'run')).toThrow(/declares no AWS calls for run/);
  });
});
