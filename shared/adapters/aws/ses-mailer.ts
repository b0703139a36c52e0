import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Email, Mailer } from '../../usecases/ports.ts';
import type { AwsAdapter, AwsCalls } from './aws-calls.ts';

export class MailerError extends Error {
  override name = 'MailerError';
}

/** SESv2 `SendEmail` from a verified sender identity (a stack prop). */
export class SesMailer implements Mailer, AwsAdapter {
  readonly awsCalls: AwsCalls<SesMailer> = { send: [{ actions: ['ses:SendEmail'], on: { kind: 'sender-identity' } }] };
  private readonly client: SESv2Client;
  private readonly from: string;
  constructor(client: SESv2Client, from: string) {
    this.client = client;
    this.from = from;
  }

  async send(email: Email): Promise<void> {
    try {
      await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
            },
          },
        }),
      );
    } catch (err) {
      throw new MailerError(`could not send email to ${email.to}`, { cause: err });
    }
  }
}
