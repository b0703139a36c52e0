import type { Catalogue } from './catalogue.ts';
import type { PublishedEvent } from './events.ts';
import type { WebhookFormat } from './webhooks.ts';
import { textPrefix } from './text.ts';

/** What the body builders need besides the event. */
export interface PayloadContext {
  readonly catalogue: Catalogue;
  /** The deployment's host name (`wrapped`'s `host`, CloudEvents' `source`). */
  readonly host: string;
}

const unixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/**
 * Most characters of `subject_body`'s text. Indenting nested data multiplies its size (a 240 KB
 * event once became an 8 MB body), so the text stops here, with a marker saying so.
 */
export const MAX_READABLE_CHARS = 256 * 1024;
// No route serves an event by its id: the marker says what happened, and the `webhook-id` header names the event.
export const TRUNCATED_MARKER = '\n[truncated: the event is too large to show in full]';

/** `key: value` lines, nested objects indented, for people reading an email-like `body`. */
export function readableText(value: unknown, maxChars = MAX_READABLE_CHARS): string {
  const lines: string[] = [];
  let size = 0;
  const emit = (line: string): boolean => {
    lines.push(line.length > maxChars ? line.slice(0, maxChars + 1) : line);
    size += line.length + 1;
    return size <= maxChars + 1;
  };
  const walk = (v: unknown, indent: string): boolean => {
    if (v === null || typeof v !== 'object') return emit(`${indent}${String(v)}`);
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i + 1), x] as const) : Object.entries(v);
    for (const [key, x] of entries) {
      const nested = x !== null && typeof x === 'object';
      if (!emit(nested ? `${indent}${key}:` : `${indent}${key}: ${String(x)}`)) return false;
      if (nested && !walk(x, indent + '  ')) return false;
    }
    return true;
  };
  const complete = walk(value, '');
  return complete ? lines.join('\n') : textPrefix(lines.join('\n'), maxChars) + TRUNCATED_MARKER;
}

/**
 * The `Content-Type` of a body in `format`. CloudEvents goes out in structured mode, which its
 * receivers (the CloudEvents SDKs' `HTTP.toEvent` and the like) recognise only by the
 * `application/cloudevents+json` media type; as plain `application/json` they look for
 * binary-mode `ce-*` headers and find no event. Every other format is plain JSON.
 */
export function contentType(format: WebhookFormat): string {
  return format === 'cloudevents' ? 'application/cloudevents+json; charset=utf-8' : 'application/json';
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
