/**
 * The Hookline stack: HTTP API -> ingest -> events queue -> fan-out -> deliveries queue ->
 * dispatcher, with a reconciler every five minutes for work that is due but was never queued,
 * and EventBridge Scheduler one-time schedules for retries later than SQS can delay.
 */
import { CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ENV, FUNCTION_ENV } from '../../shared/config.ts';
import { HooklineApi } from './api.ts';
import { loadCatalogue } from './catalogue.ts';
import { BATCHING_WINDOW, HooklineFunctions, PROJECT_ROOT } from './functions.ts';
import { grantAll } from './permissions.ts';
import { HooklineQueues } from './queues.ts';
import { HooklineRetries } from './retries.ts';
import { functionTimeouts, resolveSettings } from './settings.ts';
import type { HooklineSettings, ResolvedSettings } from './settings.ts';
import { HooklineTables } from './tables.ts';

/**
 * Names of environment variables the stack sets on some functions only, besides the shared `ENV`
 * ones; defined (and documented) with the functions' other settings in shared/config.ts.
 */
export const EXTRA_ENV = {
  adminKeySecret: FUNCTION_ENV.adminKeySecret,
  senderEmail: FUNCTION_ENV.senderEmail,
  /** dispatcher, webhooks-api: public base URL of the API for links in emails (only when `publicUrl` is set). */
  publicUrl: ENV.publicUrl,
  scheduleGroup: FUNCTION_ENV.scheduleGroup,
  schedulerRoleArn: FUNCTION_ENV.schedulerRoleArn,
  schedulerTargetArn: FUNCTION_ENV.schedulerTargetArn,
  schedulerDlqArn: FUNCTION_ENV.schedulerDlqArn,
} as const;

export interface HooklineStackProps extends StackProps, HooklineSettings {}

export class HooklineStack extends Stack {
  readonly settings: ResolvedSettings;
  readonly tables: HooklineTables;
  readonly queues: HooklineQueues;
  readonly retries: HooklineRetries;
  readonly functions: HooklineFunctions;
  readonly api: HooklineApi;
  readonly adminKey: Secret;

  constructor(scope: Construct, id: string, props: HooklineStackProps = {}) {
    super(scope, id, props);
    const s = (this.settings = resolveSettings(props));
    const timeouts = functionTimeouts(s);
    // Read and validated before anything is built: a bad catalogue fails the synth here.
    const catalogue = s.catalogueFile ? loadCatalogue(s.catalogueFile, PROJECT_ROOT) : undefined;

    this.tables = new HooklineTables(this, 'Tables');
    this.queues = new HooklineQueues(this, 'Queues', {
      fanoutTimeout: timeouts.fanout,
      fanoutBatchingWindow: BATCHING_WINDOW.fanout,
      dispatcherTimeout: timeouts.dispatcher,
      dispatcherBatchingWindow: BATCHING_WINDOW.dispatcher,
      alarmTopic: s.alarmTopic ?? (s.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn) : undefined),
    });

    this.retries = new HooklineRetries(this, 'Retries', {
      deliveriesQueue: this.queues.deliveriesQueue,
      schedulerDlq: this.queues.schedulerDlq,
    });

