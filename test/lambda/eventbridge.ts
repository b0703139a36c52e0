/**
 * The two EventBridge services that invoke or feed the functions: an `AWS::Events::Rule` on a
 * schedule invoking its target (allowed by an `AWS::Lambda::Permission`), and EventBridge
 * Scheduler firing a one-time retry schedule the dispatcher created.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { invokePermitted } from './api-gateway.ts';
import type { InvokeResult } from './container.ts';
import type { Schedule } from './fake-aws.ts';
import type { Harness } from './harness.ts';
import { RolePolicies, trustAllows } from './iam.ts';
import { ACCOUNT, REGION, StackModel } from './template.ts';

/** Invokes the targets of a rule with the event EventBridge sends when its schedule is due. */
export async function runRule(h: Harness, ruleLogicalId: string): Promise<InvokeResult[]> {
  const rule = h.model.resource(ruleLogicalId).Properties;
  const ruleArn = h.model.arnOf(ruleLogicalId);
  const results: InvokeResult[] = [];
  for (const target of rule.Targets ?? []) {
    const fnId = StackModel.target(target.Arn)!;
    if (!invokePermitted(h.model, fnId, 'events.amazonaws.com', ruleArn)) {
      h.log.denials.push({ principal: 'events', action: 'lambda:InvokeFunction', resource: h.model.arnOf(fnId), via: ruleLogicalId, reason: 'no AWS::Lambda::Permission lets EventBridge invoke it' });
      continue;
    }
    const time = `${h.now().toISOString().slice(0, 19)}Z`;
    const event = { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: ACCOUNT, time, region: REGION, resources: [ruleArn], detail: {} };
    results.push(await h.byLogicalId(fnId).container.invoke(target.Input ? JSON.parse(target.Input) : event));
  }
  return results;
}

/**
 * EventBridge Scheduler running a one-time schedule: the clock jumps past its `at(...)`, then
 * Scheduler assumes the schedule's role (whose trust policy must let it, for this group) and sends
 * `Target.Input` to the target queue (the role must allow sqs:SendMessage there), or else to the
 * schedule's dead-letter queue; a schedule with `ActionAfterCompletion: DELETE` is then deleted.
 */
export async function fireSchedule(h: Harness, schedule: Schedule): Promise<void> {
  const { model, log } = h;
  if (!schedule.at) throw new Error(`schedule ${schedule.name} is not a one-time at(...) schedule: ${schedule.expression}`);
  const late = schedule.at.getTime() - h.now().getTime() + 1000;
  if (late > 0) h.advanceClock(late);
  const roleId = model.ofType('AWS::IAM::Role').find((id) => model.arnOf(id) === schedule.target.RoleArn);
  const principal = `scheduler (${roleId ?? schedule.target.RoleArn})`;
  const groupArn = model.ofType('AWS::Scheduler::ScheduleGroup').map((id) => model.arnOf(id)).find((arn) => arn.endsWith(`/${schedule.group}`));
  if (!roleId || !trustAllows(model, roleId, 'scheduler.amazonaws.com', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn ?? '' })) {
    log.denials.push({ principal, action: 'sts:AssumeRole', resource: schedule.target.RoleArn, via: `schedule ${schedule.name}`, reason: 'the role does not trust scheduler.amazonaws.com for this schedule group' });
    return;
  }
  const policies = new RolePolicies(model, roleId);
  const send = async (queueArn: string) => {
    const request = { action: 'sqs:SendMessage', resource: queueArn, context: { 'aws:SecureTransport': 'true' } };
    if (log.authorize(principal, `schedule ${schedule.name}`, policies, [request], h.resourcePolicies)) return false;
    const queueId = model.ofType('AWS::SQS::Queue').find((id) => model.arnOf(id) === queueArn);
    if (!queueId) throw new Error(`schedule ${schedule.name} targets ${queueArn}, which is not a queue of the template`);
    await h.standIns.sqs.send(new SendMessageCommand({ QueueUrl: h.standIns.queueUrl(queueId), MessageBody: schedule.target.Input ?? '{}' }));
    return true;
  };
  if (!(await send(schedule.target.Arn)) && schedule.target.DeadLetterConfig?.Arn) await send(schedule.target.DeadLetterConfig.Arn);
  if (schedule.actionAfterCompletion === 'DELETE') h.fakes.scheduler.delete(schedule);
}
