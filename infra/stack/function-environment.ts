/**
 * The functions' environment: the settings and the names of the tables and queues for every
 * function, and what only some functions get (the admin key's name, the email settings, the retry
 * schedules').
 */
import { ENV, FUNCTION_ENV } from '../../shared/config.ts';
import type { FunctionName } from './functions.ts';
import type { HooklineQueues } from './queues.ts';
import type { HooklineRetries } from './retries.ts';
import type { ResolvedSettings } from './settings.ts';
import type { HooklineTables } from './tables.ts';

/**
 * Names of environment variables the pipeline sets on some functions only, besides the shared
 * `ENV` ones; defined (and documented) with the functions' other settings in shared/config.ts.
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

export interface FunctionEnvironmentProps {
  readonly settings: ResolvedSettings;
  readonly tables: HooklineTables;
  readonly queues: HooklineQueues;
  readonly retries: HooklineRetries;
  readonly adminKeySecretName: string;
}

export function functionEnvironment(props: FunctionEnvironmentProps): {
  environment: Record<string, string>;
  extraEnvironment: Partial<Record<FunctionName, Record<string, string>>>;
} {
  const { settings: s, tables: t, queues, retries } = props;
  // Both functions that send email: owner notifications (dispatcher), verification links (webhooks-api).
  // Never the API's URL: the API depends on the functions (circular dependency).
  const mailEnvironment: Record<string, string> = {
    ...(s.senderEmail ? { [EXTRA_ENV.senderEmail]: s.senderEmail } : {}),
    ...(s.publicUrl ? { [EXTRA_ENV.publicUrl]: s.publicUrl } : {}),
  };
  const environment: Record<string, string> = {
    [ENV.tenantsTable]: t.tenants.tableName,
    [ENV.webhooksTable]: t.webhooks.tableName,
    [ENV.eventsTable]: t.events.tableName,
    [ENV.attemptsTable]: t.attempts.map((table) => table.tableName).join(','),
    [ENV.eventsQueueUrl]: queues.eventsQueue.queueUrl,
    [ENV.deliveriesQueueUrl]: queues.deliveriesQueue.queueUrl,
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
  return {
    environment,
    extraEnvironment: {
      'admin-api': { [EXTRA_ENV.adminKeySecret]: props.adminKeySecretName },
      'webhooks-api': mailEnvironment,
      // Its sender refuses Hookline's own hosts, the public URL's among them (ownHosts).
      'webhook-test': s.publicUrl ? { [EXTRA_ENV.publicUrl]: s.publicUrl } : {},
      dispatcher: {
        [EXTRA_ENV.scheduleGroup]: retries.scheduleGroupRef,
        [EXTRA_ENV.schedulerRoleArn]: retries.schedulerRole.roleArn,
        [EXTRA_ENV.schedulerTargetArn]: queues.deliveriesQueue.queueArn,
        [EXTRA_ENV.schedulerDlqArn]: queues.schedulerDlq.queueArn,
        ...mailEnvironment,
      },
    },
  };
}
