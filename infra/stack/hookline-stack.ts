/**
 * The Hookline stack: one HooklinePipeline and the stack's outputs.
 *
 * The pipeline's construct id is `Default`, which CDK leaves out of logical ids: every resource
 * keeps the logical id it had when the stack built the resources itself (test/infra/logical-ids.test.ts),
 * so an existing deployment updates in place instead of replacing its tables and queues.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { HooklinePipeline } from './hookline-pipeline.ts';
import type { HooklinePipelineProps } from './hookline-pipeline.ts';

export { EXTRA_ENV } from './function-environment.ts';

export interface HooklineStackProps extends StackProps, HooklinePipelineProps {}

/** The construct id of the pipeline in the stack: hidden from logical ids. */
export const PIPELINE_ID = 'Default';

export class HooklineStack extends Stack {
  readonly pipeline: HooklinePipeline;

  constructor(scope: Construct, id: string, props: HooklineStackProps = {}) {
    super(scope, id, props);
    const p = (this.pipeline = new HooklinePipeline(this, PIPELINE_ID, { dashboardName: this.stackName, ...props }));

    new CfnOutput(this, 'ApiUrl', { value: p.apiUrl, description: 'Base URL of the Hookline API' });
    for (const [name, tables] of Object.entries(p.tables.all)) {
      for (const table of tables) new CfnOutput(this, `${table.node.id}TableName`, { value: table.tableName, description: `${name} table` });
    }
    new CfnOutput(this, 'EventsQueueUrl', { value: p.eventsQueue.queueUrl });
    new CfnOutput(this, 'DeliveriesQueueUrl', { value: p.deliveriesQueue.queueUrl });
    new CfnOutput(this, 'RetryScheduleGroupName', {
      value: p.retries.scheduleGroupName,
      description: 'EventBridge Scheduler group holding pending retries (aws scheduler list-schedules --group-name <this>)',
    });
    new CfnOutput(this, 'SchedulerDLQUrl', {
      value: p.queues.schedulerDlq.queueUrl,
      description: 'Retries EventBridge Scheduler could not send to the deliveries queue',
    });
    new CfnOutput(this, 'AdminApiKeySecretName', {
      value: `${p.settings.secretPrefix}admin-api-key`,
      description: 'aws secretsmanager get-secret-value --secret-id <this> to read the admin key',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: p.alarmTopic.topicArn, description: 'SNS topic every alarm notifies: subscribe to it' });
    new CfnOutput(this, 'DashboardName', { value: p.dashboard.dashboardName, description: 'CloudWatch dashboard of the pipeline' });
  }
}
