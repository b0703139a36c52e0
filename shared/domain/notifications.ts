import type { AttemptSummary } from './deliveries.ts';
import type { Webhook } from './webhooks.ts';

/** A URL fit to show: user info and every query value masked (they may be credentials). */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(invalid URL)';
  }
  if (url.username || url.password) {
    url.username = '****';
    url.password = '';
  }
  const masked = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=****`).join('&');
  url.search = masked ? `?${masked}` : '';
  return url.toString();
}

export interface OwnerEmailInput {
  readonly webhook: Pick<Webhook, 'id' | 'url' | 'description' | 'owner_email'>;
  readonly event: { readonly id: string; readonly event: string };
  readonly attempts: readonly AttemptSummary[];
  /** Where the owner reads the delivery log (absolute when the public URL is known). */
  readonly logUrl: string;
}

const outcome = (a: AttemptSummary): string =>
  a.status_code === null ? a.error ?? 'no response' : `HTTP ${a.status_code}${a.error && !a.error.includes(String(a.status_code)) ? ` (${a.error})` : ''}`;

function body(intro: string, input: OwnerEmailInput, closing: string): string {
  const name = input.webhook.description ? ` (${input.webhook.description})` : '';
  return [
    intro,
    '',
    `Webhook: ${input.webhook.id}${name}`,
    `URL:     ${maskUrl(input.webhook.url)}`,
    `Event:   ${input.event.event} (${input.event.id})`,
    '',
    'Attempts:',
    ...input.attempts.map((a) => `  #${a.attempt}  ${a.attempted_at}  ${outcome(a)}`),
    '',
    closing,
    `Delivery log: GET ${input.logUrl}`,
    '',
    '-- Hookline',
  ].join('\n');
}

/** The one email sent when a webhook becomes `failing` (CONTRACT.md section 6). */
export function failingEmail(input: OwnerEmailInput): { subject: string; text: string } {
  return {
    subject: `Webhook ${input.webhook.id} is failing: deliveries to ${maskUrl(input.webhook.url)} are not getting through`,
    text: body(
      `Hookline could not deliver an event to your webhook after ${input.attempts.length} attempt(s). The webhook is now marked as failing; it keeps receiving new events, and the first successful delivery marks it healthy again.`,
      input,
      'You can resend a delivery with POST .../deliveries/{delivery_id}/retry, or every failed one since a time with POST .../recover.',
    ),
  };
}

/** The email sent when a receiver answered 410 Gone and the webhook was disabled. */
export function disabledEmail(input: OwnerEmailInput): { subject: string; text: string } {
  return {
    subject: `Webhook ${input.webhook.id} was disabled: ${maskUrl(input.webhook.url)} answered 410 Gone`,
    text: body(
      'The receiver answered 410 Gone, so Hookline disabled the webhook: it receives no more events and its pending deliveries were stopped.',
      input,
      'To receive events again, fix the endpoint and re-enable it with PATCH {"active": true} or create a new webhook.',
    ),
  };
}
