import { Catalogue } from '../../shared/domain/catalogue.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { buildBody, MAX_READABLE_CHARS, readableText, TRUNCATED_MARKER } from '../../shared/domain/payloads.ts';
import { WEBHOOK_FORMATS } from '../../shared/domain/webhooks.ts';

const E: PublishedEvent = {
  tenant_id: 'ten_01HF7YAT00',
  id: 'evt_01HF7YAT01',
  event: 'alert.created',
  timestamp: '2026-03-15T10:30:00Z',
  data: {
    alert_id: 'alert-42',
    title: 'New open port detected',
    severity: 'high',
    device: { ip: '192.168.1.10', ports: [22, 8443] },
    acknowledged: false,
  },
  received_at: '2026-03-15T10:30:01.123Z',
};
const ctx = { catalogue: new Catalogue(), host: 'hooks.example.net' };
/** Date.parse('2026-03-15T10:30:00Z') / 1000, computed separately. */
const E_UNIX = 1773570600;

const parse = (s: string) => JSON.parse(s) as Record<string, any>;

describe('buildBody', () => {
  it('standard: exactly {id, event, timestamp, tenant_id, data} from the event', () => {
    const body = parse(buildBody('standard', E, ctx));
    expect(Object.keys(body).sort()).toEqual(['data', 'event', 'id', 'tenant_id', 'timestamp']);
    expect(body).toEqual({
      id: 'evt_01HF7YAT01',
      event: 'alert.created',
      timestamp: '2026-03-15T10:30:00Z',
      tenant_id: 'ten_01HF7YAT00',
      data: E.data,
    });
  });

  it('standard: the timestamp is passed through as published, not reformatted', () => {
    const e = { ...E, timestamp: '2026-03-15T12:30:00+02:00' };
    expect(parse(buildBody('standard', e, ctx)).timestamp).toBe('2026-03-15T12:30:00+02:00');
  });

  it('wrapped: {event: {type, data, version: 1}, time: unix seconds, host}', () => {
    const body = parse(buildBody('wrapped', E, ctx));
    expect(body).toEqual({
      event: { type: 'alert.created', data: E.data, version: 1 },
      time: E_UNIX,
      host: 'hooks.example.net',
    });
  });

  it('wrapped: time is whole unix seconds, honouring offsets and dropping milliseconds', () => {
    const e = { ...E, timestamp: '2026-03-15T12:30:00.750+02:00' };
    const body = parse(buildBody('wrapped', e, ctx));
    expect(body.time).toBe(E_UNIX);
    expect(Number.isInteger(body.time)).toBe(true);
  });

  it('subject_body: subject is the catalogue title, body is readable multi-line text with nested values', () => {
    const body = parse(buildBody('subject_body', E, ctx));
    expect(Object.keys(body).sort()).toEqual(['body', 'subject']);
    expect(body.subject).toBe('Alert created');
    expect(typeof body.body).toBe('string');
    const lines = (body.body as string).split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(body.body).toContain('New open port detected');
    expect(body.body).toContain('severity: high');
    expect(body.body).toContain('192.168.1.10');
    expect(body.body).toContain('8443');
    expect(body.body).toContain('acknowledged: false');
    // Not JSON: meant for people.
    expect(body.body).not.toContain('{');
    expect(body.body).not.toContain('"');
  });

  it('subject_body: the subject follows the catalogue', () => {
    expect(parse(buildBody('subject_body', { ...E, event: 'rogue.detected' }, ctx)).subject).toBe('Rogue device detected');
    const custom = new Catalogue([{ type: 'alert.created', title: 'Custom title', description: '' }]);
    expect(parse(buildBody('subject_body', E, { ...ctx, catalogue: custom })).subject).toBe('Custom title');
  });

  it('data: exactly E.data', () => {
    expect(parse(buildBody('data', E, ctx))).toEqual(E.data);
    expect(buildBody('data', E, ctx)).toBe(JSON.stringify(E.data));
  });

  it('cloudevents: CloudEvents 1.0 structured JSON', () => {
    const body = parse(buildBody('cloudevents', E, ctx));
    expect(Object.keys(body).sort()).toEqual(['data', 'datacontenttype', 'id', 'source', 'specversion', 'time', 'type']);
    expect(body.specversion).toBe('1.0');
    expect(body.id).toBe('evt_01HF7YAT01');
    expect(body.type).toBe('alert.created');
    expect(body.datacontenttype).toBe('application/json');
    expect(body.data).toEqual(E.data);
    expect(new Date(body.time).getTime()).toBe(E_UNIX * 1000);
    // RFC 3339 timestamp.
    expect(body.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    expect(typeof body.source).toBe('string');
    expect(body.source.length).toBeGreaterThan(0);
    expect(body.source).toContain('hooks.example.net');
  });

  it('every format is valid JSON and differs from the others', () => {
    const bodies = (['standard', 'wrapped', 'subject_body', 'data', 'cloudevents'] as const).map((f) => buildBody(f, E, ctx));
    for (const b of bodies) expect(() => JSON.parse(b)).not.toThrow();
    expect(new Set(bodies).size).toBe(5);
  });
});

describe('readableText', () => {
  it('renders key: value lines with nested objects indented under their key', () => {
    expect(readableText({ a: 1, b: { c: 'x', d: [true, null] } })).toBe(
      ['a: 1', 'b:', '  c: x', '  d:', '    1: true', '    2: null'].join('\n'),
    );
  });
});

describe('every format has a bounded size', () => {
  // A 240 KB event of deeply nested data once became an 8 MB subject_body (indentation and keys
  // repeated per level): the readable text now stops at MAX_READABLE_CHARS with a marker.
  const nested = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : { level: nested(depth - 1, leaf), k: 'v' });
  const bulky = { items: Array.from({ length: 400 }, (_, i) => nested(30, `value-${i}-${'x'.repeat(400)}`)) };
  const event = { tenant_id: 't', id: 'evt_big', event: 'scan.completed', timestamp: '2026-01-01T00:00:00Z', data: bulky, received_at: '2026-01-01T00:00:00Z' };
  const ctx = { catalogue: new Catalogue(), host: 'hookline.test' };

  it('subject_body of a large nested event stays near the cap and says it was cut', () => {
    const eventBytes = Buffer.byteLength(JSON.stringify(bulky));
    expect(eventBytes).toBeGreaterThan(150_000);
    expect(readableText(bulky, Number.MAX_SAFE_INTEGER).length).toBeGreaterThan(4 * MAX_READABLE_CHARS); // what it was
    const body = JSON.parse(buildBody('subject_body', event, ctx)) as { body: string };
    expect(body.body.length).toBeLessThanOrEqual(MAX_READABLE_CHARS + TRUNCATED_MARKER.length);
    expect(body.body.endsWith(TRUNCATED_MARKER)).toBe(true);
    for (const format of WEBHOOK_FORMATS) {
      expect(Buffer.byteLength(buildBody(format, event, ctx))).toBeLessThan(2 * Math.max(eventBytes, MAX_READABLE_CHARS));
    }
  });

  it('one huge string value is cut too, and small data is not marked', () => {
    expect(readableText({ note: 'y'.repeat(1000) }, 100)).toBe(`note: ${'y'.repeat(94)}${TRUNCATED_MARKER}`);
    expect(readableText({ a: 1 }, 100)).toBe('a: 1');
  });
});
