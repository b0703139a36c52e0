/**
 * The retry ladder's infrastructure: when an attempt fails and the next rung is later than SQS
 * can delay a message (15 minutes), the dispatcher creates a one-time EventBridge Scheduler
 * schedule in the stack's own schedule group; at the due time Scheduler, assuming
 * SchedulerRole, sends the delivery message to the deliveries queue, or to SchedulerDLQ when it
 * cannot.
 */
import { createHash } from 'node:crypto';
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnScheduleGroup, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The service principal of EventBridge Scheduler. */
export const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

const GROUP_SUFFIX = '-retries';
/** Schedule group names: 1..64 characters of [0-9A-Za-z._-]. */
const GROUP_NAME_MAX = 64;

/**
 * `<stackName>-retries`, deterministic so that IAM policies can name the group. A stack name too
 * long for that (stack names go up to 128 characters) is cut and made unique again with a hash
 * of the whole name.
 */
export function retryScheduleGroupName(stackName: string): string {
  if (Token.isUnresolved(stackName)) throw new Error('HooklineStack: the stack name must be known at synth time');
  const name = `${stackName}${GROUP_SUFFIX}`;
  if (name.length <= GROUP_NAME_MAX) return name;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  return `${stackName.slice(0, GROUP_NAME_MAX - GROUP_SUFFIX.length - hash.length - 1)}-${hash}${GROUP_SUFFIX}`;
}

export interface HooklineRetriesProps {
  /** Where due retries are sent: the deliveries queue. */
  readonly deliveriesQueue: Queue;
  /** Where Scheduler puts a retry it cannot send. */
  readonly schedulerDlq: Queue;
}

export class HooklineRetries extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  /** Name of the schedule group: a plain string, known at synth time. */
  readonly scheduleGroupName: string;
  /** The role EventBridge Scheduler assumes to run the retry schedules. */
  readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: HooklineRetriesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.scheduleGroupName = retryScheduleGroupName(stack.stackName);
    this.scheduleGroup = new ScheduleGroup(this, 'RetrySchedules', {
      scheduleGroupName: this.scheduleGroupName,
      // The group only holds pending one-time retries, and its name is fixed: a retained group
      // would make a re-created stack fail. Its schedules are only long rungs (2 hours or more).
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: sends due Hookline retries to the deliveries queue',
      // Only schedules of this account's retry group may use the role (confused deputy).
      assumedBy: new ServicePrincipal(SCHEDULER_SERVICE).withConditions({
        StringEquals: {
          'aws:SourceAccount': stack.account,
          'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
        },
      }),
    });
    // sqs:SendMessage only: Scheduler needs nothing else to send to a queue or to dead-letter into
    // one (grantSendMessages would add GetQueueAttributes and GetQueueUrl). Both queues use
    // SQS-managed encryption, so there is no KMS key to grant.
    props.deliveriesQueue.grant(this.schedulerRole, 'sqs:SendMessage');
    props.schedulerDlq.grant(this.schedulerRole, 'sqs:SendMessage');
  }

  /** `Ref` of the schedule group: its name, and a dependency on it for whoever reads it. */
  get scheduleGroupRef(): string {
    return (this.scheduleGroup.node.defaultChild as CfnScheduleGroup).ref;
  }
}
