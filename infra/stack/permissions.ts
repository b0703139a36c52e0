/**
 * Least-privilege grants, derived from code: each function gets exactly the calls of the adapter
 * methods its composition root hands out (function-calls.ts; each AWS adapter declares, method by
 * method, what it calls on which resource), resolved here to this stack's resources. There is no
 * list of grants to keep in step with the code by hand.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { AwsCall, AwsResource } from '../../shared/adapters/aws/aws-calls.ts';
import { portalKeySecretName } from '../../shared/compose/portal-sessions.ts';
import { awsCallsOf } from './function-calls.ts';
import { FUNCTION_NAMES, type FunctionName } from './functions.ts';
import type { HooklineQueues } from './queues.ts';
import { SCHEDULER_SERVICE } from './retries.ts';
import type { HooklineRetries } from './retries.ts';
import type { HooklineTables } from './tables.ts';

export interface GrantsProps {
  readonly functions: Record<FunctionName, LambdaFunction>;
  readonly tables: HooklineTables;
  readonly queues: HooklineQueues;
  readonly retries: HooklineRetries;
  readonly adminKey: Secret;
  /** e.g. `hookline/`: each tenant's webhook credentials are one secret, `<secretPrefix>tenants/<tenant id>`. */
  readonly secretPrefix: string;
  readonly senderEmail?: string;
}

/** Where a declared resource is in this stack: ARNs (and a condition), or nothing when the stack has no such resource. */
interface Resolved {
  readonly resources: readonly string[];
  readonly conditions?: Record<string, Record<string, string>>;
}

/** The grant of each function's calls; returns what it granted, per function (for the tests and nag acknowledgements). */
export function grantAll(props: GrantsProps): Record<FunctionName, readonly AwsCall[]> {
  const resolve = resolver(props);
  const granted = {} as Record<FunctionName, readonly AwsCall[]>;
  for (const name of FUNCTION_NAMES) {
    const calls = awsCallsOf(name);
    for (const call of calls) {
      const target = resolve(call.on);
      if (!target) continue;
      props.functions[name].addToRolePolicy(
        new PolicyStatement({ actions: [...call.actions], resources: [...target.resources], ...(target.conditions ? { conditions: target.conditions } : {}) }),
      );
    }
    granted[name] = calls;
  }
  acknowledgeWildcards(props, granted);
  return granted;
}

function resolver(props: GrantsProps): (on: AwsResource) => Resolved | undefined {
  const stack = Stack.of(props.adminKey);
  const queues = { events: props.queues.eventsQueue, deliveries: props.queues.deliveriesQueue } as const;
  return (on) => {
    switch (on.kind) {
      case 'table': {
        return { resources: props.tables.all[on.table].map((t) => t.tableArn) };
      }
      case 'queue':
        return { resources: [queues[on.queue].queueArn] };
      case 'secrets':
        return { resources: [on.scope === 'admin-key' ? props.adminKey.secretArn : on.scope === 'portal-key' ? portalKeyArn(props) : webhookSecretsArn(props)] };
      case 'sender-identity': {
        // Without a sender there is no ses:SendEmail: the dispatcher logs a warning instead of
        // emailing owners, and the webhooks API instead of sending verification links.
        if (!props.senderEmail) return undefined;
        // SES authorizes against the address identity or, when only the domain is verified, the domain.
        const identities = [props.senderEmail, props.senderEmail.split('@')[1]!];
        return { resources: identities.map((identity) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })) };
      }
      case 'retry-schedules':
        return { resources: [retrySchedulesArn(props)] };
      case 'scheduler-role':
        // The only role the dispatcher may hand over, and only to EventBridge Scheduler.
        return { resources: [props.retries.schedulerRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } } };
    }
  };
}

/** Tenants' credentials secrets are created at runtime, so they can only be named by their prefix. */
const webhookSecretsArn = (props: GrantsProps): string =>
  Stack.of(props.adminKey).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${props.secretPrefix}tenants/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * The portal signing key, made by the webhooks API on first use: its ARN ends in the six random
 * characters Secrets Manager appends, so it is named by `??????` (exactly one secret, no `*`).
 */
const portalKeyArn = (props: GrantsProps): string =>
  Stack.of(props.adminKey).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${portalKeySecretName(props)}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/** Every schedule of the retry group, and nothing outside it (schedule names are per delivery). */
const retrySchedulesArn = (props: GrantsProps): string =>
  Stack.of(props.adminKey).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${props.retries.scheduleGroupName}/*` });

/** The IAM5 findings the grants cause, each acknowledged on the one role it concerns. */
function acknowledgeWildcards(props: GrantsProps, granted: Record<FunctionName, readonly AwsCall[]>): void {
  const stack = Stack.of(props.adminKey);
  const has = (name: FunctionName, kind: AwsResource['kind'], scope?: string) =>
    granted[name].some((c) => c.on.kind === kind && (scope === undefined || (c.on.kind === 'secrets' && c.on.scope === scope)));
  for (const name of FUNCTION_NAMES) {
    const role = props.functions[name].role!;
    if (has(name, 'secrets', 'webhook-secrets')) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(webhookSecretsArn(props)))}]`,
        reason:
          "Webhook credentials secrets are created at runtime, one per tenant, so they can only be named by the <secretPrefix>tenants/* prefix; the prefix holds nothing but the tenants' webhook credentials.",
      });
    }
    if (has(name, 'retry-schedules')) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(retrySchedulesArn(props)))}]`,
        reason:
          'The dispatcher creates one retry schedule per pending attempt at runtime, so schedules can only be named by <group>/*; the group is the stack\'s own retry group, the only action is scheduler:CreateSchedule, and the only role it may pass is SchedulerRole, which can do nothing but send to the deliveries queue and its own dead-letter queue.',
      });
    }
  }
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
