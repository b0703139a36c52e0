import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SDK_CLIENT_OPTIONS } from './adapters/aws/clients.ts';
import { LadderRetryScheduler } from './adapters/aws/ladder-retry-scheduler.ts';
import { SchedulerRetryTimer } from './adapters/aws/scheduler-retry-timer.ts';
import { emailQuota, MAIL_ENV, mailer, publicUrl } from './mail-wiring.ts';
import type { RetryScheduler } from './usecases/dispatch.ts';
import { WebhookHealth } from './usecases/webhook-health.ts';
import type { Wiring } from './wiring.ts';

/** Set by the stack on the dispatcher (the MAIL_ENV ones on the webhooks API too; see infra/stack). */
export const DISPATCHER_ENV = {
  scheduleGroup: 'HOOKLINE_SCHEDULE_GROUP',
  schedulerRoleArn: 'HOOKLINE_SCHEDULER_ROLE_ARN',
  schedulerTargetArn: 'HOOKLINE_SCHEDULER_TARGET_ARN',
  schedulerDlqArn: 'HOOKLINE_SCHEDULER_DLQ_ARN',
  ...MAIL_ENV,
} as const;

/**
 * The dispatcher's own adapters (Scheduler; SES through mail-wiring.ts), kept out of Wiring so
 * that the other functions' bundles do not carry those SDK clients.
 */

/** SQS delays for short rungs, EventBridge Scheduler (when configured) for long ones. */
export function retryScheduler(w: Wiring): RetryScheduler {
  return w.once('retries', () => {
    if (w.overrides.retries) return w.overrides.retries;
    const group = w.env[DISPATCHER_ENV.scheduleGroup];
    const scheduler = group
      ? new SchedulerRetryTimer(new SchedulerClient(SDK_CLIENT_OPTIONS), {
          groupName: group,
          roleArn: w.env[DISPATCHER_ENV.schedulerRoleArn] ?? '',
          queueArn: w.env[DISPATCHER_ENV.schedulerTargetArn] ?? '',
          deadLetterQueueArn: w.env[DISPATCHER_ENV.schedulerDlqArn] ?? '',
        })
      : undefined;
    return new LadderRetryScheduler(w.deliveryQueue, scheduler, w.clock);
  });
}

export function webhookHealth(w: Wiring): WebhookHealth {
  return w.once('health', () =>
    new WebhookHealth({
      webhooks: w.webhooks,
      tenants: w.tenants,
      quota: emailQuota(w),
      mailer: mailer(w),
      clock: w.clock,
      log: w.logger,
      publicUrl: publicUrl(w),
    }),
  );
}
