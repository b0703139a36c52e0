/**
 * The synthesized Hookline stack's retry schedules: the schedule group, the role EventBridge
 * Scheduler runs them with, who may create them and where they dead-letter.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES } from '../../infra/stack/functions.ts';
import type { FunctionName } from '../../infra/stack/functions.ts';
import { EXTRA_ENV } from '../../infra/stack/hookline-stack.ts';
import { retryScheduleGroupName } from '../../infra/stack/retries.ts';
import { actionsByTarget, asArray, flatten, logicalId, statementsOfRole } from './helpers.ts';
import { fnProps, stack, statements, synthDefaultStack, template } from './stack-fixture.ts';

synthDefaultStack();

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
