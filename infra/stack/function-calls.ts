/**
 * The AWS calls each function's composition root hands out to its use cases, read by composing
 * the function (nothing runs; no AWS call is made): what permissions.ts grants it, and what the
 * bench's SDK floor of the function is built from. Free of CDK imports.
 */
import { adminApiAws } from '../../functions/admin-api/aws.ts';
import { composeAdminApi } from '../../functions/admin-api/compose.ts';
import { dispatcherAws } from '../../functions/dispatcher/aws.ts';
import { composeDispatcher } from '../../functions/dispatcher/compose.ts';
import { fanoutAws } from '../../functions/fanout/aws.ts';
import { composeFanout } from '../../functions/fanout/compose.ts';
import { ingestAws } from '../../functions/ingest/aws.ts';
import { composeIngest } from '../../functions/ingest/compose.ts';
import { composeOpenApi } from '../../functions/openapi/compose.ts';
import { webhookTestAws } from '../../functions/webhook-test/aws.ts';
import { composeWebhookTest } from '../../functions/webhook-test/compose.ts';
import { webhooksApiAws } from '../../functions/webhooks-api/aws.ts';
import { composeWebhooksApi } from '../../functions/webhooks-api/compose.ts';
import type { AwsCall } from '../../shared/adapters/aws/aws-calls.ts';
import { ENV, FUNCTION_ENV } from '../../shared/config.ts';
import type { FunctionName } from './functions.ts';

/**
 * Every optional part configured (an email sender, the retry schedule group), so that each
 * function composes every adapter it may build; the stack grants a part's calls only where it
 * has the resource (no sender identity, no ses:SendEmail).
 */
const EVERY_PART: NodeJS.ProcessEnv = {
  [ENV.tenantsTable]: 'tenants',
  [ENV.webhooksTable]: 'webhooks',
  [ENV.eventsTable]: 'events',
  [ENV.attemptsTable]: 'attempts',
  [ENV.eventsQueueUrl]: 'https://sqs.invalid/events',
  [ENV.deliveriesQueueUrl]: 'https://sqs.invalid/deliveries',
  [FUNCTION_ENV.senderEmail]: 'sender@example.invalid',
  [FUNCTION_ENV.scheduleGroup]: 'retries',
};

const COMPOSE: Record<FunctionName, (env: NodeJS.ProcessEnv) => { readonly awsCalls: readonly AwsCall[] }> = {
  ingest: (env) => composeIngest({ env, awsKit: ingestAws }),
  fanout: (env) => composeFanout({ env, awsKit: fanoutAws }),
  dispatcher: (env) => composeDispatcher({ env, awsKit: dispatcherAws }),
  'webhooks-api': (env) => composeWebhooksApi({ env, awsKit: webhooksApiAws }),
  'webhook-test': (env) => composeWebhookTest({ env, awsKit: webhookTestAws }),
  'admin-api': (env) => composeAdminApi({ env, awsKit: adminApiAws }),
  openapi: () => composeOpenApi({ document: () => ({}) }),
};

const cache = new Map<FunctionName, readonly AwsCall[]>();

/** The AWS calls of `name`'s adapters, one entry per resource. */
export function awsCallsOf(name: FunctionName): readonly AwsCall[] {
  let calls = cache.get(name);
  if (!calls) {
    calls = COMPOSE[name](EVERY_PART).awsCalls;
    cache.set(name, calls);
  }
  return calls;
}
