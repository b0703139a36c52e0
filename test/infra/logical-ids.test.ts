/**
 * The logical ids of the stateful resources are part of the deployed contract: CloudFormation
 * replaces a resource whose logical id changes, so renaming a construct would create empty tables
 * and queues next to the retained old ones (and lose in-flight messages). A rename must fail here
 * first, and then keep the old id with `overrideLogicalId`.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HooklineStack } from '../../infra/stack/hookline-stack.ts';
import { TEMPLATE_ONLY } from './helpers.ts';

const STATEFUL = ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Scheduler::ScheduleGroup'];

const PINNED: Record<string, string> = {
  TablesTenantsE95A5149: 'AWS::DynamoDB::Table',
  TablesWebhooks9E9DC764: 'AWS::DynamoDB::Table',
  TablesEventsE8DD42EA: 'AWS::DynamoDB::Table',
  TablesAttemptsCCE7EDCF: 'AWS::DynamoDB::Table',
  QueuesEventsQueueBF12F99D: 'AWS::SQS::Queue',
  QueuesEventsDLQCF622B32: 'AWS::SQS::Queue',
  QueuesDeliveriesQueueF62DF285: 'AWS::SQS::Queue',
  QueuesDeliveriesDLQ79400F21: 'AWS::SQS::Queue',
  QueuesSchedulerDLQ6D9E0083: 'AWS::SQS::Queue',
  RetriesRetrySchedules59E4A71B: 'AWS::Scheduler::ScheduleGroup',
  AdminApiKey4943A9E8: 'AWS::SecretsManager::Secret',
};

it('keeps the logical id of every table, queue, secret and schedule group', () => {
  const stack = new HooklineStack(new App(TEMPLATE_ONLY), 'Hookline');
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>;
  const stateful = Object.fromEntries(Object.entries(resources).filter(([, r]) => STATEFUL.includes(r.Type)).map(([id, r]) => [id, r.Type]));
  expect(stateful).toEqual(PINNED);
  // The tables outlive a `cdk destroy` (and a replacement): their data is the customers' log.
  for (const [id, type] of Object.entries(PINNED)) if (type === 'AWS::DynamoDB::Table') expect(resources[id]!.DeletionPolicy).toBe('Retain');
});
