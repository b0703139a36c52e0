import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { LadderRetryScheduler } from './adapters/aws/ladder-retry-scheduler.ts';
import { SchedulerRetryTimer } from './adapters/aws/scheduler-retry-timer.ts';
import { SesMailer } from './adapters/aws/ses-mailer.ts';
import type { RetryScheduler } from './usecases/dispatch.ts';
import type { Mailer } from './usecases/ports.ts';
import { WebhookHealth } from './usecases/webhook-health.ts';
import type { Wiring } from './wiring.ts';

/** Set by the stack on the dispatcher only (see infra/stack). */
export const DISPATCHER_ENV = {
  scheduleGroup: 'HOOKLINE_SCHEDULE_GROUP',
  schedulerRoleArn: 'HOOKLINE_SCHEDULER_ROLE_ARN',
  schedulerTargetArn: 'HOOKLINE_SCHEDULER_TARGET_ARN',
  schedulerDlqArn: 'HOOKLINE_SCHEDULER_DLQ_ARN',
  senderEmail: 'HOOKLINE_SENDER_EMAIL',
  publicUrl: 'HOOKLINE_PUBLIC_URL',
} as const;

/**
 * The dispatcher's own adapters (Scheduler, SES), kept out of Wiring so that the other functions'
 * bundles do not carry those SDK clients.
 */

/** SES from the configured sender identity; none when no sender is configured. */
export function mailer(w: Wiring): Mailer | undefined {
  return w.once('mailer', () => {
    if (w.overrides.mailer) return w.overrides.mailer;
    const from = w.env[DISPATCHER_ENV.senderEmail];
    return from ? new SesMailer(new SESv2Client({}), from) : undefined;
  });
}

/** SQS delays for short rungs, EventBridge Scheduler (when configured) for long ones. */
export function retryScheduler(w: Wiring): RetryScheduler {
  return w.once('retries', () => {
    if (w.overrides.retries) return w.overrides.retries;
    const group = w.env[DISPATCHER_ENV.scheduleGroup];
    const scheduler = group
      ? new SchedulerRetryTimer(new SchedulerClient({}), {
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
      mailer: mailer(w),
      clock: w.clock,
      log: w.logger,
      publicUrl: (w.env[DISPATCHER_ENV.publicUrl] ?? '').replace(/\/$/, ''),
    }),
  );
}
