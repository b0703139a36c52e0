import { SCRUBBED } from './credential-scrub.ts';
import type { AttemptSummary } from './deliveries.ts';
import type { StatusChange, Webhook } from './webhooks.ts';

/**
 * The emails Hookline sends to webhook owners. An email must not become a relay for a tenant's
 * text (CONTRACT.md section 6): the only free text a tenant wrote that appears in one is the
 * webhook's description, bounded, on one line and quoted; the receiver URL shows as its origin.
 */

/** At most one email per webhook in this window; later changes wait for the next email. */
export const EMAIL_WINDOW_MS = 3_600_000;
/** Emails of every kind one tenant may cause per clock hour. */
export const EMAILS_PER_TENANT_PER_HOUR = 20;
/** Unsent changes kept for the summary; beyond that they are only counted. */
export const MAX_UNSENT_CHANGES = 10;
/** Characters of the description shown in an email. */
export const MAX_DESCRIPTION_CHARS = 200;

/** A URL fit to show: user info and every query value masked (they may be credentials). */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(invalid URL)';
  }
  if (url.username || url.password) {
    url.username = SCRUBBED;
    url.password = '';
  }
  // Every component is masked: `?TOKEN` (no `=`) is as much a credential as `?token=TOKEN`.
  const masked = url.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => (part.includes('=') ? `${part.slice(0, part.indexOf('='))}=${SCRUBBED}` : SCRUBBED))
    .join('&');
  url.search = masked ? `?${masked}` : '';
  return url.toString();
}

/** `scheme://host[:port]`: the path and query are the tenant's text (or credentials), never shown. */
export function urlOrigin(raw: string): string {
  try {
    const origin = new URL(raw).origin;
    return origin === 'null' ? '(invalid URL)' : origin;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The description as an email shows it: control and format characters (newlines, bidi
 * overrides) removed, whitespace collapsed, at most MAX_DESCRIPTION_CHARS characters, links
 * defanged (`https[:]//`) so that mail clients do not make them clickable, in double quotes.
 * Undefined when nothing is left.
 */
export function quotedDescription(description: string): string | undefined {
  const oneLine = description
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/([a-z][a-z0-9+.-]*):\/\//gi, '$1[:]//');
  if (!oneLine) return undefined;
  const chars = [...oneLine];
  return JSON.stringify(chars.length > MAX_DESCRIPTION_CHARS ? `${chars.slice(0, MAX_DESCRIPTION_CHARS - 1).join('')}…` : oneLine);
}

/** Event ids Hookline assigned; an id the publisher chose is the tenant's text and is not shown. */
const isAssignedEventId = (id: string): boolean => /^evt_[0-9A-Z]{26}$/.test(id);

/** An attempt's outcome in Hookline's own words: the status code, or the kind of network error. */
function outcome(a: AttemptSummary): string {
  if (a.status_code !== null) return a.status_code >= 300 && a.status_code < 400 ? `HTTP ${a.status_code} (redirect not followed)` : `HTTP ${a.status_code}`;
  // Errors are Hookline's sentences ("timeout: ...", "connection refused"); keep their kind only.
  return /^([A-Za-z][A-Za-z ]{0,40}?)\s*(?::|$)/.exec(a.error ?? '')?.[1] ?? 'no response';
}

export interface OwnerEmailInput {
  readonly webhook: Pick<Webhook, 'id' | 'url' | 'description'>;
  readonly event: { readonly id: string; readonly event: string };
  readonly attempts: readonly AttemptSummary[];
  /** Where the owner reads the delivery log (absolute when the public URL is known). */
  readonly logUrl: string;
  /** Changes since the last email that were held back (the webhook's hour was not over). */
  readonly unsent?: { readonly changes: readonly StatusChange[]; readonly count: number };
  /** The webhook's own owner address is not verified yet, so this goes to the tenant's address. */
  readonly ownerUnverified?: boolean;
}

export interface EmailContent {
  readonly subject: string;
  readonly text: string;
}

function unsentLines(unsent: OwnerEmailInput['unsent']): string[] {
  if (!unsent || unsent.count === 0) return [];
  const more = unsent.count - unsent.changes.length;
  return [
    `Since the last email: ${unsent.count} more status change(s), not emailed at the time (Hookline emails at most once an hour per webhook):`,
    ...unsent.changes.map((c) => `  - ${c.status} at ${c.at}`),
    ...(more > 0 ? [`  - and ${more} more`] : []),
    '',
  ];
}

function body(intro: string, input: OwnerEmailInput, closing: string): string {
  const description = quotedDescription(input.webhook.description);
  const eventId = isAssignedEventId(input.event.id) ? input.event.id : 'id set by the publisher, see the delivery log';
  return [
    intro,
    '',
    `Webhook:     ${input.webhook.id}`,
    ...(description ? [`Description: ${description} (as written in the webhook)`] : []),
    `Receiver:    ${urlOrigin(input.webhook.url)} (path not shown)`,
    `Event:       ${input.event.event} (${eventId})`,
    '',
    'Attempts:',
    ...input.attempts.map((a) => `  #${a.attempt}  ${a.attempted_at}  ${outcome(a)}`),
    '',
    ...unsentLines(input.unsent),
    closing,
    `Delivery log: GET ${input.logUrl}`,
    '',
    ...(input.ownerUnverified
      ? ['The owner address set on this webhook has not been verified yet, so this email went to your tenant\'s own address.', '']
      : []),
    '-- Hookline',
  ].join('\n');
}

/** The email sent when a webhook becomes `failing` (CONTRACT.md section 6). */
export function failingEmail(input: OwnerEmailInput): EmailContent {
  return {
    subject: `Hookline: webhook ${input.webhook.id} is failing`,
    text: body(
      `Hookline could not deliver an event to your webhook after ${input.attempts.length} attempt(s). The webhook is now marked as failing; it keeps receiving new events, and the first successful delivery marks it healthy again.`,
      input,
      'You can resend a delivery with POST .../deliveries/{delivery_id}/retry, or every failed one since a time with POST .../recover.',
    ),
  };
}

/** The email sent when a receiver answered 410 Gone and the webhook was disabled. */
export function disabledEmail(input: OwnerEmailInput): EmailContent {
  return {
    subject: `Hookline: webhook ${input.webhook.id} was disabled (410 Gone)`,
    text: body(
      'The receiver answered 410 Gone, so Hookline disabled the webhook: it receives no more events and its pending deliveries were stopped.',
      input,
      'To receive events again, fix the endpoint and re-enable it with PATCH {"active": true} or create a new webhook.',
    ),
  };
}

/**
 * The double opt-in email to a webhook's new owner address. It carries nothing the tenant wrote:
 * only Hookline's text, the webhook's id (Hookline's) and the link.
 */
export function verificationEmail(input: { readonly webhookId: string; readonly link: string; readonly expiresAt: string }): EmailContent {
  return {
    subject: 'Hookline: confirm this address for webhook emails',
    text: [
      `This address was entered as the owner of webhook ${input.webhookId} on Hookline, a webhook delivery service.`,
      'Hookline emails an owner when deliveries to the webhook fail, but only once the address is confirmed. To confirm it, open:',
      '',
      `  ${input.link}`,
      '',
      `The link works once, until ${input.expiresAt}.`,
      'If you did not expect this email, ignore it: without confirmation no webhook emails are sent to this address.',
      '',
      '-- Hookline',
    ].join('\n'),
  };
}