    const adminKeySecretName = `${s.secretPrefix}admin-api-key`;
    this.adminKey = new Secret(this, 'AdminApiKey', {
      secretName: adminKeySecretName,
      description: 'Hookline admin API key: Authorization: Bearer <value> on /admin/v1/*',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(this.adminKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin API key is a bearer token handed to the platform team, not a credential of another service: there is no rotation Lambda that could update its holders, so the platform team rotates it by putting a new value (per-webhook signing secrets are rotated through the webhooks API).',
    });

    const t = this.tables;
    // Both functions that send email: owner notifications (dispatcher), verification links (webhooks-api).
    // Never this.api.url: the API depends on the functions (circular dependency).
    const mailEnvironment: Record<string, string> = {
      ...(s.senderEmail ? { [EXTRA_ENV.senderEmail]: s.senderEmail } : {}),
      ...(s.publicUrl ? { [EXTRA_ENV.publicUrl]: s.publicUrl } : {}),
    };
    const environment: Record<string, string> = {
      [ENV.tenantsTable]: t.tenants.tableName,
      [ENV.webhooksTable]: t.webhooks.tableName,
      [ENV.eventsTable]: t.events.tableName,
      [ENV.deliveriesTable]: t.deliveries.tableName,
      [ENV.attemptsTable]: t.attempts.tableName,
      [ENV.eventsQueueUrl]: this.queues.eventsQueue.queueUrl,
      [ENV.deliveriesQueueUrl]: this.queues.deliveriesQueue.queueUrl,
      [ENV.secretPrefix]: s.secretPrefix,
      [ENV.retryDelays]: s.retryDelaysSeconds.join(','),
      [ENV.signatureHeader]: s.signatureHeader,
      [ENV.allowPrivateTargets]: String(s.allowPrivateTargets),
      [ENV.requestTimeoutMs]: String(s.requestTimeoutMs),
      [ENV.deploymentHost]: s.deploymentHost,
      [ENV.retentionDays]: String(s.retentionDays),
      // The default per-tenant limit (the API functions apply it, the admin API shows it).
      [ENV.rateLimitPerSecond]: String(s.tenantRateLimit),
      [ENV.rateLimitBurst]: String(s.tenantBurstLimit),
    };
    this.functions = new HooklineFunctions(this, 'Functions', {
      timeouts,
      environment,
      extraEnvironment: {
        'admin-api': { [EXTRA_ENV.adminKeySecret]: adminKeySecretName },
        'webhooks-api': mailEnvironment,
        dispatcher: {
          [EXTRA_ENV.scheduleGroup]: this.retries.scheduleGroupRef,
          [EXTRA_ENV.schedulerRoleArn]: this.retries.schedulerRole.roleArn,
          [EXTRA_ENV.schedulerTargetArn]: this.queues.deliveriesQueue.queueArn,
          [EXTRA_ENV.schedulerDlqArn]: this.queues.schedulerDlq.queueArn,
          ...mailEnvironment,
        },
      },
      logRetention: s.logRetention,
      catalogue,
    });
    const f = this.functions.byName;

    f.fanout.addEventSource(
      new SqsEventSource(this.queues.eventsQueue, {
        batchSize: 10,
        maxBatchingWindow: BATCHING_WINDOW.fanout,
        reportBatchItemFailures: true,
      }),
    );
    f.dispatcher.addEventSource(
      new SqsEventSource(this.queues.deliveriesQueue, {
        batchSize: 10,
        maxBatchingWindow: BATCHING_WINDOW.dispatcher,
        reportBatchItemFailures: true,
        maxConcurrency: s.dispatcherMaxConcurrency,
      }),
    );

    for (const consumer of [f.fanout, f.dispatcher]) {
      for (const mapping of consumer.node.children.filter((c) => c instanceof EventSourceMapping)) {
        Validations.of(mapping).acknowledge({
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason:
            'An SQS event source mapping cannot have an on-failure destination (Lambda supports them for stream and Kafka sources only): records that keep failing go to the queue\'s own dead-letter queue through its redrive policy (maxReceiveCount 5), with an alarm on it.',
        });
      }
    }

    const reconcilerSchedule = new Rule(this, 'ReconcilerSchedule', {
      description: 'Hookline reconciler: re-queue events and deliveries that are due but not queued',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(f.reconciler, { retryAttempts: 2 })],
    });
    Validations.of(reconcilerSchedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The target is a five-minute tick with no data: an event EventBridge could not deliver (after 2 retries) has nothing worth redriving, and the next tick five minutes later does the same idempotent sweep of due work. A dead-letter queue would only collect empty ticks.',
    });

    grantAll({
      functions: f,
      tables: t,
      queues: this.queues,
      retries: this.retries,
      adminKey: this.adminKey,
      secretPrefix: s.secretPrefix,
      senderEmail: s.senderEmail,
    });

    this.api = new HooklineApi(this, 'Api', {
      functions: { ingest: f.ingest, 'webhooks-api': f['webhooks-api'], 'admin-api': f['admin-api'], openapi: f.openapi },
      rateLimit: s.apiRateLimit,
      burstLimit: s.apiBurstLimit,
      ingestRateLimit: s.ingestRateLimit,
      ingestBurstLimit: s.ingestBurstLimit,
      logRetention: s.logRetention,
    });

    // Webhooks may not point back at this API (an amplification loop): the functions that check
    // and send to webhook URLs learn its execute-api host. (A custom domain comes as `publicUrl`.)
    const apiHost = Fn.select(2, Fn.split('/', this.api.httpApi.apiEndpoint));
    for (const fn of [f.dispatcher, f['webhooks-api']]) fn.addEnvironment(ENV.apiHost, apiHost);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Hookline API' });
    for (const [name, table] of Object.entries(t.all)) {
      new CfnOutput(this, `${table.node.id}TableName`, { value: table.tableName, description: `${name} table` });
    }
    new CfnOutput(this, 'EventsQueueUrl', { value: this.queues.eventsQueue.queueUrl });
    new CfnOutput(this, 'DeliveriesQueueUrl', { value: this.queues.deliveriesQueue.queueUrl });
    new CfnOutput(this, 'RetryScheduleGroupName', {
      value: this.retries.scheduleGroupName,
      description: 'EventBridge Scheduler group holding pending retries (aws scheduler list-schedules --group-name <this>)',
    });
    new CfnOutput(this, 'SchedulerDLQUrl', {
      value: this.queues.schedulerDlq.queueUrl,
      description: 'Retries EventBridge Scheduler could not send to the deliveries queue',
    });
    new CfnOutput(this, 'AdminApiKeySecretName', {
      value: adminKeySecretName,
      description: 'aws secretsmanager get-secret-value --secret-id <this> to read the admin key',
    });
  }
}
