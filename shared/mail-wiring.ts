import { SESv2Client } from '@aws-sdk/client-sesv2';
import { documentClient, SDK_CLIENT_OPTIONS } from './adapters/aws/clients.ts';
import { ENV } from './config.ts';
import { DynamoEmailQuota } from './adapters/aws/dynamo-email-quota.ts';
import { SesMailer } from './adapters/aws/ses-mailer.ts';
import { EMAILS_PER_TENANT_PER_HOUR } from './domain/notifications.ts';
import { OwnerEmailVerification, type EmailQuota } from './usecases/owner-email.ts';
import type { Mailer } from './usecases/ports.ts';
import type { Wiring } from './wiring.ts';

/**
 * What the functions that send email share (the dispatcher's owner notifications, the webhooks
 * API's verification emails): SES, the tenant's email budget, the public URL for links. Kept out
 * of Wiring so that the functions that send no email do not bundle the SES client.
 */

/** Set by the stack on the functions that send email (see infra/stack). */
export const MAIL_ENV = {
  senderEmail: 'HOOKLINE_SENDER_EMAIL',
  publicUrl: ENV.publicUrl,
} as const;

/** SES from the configured sender identity; none when no sender is configured. */
export function mailer(w: Wiring): Mailer | undefined {
  return w.once('mailer', () => {
    if (w.overrides.mailer) return w.overrides.mailer;
    const from = w.env[MAIL_ENV.senderEmail];
    return from ? new SesMailer(new SESv2Client(SDK_CLIENT_OPTIONS), from) : undefined;
  });
}

/** Base URL of the API for links in emails; empty (relative links) when not configured. */
export const publicUrl = (w: Wiring): string => (w.env[MAIL_ENV.publicUrl] ?? '').replace(/\/+$/, '');

/** Every kind of email a tenant causes counts here: EMAILS_PER_TENANT_PER_HOUR a clock hour. */
export function emailQuota(w: Wiring): EmailQuota {
  return w.once('emailQuota', () => new DynamoEmailQuota(documentClient(), w.settings.tables.tenants, EMAILS_PER_TENANT_PER_HOUR));
}

export function ownerEmailVerification(w: Wiring): OwnerEmailVerification {
  return w.once('ownerEmailVerification', () =>
    new OwnerEmailVerification({
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
