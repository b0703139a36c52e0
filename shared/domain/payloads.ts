import type { Catalogue } from './catalogue.ts';
import type { PublishedEvent } from './events.ts';
import type { WebhookFormat } from './webhooks.ts';

/** What the body builders need besides the event. */
export interface PayloadContext {
  readonly catalogue: Catalogue;
  /** The deployment's host name (`wrapped`'s `host`, CloudEvents' `source`). */
  readonly host: string;
}

const unixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** `key: value` lines, nested objects indented, for people reading an email-like `body`. */
export function readableText(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return `${indent}${String(value)}`;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v] as const) : Object.entries(value);
  return entries
    .map(([key, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${key}:\n${readableText(v, indent + '  ')}`
        : `${indent}${key}: ${String(v)}`,
    )
    .join('\n');
}

/**
 * The body a receiver gets, by the webhook's format (CONTRACT.md section 5). Returns the exact
 * string that is signed and sent.
 */
export function buildBody(format: WebhookFormat, e: PublishedEvent, ctx: PayloadContext): string {
  switch (format) {
    case 'standard':
      return JSON.stringify({ id: e.id, event: e.event, timestamp: e.timestamp, tenant_id: e.tenant_id, data: e.data });
    case 'wrapped':
      return JSON.stringify({
        event: { type: e.event, data: e.data, version: 1 },
        time: unixSeconds(e.timestamp),
        host: ctx.host,
      });
    case 'subject_body':
      return JSON.stringify({ subject: ctx.catalogue.get(e.event)?.title ?? e.event, body: readableText(e.data) });
    case 'data':
      return JSON.stringify(e.data);
    case 'cloudevents':
      return JSON.stringify({
        specversion: '1.0',
        id: e.id,
        source: `https://${ctx.host}/tenants/${e.tenant_id}`,
        type: e.event,
        time: new Date(e.timestamp).toISOString(),
        datacontenttype: 'application/json',
        data: e.data,
      });
  }
}
