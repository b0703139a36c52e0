/**
 * Least-privilege grants: each function gets exactly the table actions, queues and secrets its
 * handler uses, through the L2 grant methods wherever one exists.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { CfnTable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { HooklineQueues } from './queues.ts';
import { SCHEDULER_SERVICE } from './retries.ts';
import type { HooklineRetries } from './retries.ts';
import type { HooklineTables } from './tables.ts';
import type { FunctionName } from './functions.ts';

export interface GrantsProps {
  readonly functions: Record<FunctionName, NodejsFunction>;
  readonly tables: HooklineTables;
  readonly queues: HooklineQueues;
  readonly retries: HooklineRetries;
  readonly adminKey: Secret;
  /** e.g. `hookline/`: per-webhook secrets are `<secretPrefix>webhooks/<tenant id>/<webhook id>`. */
  readonly secretPrefix: string;
  readonly senderEmail?: string;
}

/** Secrets Manager actions the webhooks API needs to manage per-webhook signing secrets. */
export const WEBHOOK_SECRET_MANAGE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:DescribeSecret',
  'secretsmanager:TagResource',
] as const;

const ddb = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);

export function grantAll(props: GrantsProps): void {
  const { functions: f, tables: t, queues: q } = props;
  const stack = Stack.of(props.adminKey);
  const webhookSecretsArn = stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${props.secretPrefix}webhooks/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  // Every schedule of the retry group, and nothing outside it (schedule names are per delivery).
  const retrySchedulesArn = stack.formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${props.retries.scheduleGroupName}/*`,
  });
  const webhookSecrets = (fn: NodejsFunction, actions: readonly string[]) =>
    Grant.addToPrincipal({ grantee: fn, actions: [...actions], resourceArns: [webhookSecretsArn] });

  // ingest: authenticate the key, store the event idempotently, hand it to fan-out.
  t.tenants.grant(f.ingest, ...ddb('GetItem'));
  t.events.grant(f.ingest, ...ddb('PutItem', 'GetItem', 'UpdateItem'));
  q.eventsQueue.grantSendMessages(f.ingest);

  // fanout: match the tenant's webhooks, create one delivery per match, queue them.
  t.events.grant(f.fanout, ...ddb('GetItem', 'UpdateItem'));
  t.webhooks.grant(f.fanout, ...ddb('Query'));
  t.deliveries.grant(f.fanout, ...ddb('PutItem', 'BatchWriteItem', 'UpdateItem'));
  q.deliveriesQueue.grantSendMessages(f.fanout);

  // dispatcher: one attempt per message; re-queues the next attempt itself.
  t.deliveries.grant(f.dispatcher, ...ddb('GetItem', 'UpdateItem'));
  t.events.grant(f.dispatcher, ...ddb('GetItem', 'BatchGetItem'));
  t.webhooks.grant(f.dispatcher, ...ddb('GetItem', 'UpdateItem', 'BatchGetItem'));
  t.attempts.grant(f.dispatcher, ...ddb('PutItem', 'BatchWriteItem'));
  // Owner emails: the tenant's own address (GetItem) and its hourly email counter (UpdateItem).
  t.tenants.grant(f.dispatcher, ...ddb('GetItem', 'UpdateItem'));
  webhookSecrets(f.dispatcher, ['secretsmanager:GetSecretValue']);
  q.deliveriesQueue.grantSendMessages(f.dispatcher);
  // Rungs later than SQS's 15-minute delay become one-time schedules in the retry group, run
  // by SchedulerRole; the dispatcher may create them there and hand over that role, no other.
  Grant.addToPrincipal({ grantee: f.dispatcher, actions: ['scheduler:CreateSchedule'], resourceArns: [retrySchedulesArn] });
  f.dispatcher.addToRolePolicy(
    new PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [props.retries.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
    }),
  );
  // Without a sender there is no ses:SendEmail: the dispatcher logs a warning instead of emailing
  // owners, and the webhooks API instead of sending verification links.
  if (props.senderEmail) {
    const domain = props.senderEmail.split('@')[1];
    for (const grantee of [f.dispatcher, f['webhooks-api']]) {
      Grant.addToPrincipal({
        grantee,
        actions: ['ses:SendEmail'],
        // SES authorizes against the address identity or, when only the domain is verified, the domain.
        resourceArns: [props.senderEmail, domain].map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
      });
    }
  }

  // webhooks-api: CRUD on the tenant's webhooks and their signing secrets, the delivery log;
  // manual retry of a delivery and recovery of a webhook re-queue deliveries.
  // UpdateItem: the tenant's webhook counter, an atomic quota (HOOKLINE_MAX_WEBHOOKS_PER_TENANT),
  // and its hourly email counter (owner address verification emails).
  t.tenants.grant(f['webhooks-api'], ...ddb('GetItem', 'UpdateItem'));
  t.webhooks.grant(f['webhooks-api'], ...ddb('GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'));
  t.deliveries.grant(f['webhooks-api'], ...ddb('GetItem', 'UpdateItem'));
  // PutItem: the test event is logged like any attempt.
  t.attempts.grant(f['webhooks-api'], ...ddb('Query', 'PutItem'));
  t.events.grant(f['webhooks-api'], ...ddb('GetItem'));
  webhookSecrets(f['webhooks-api'], WEBHOOK_SECRET_MANAGE_ACTIONS);
  q.deliveriesQueue.grantSendMessages(f['webhooks-api']);

  // admin-api: create tenants and their keys, authenticated by the admin key. Keys are listed on
  // the tenant's item (UpdateItem) and revoked by deleting their lookup item (DeleteItem).
  t.tenants.grant(f['admin-api'], ...ddb('GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'));
  props.adminKey.grantRead(f['admin-api']);

  // openapi: serves a static document, no grants.

  // reconciler: re-queues events and deliveries that are due but were never (re)queued.
  t.events.grant(f.reconciler, ...ddb('Query', 'GetItem', 'UpdateItem'));
  t.deliveries.grant(f.reconciler, ...ddb('Query', 'GetItem', 'UpdateItem'));
  q.eventsQueue.grantSendMessages(f.reconciler);
  q.deliveriesQueue.grantSendMessages(f.reconciler);

  acknowledgeWildcards(props, webhookSecretsArn, retrySchedulesArn);
}

/** The IAM5 findings the grants above cause, each acknowledged on the one role it concerns. */
function acknowledgeWildcards(props: GrantsProps, webhookSecretsArn: string, retrySchedulesArn: string): void {
  const { functions: f, tables: t } = props;
  const stack = Stack.of(props.adminKey);
  // cdk-nag names a resource by its flattened CloudFormation form: `<LogicalId.Arn>/index/*`.
  const indexFinding = (table: Table) =>
    `AwsSolutions-IAM5[Resource::<${stack.resolve((table.node.defaultChild as CfnTable).logicalId)}.Arn>/index/*]`;
  const secretFinding = `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(webhookSecretsArn))}]`;
  const indexReason = (table: string) =>
    `The table grant adds ${table}/index/*: the only index is the sparse 'due' index, which this function Queries (or that the grant includes for the table's own actions); no other table is matched.`;
  const secretReason =
    'Per-webhook signing secrets are created at runtime, one per webhook, so they can only be named by the <secretPrefix>webhooks/* prefix; the prefix holds nothing but webhook signing secrets.';

  const indexedOn: [FunctionName, Table, string][] = [
    ['ingest', t.events, 'Events'],
    ['fanout', t.events, 'Events'],
    ['fanout', t.deliveries, 'Deliveries'],
    ['dispatcher', t.events, 'Events'],
    ['dispatcher', t.deliveries, 'Deliveries'],
    ['webhooks-api', t.deliveries, 'Deliveries'],
    ['webhooks-api', t.events, 'Events'],
    ['reconciler', t.events, 'Events'],
    ['reconciler', t.deliveries, 'Deliveries'],
  ];
  for (const [name, table, label] of indexedOn) {
    Validations.of(f[name].role!).acknowledge({ id: indexFinding(table), reason: indexReason(label) });
  }
  for (const name of ['dispatcher', 'webhooks-api'] as const) {
    Validations.of(f[name].role!).acknowledge({ id: secretFinding, reason: secretReason });
  }
  Validations.of(f.dispatcher.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(retrySchedulesArn))}]`,
    reason:
      'The dispatcher creates one retry schedule per pending attempt at runtime, so schedules can only be named by <group>/*; the group is the stack\'s own retry group, the only action is scheduler:CreateSchedule, and the only role it may pass is SchedulerRole, which can do nothing but send to the deliveries queue and its own dead-letter queue.',
  });
}

/** Renders a resolved `Fn::Join` of pseudo parameters the way cdk-nag prints it. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}
