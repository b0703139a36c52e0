/**
 * The AWS calls each function's composition root hands out to its use cases, read by composing
 * the function (nothing runs; no AWS call is made): what permissions.ts grants it, and what the
 * bench's SDK floor of the function is built from. Free of CDK imports.
 */
import { composeAdminApi } from '../../functions/admin-api/compose.ts';
import { composeDispatcher } from '../../functions/dispatcher/compose.ts';
import { composeFanout } from '../../functions/fanout/compose.ts';
import { composeIngest } from '../../functions/ingest/compose.ts';
import { composeOpenApi } from '../../functions/openapi/compose.ts';
import { composeWebhookTest } from '../../functions/webhook-test/compose.ts';
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
  ingest: (env) => composeIngest({ env }),
  fanout: (env) => composeFanout({ env }),
  dispatcher: (env) => composeDispatcher({ env }),
  'webhooks-api': (env) => composeWebhooksApi({ env }),
  'webhook-test': (env) => composeWebhookTest({ env }),
  'admin-api': (env) => composeAdminApi({ env }),
  openapi: () => composeOpenApi({ document: {} }),
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
