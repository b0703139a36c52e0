import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { DeliveryMessage } from '../../domain/deliveries.ts';
import type { RetryScheduler } from '../../usecases/dispatch.ts';
import type { AwsAdapter, AwsCalls } from './aws-calls.ts';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export interface SchedulerTarget {
  /** The stack's own schedule group: the dispatcher may create schedules only there. */
  readonly groupName: string;
  /** The deliveries queue the schedule sends the message to. */
  readonly queueArn: string;
  /** The role EventBridge Scheduler assumes, allowed only `sqs:SendMessage` on that queue. */
  readonly roleArn: string;
  /** Where a schedule that cannot deliver its message goes. */
  readonly deadLetterQueueArn: string;
}

/**
 * EventBridge Scheduler fires to the minute, up to 59 s either side of the time asked (only rungs
 * longer than SQS's 15 minutes come here). Rounded up to the whole minute, so a schedule seldom
 * fires early; the message's `not_before` covers the rest (the dispatcher waits out an early one).
 */
export const atExpression = (at: Date): string => `at(${new Date(Math.ceil(at.getTime() / 60_000) * 60_000).toISOString().slice(0, 19)})`;

/**
 * Long retry rungs as EventBridge Scheduler one-time schedules: `at(...)` in UTC, no flexible
 * window, deleted after they fire, sending the delivery message to the deliveries queue. The
 * name is derived from (delivery, attempt), so scheduling the same attempt twice is a no-op.
 */
export class SchedulerRetryTimer implements RetryScheduler, AwsAdapter {
  readonly awsCalls: AwsCalls<SchedulerRetryTimer> = {
    // Creating a schedule that runs as a role passes that role to EventBridge Scheduler.
    schedule: [
      { actions: ['scheduler:CreateSchedule'], on: { kind: 'retry-schedules' } },
      { actions: ['iam:PassRole'], on: { kind: 'scheduler-role' } },
    ],
  };
  private readonly client: SchedulerClient;
  private readonly target: SchedulerTarget;
  constructor(client: SchedulerClient, target: SchedulerTarget) {
    this.client = client;
    this.target = target;
  }

  async schedule(message: DeliveryMessage, at: Date): Promise<void> {
    const body: DeliveryMessage = { ...message, not_before: at.toISOString() };
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: `${message.delivery_id}-${message.attempt}`,
          GroupName: this.target.groupName,
          ScheduleExpression: atExpression(at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.target.queueArn,
            RoleArn: this.target.roleArn,
            Input: JSON.stringify(body),
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            DeadLetterConfig: { Arn: this.target.deadLetterQueueArn },
          },
        }),
      );
    } catch (err) {
      if (err instanceof ConflictException) return;
      throw new ScheduleError(`could not schedule attempt ${message.attempt} of ${message.delivery_id}`, { cause: err });
    }
  }
}
