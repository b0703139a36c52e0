/**
 * Each body format is accepted by its own ecosystem's receiver library, end to end through the
 * one-machine runtime. Every receiver below is a real HTTP server on 127.0.0.1 that answers 200
 * only when that library accepts the delivery (400 with the library's complaint otherwise), so a
 * delivery that "arrived" but that the customer's code would throw away fails the test:
 * - `cloudevents`: the official CloudEvents SDK (`HTTP.toEvent`);
 * - every format: the Standard Webhooks headers, checked by the `standardwebhooks` package;
 * - `standard`: NetRecon's own Node.js verification snippet (seed 004), verbatim, on
 *   `X-NetRecon-Signature`;
 * - `wrapped`, `subject_body`, `data`: their seeds (002, 003, 001) name no library, only a JSON
 *   body sent as `application/json` with documented fields; the receiver checks the content type
 *   and validates the body with ajv against a JSON Schema written from the seed's description
 *   (Data Theorem publishes its envelope as a JSON Schema; 001 and 003 describe theirs in prose).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CloudEvent, HTTP } from 'cloudevents';
import { createTenant, createWebhook, publish, verifyStandardWebhooks, WEBHOOKS } from '../support/hookline.ts';
import type { ReceivedRequest } from '../support/receiver.ts';
import { eventually, startRuntime, type Api, type Runtime } from '../support/runtime.ts';
import { startScriptedReceiver, type Exchange, type ScriptedReceiver } from '../support/scripted-receiver.ts';

// Seed 004's Node.js snippet, verbatim, as a CommonJS file (it starts with require('crypto')).
const { verifyWebhook: netReconVerifyWebhook } = createRequire(import.meta.url)('../support/netrecon-verify.cjs') as {
  verifyWebhook: (payload: string | Buffer, signature: string, secret: string) => boolean;
};

// ajv-formats is CommonJS with a default export; under ESM it arrives as the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as <T>(ajv: T) => T;
const ajv = addFormats(new Ajv2020({ allErrors: true }));

/** The receiver's verdict on one request: undefined when its library accepts it, else why not. */
type LibraryCheck = (req: ReceivedRequest) => string | undefined;

let rt: Runtime;
/** The deployment host the runtime names in `wrapped.host` and CloudEvents' `source`. */
let host: string;
const receivers: ScriptedReceiver[] = [];

beforeAll(async () => {
  // The second rung is an hour away: a refused delivery is logged once and not retried during the file.
  rt = await startRuntime({ env: { HOOKLINE_SIGNATURE_HEADER: 'X-NetRecon-Signature', HOOKLINE_RETRY_DELAYS: '0,3600' } });
  host = new URL(rt.baseUrl).host;
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

const whsecSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * A receiver that accepts a request only when the Standard Webhooks library verifies its
 * headers with `secret` and then `check` accepts it too.
 */
async function libraryReceiver(name: string, secret: string, check: LibraryCheck): Promise<ScriptedReceiver> {
  const r = await startScriptedReceiver((req) => {
    try {
      verifyStandardWebhooks(req, secret);
    } catch (err) {
      return { status: 400, body: { error: 'bad signature' }, reason: `standardwebhooks: ${(err as Error).message}` };
    }
    const reason = check(req);
    return reason === undefined ? { status: 200, body: { ok: true } } : { status: 400, body: { error: reason }, reason };
  }, name);
  receivers.push(r);
  return r;
}

/** A check for a JSON body sent as `application/json` that a JSON Schema validates. */
function jsonSchemaCheck(schema: Record<string, unknown>): LibraryCheck {
  const validate = ajv.compile(schema);
  return (req) => {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) return `content-type ${type} is not application/json`;
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch (err) {
      return `body is not JSON: ${(err as Error).message}`;
    }
    return validate(body) ? undefined : `schema: ${ajv.errorsText(validate.errors)}`;
  };
}

/**
 * Creates one webhook of `format` delivering to `r`, publishes one event and waits for the
 * receiver's first request; asserts the receiver's library accepted it and the delivery log
 * shows the attempt succeeded.
 */
async function deliverOne(
  client: Api,
  r: ScriptedReceiver,
  webhook: Record<string, unknown>,
  event: { event: string; data: unknown; timestamp?: string },
): Promise<{ exchange: Exchange; eventId: string; webhookId: string }> {
  const hook = await createWebhook(client, { url: `${r.url}/hook`, events: [event.event], ...webhook });
  const [eventId] = await publish(client, event);
  await r.waitUntil('one delivery', (exchanges) => exchanges.length >= 1);
  const exchange = r.exchanges[0]!;
  // The receiver's reason, when it refused, is its library's complaint.
  expect({ status: exchange.answer.status, reason: exchange.answer.reason }).toEqual({ status: 200, reason: undefined });
  const attempt = await eventually(`the attempt in the delivery log of ${hook.id}`, async () => {
    const res = await client.get(`${WEBHOOKS}/${hook.id}/deliveries?page=1&per_page=25`);
    return (res.json?.items as any[] | undefined)?.find((a) => a.event_id === eventId);
  });
  expect(attempt).toMatchObject({ success: true, status_code: 200, attempt: 1 });
  return { exchange, eventId: eventId!, webhookId: hook.id };
}

/** The CloudEvent the official SDK reads from a request, or why it read none. */
function toCloudEvent(req: ReceivedRequest): CloudEvent<unknown> | string {
  try {
    const event = HTTP.toEvent({ headers: req.headers, body: req.body });
    return Array.isArray(event) ? `a batch of ${event.length} events, not one` : (event as CloudEvent<unknown>);
  } catch (err) {
    return `cloudevents SDK: ${(err as Error).message}`;
  }
}

describe('each format is accepted by its own ecosystem\'s receiver library', () => {
  it('cloudevents: the official CloudEvents SDK (HTTP.toEvent) reads one structured-mode event with the published id, type, source, time and data', async () => {
    const t = await createTenant(rt);
    const secret = whsecSecret();
    const read: CloudEvent<unknown>[] = [];
    const r = await libraryReceiver('CloudEvents SDK receiver', secret, (req) => {
      const event = toCloudEvent(req);
      if (typeof event === 'string') return event;
      read.push(event);
      return undefined;
    });
    const data = { scan_id: 'ce-sdk-1', hosts: [{ ip: '10.0.0.7', open: [22, 443] }], ok: true };
    const timestamp = '2026-03-15T12:30:00+02:00';
    const { exchange, eventId, webhookId } = await deliverOne(t.api, r, { format: 'cloudevents', secret }, { event: 'scan.completed', data, timestamp });

    expect(exchange.req.headers['content-type']).toMatch(/^application\/cloudevents\+json\b/);
    const [event] = read;
    expect(event).toBeInstanceOf(CloudEvent);
    expect(event!.specversion).toBe('1.0');
    expect(event!.id).toBe(eventId);
    expect(event!.type).toBe('scan.completed');
    expect(event!.source).toBe(`https://${host}/tenants/${t.id}`);
    expect(Date.parse(event!.time!)).toBe(Date.parse(timestamp));
    expect(event!.datacontenttype).toBe('application/json');
    expect(event!.data).toEqual(data);

    // The test endpoint sends through the same path: the SDK reads its webhook.test event too.
    const res = await t.api.post(`${WEBHOOKS}/${webhookId}/test`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivered: true, status_code: 200 });
    expect(read.map((e) => e.type)).toEqual(['scan.completed', 'webhook.test']);
    expect(read[1]!.source).toBe(`https://${host}/tenants/${t.id}`);
  });

  it('standard (seed 004, NetRecon): NetRecon\'s own Node.js snippet accepts X-NetRecon-Signature and the standardwebhooks library the Standard Webhooks headers', async () => {
    const t = await createTenant(rt);
    // NetRecon's secrets are plain strings keyed by their UTF-8 bytes, as its snippet keys them.
    const secret = `netrecon-${randomBytes(18).toString('base64url')}`;
    const envelope = jsonSchemaCheck({
      type: 'object',
      required: ['id', 'event', 'timestamp', 'tenant_id', 'data'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1 },
        event: { type: 'string', minLength: 1 },
        timestamp: { type: 'string', format: 'date-time' },
        tenant_id: { type: 'string', minLength: 1 },
        data: { type: 'object' },
      },
    });
    const r = await libraryReceiver('NetRecon receiver', secret, (req) => {
      const signature = req.headers['x-netrecon-signature'];
      if (typeof signature !== 'string') return 'no X-NetRecon-Signature header';
      let valid: boolean;
      try {
        valid = netReconVerifyWebhook(req.rawBody, signature, secret);
      } catch (err) {
        // timingSafeEqual throws on a length mismatch: the snippet's receiver rejects the request.
        return `NetRecon snippet threw: ${(err as Error).message}`;
      }
      return valid ? envelope(req) : 'X-NetRecon-Signature does not verify';
    });
    const data = { alert_id: 'alert-uuid', title: 'New open port detected', severity: 'high', device_ip: '192.168.1.10' };
    const timestamp = '2026-03-15T10:30:00Z';
    const { exchange, eventId } = await deliverOne(t.api, r, { secret }, { event: 'alert.created', data, timestamp });
    expect(exchange.req.json).toEqual({ id: eventId, event: 'alert.created', timestamp, tenant_id: t.id, data });
  });

  it('wrapped (seed 002, Data Theorem): application/json, and the {event: {type, data, version}, time, host} envelope validates', async () => {
    const t = await createTenant(rt);
    const secret = whsecSecret();
    const r = await libraryReceiver(
      'Data Theorem receiver',
      secret,
      jsonSchemaCheck({
        type: 'object',
        required: ['event', 'time', 'host'],
        additionalProperties: false,
        properties: {
          event: {
            type: 'object',
            required: ['type', 'data', 'version'],
            additionalProperties: false,
            properties: { type: { type: 'string', minLength: 1 }, data: { type: 'object' }, version: { const: 1 } },
          },
          time: { type: 'integer' },
          host: { type: 'string', minLength: 1 },
        },
      }),
    );
    const data = { uuid: '924f1fb0-ebaa-4dfd-9297-390c0df18b44', policy_violation_status: 'RESOLVED', relevance: 'IMPORTANT' };
    const timestamp = '2021-01-27T07:37:32Z';
    const { exchange } = await deliverOne(t.api, r, { format: 'wrapped', secret }, { event: 'alert.resolved', data, timestamp });
    expect(exchange.req.json).toEqual({ event: { type: 'alert.resolved', data, version: 1 }, time: Date.parse(timestamp) / 1000, host });
  });

  it('subject_body (seed 003, ConnectSecure): application/json, and exactly {subject, body} as strings validates', async () => {
    const t = await createTenant(rt);
    const secret = whsecSecret();
    const r = await libraryReceiver(
      'ConnectSecure receiver',
      secret,
      jsonSchemaCheck({
        type: 'object',
        required: ['subject', 'body'],
        additionalProperties: false,
        properties: { subject: { type: 'string', minLength: 1 }, body: { type: 'string' } },
      }),
    );
    const data = { ip: '192.168.1.100', hostname: 'server-01.example.com', port: 443 };
    const { exchange } = await deliverOne(t.api, r, { format: 'subject_body', secret }, { event: 'scan.completed', data });
    expect(exchange.req.json.subject).toBe('Scan completed');
    for (const value of Object.values(data)) expect(exchange.req.json.body).toContain(String(value));
  });

  it('data (seed 001, scan results): application/json, and the published scan result validates as the document describes it', async () => {
    const t = await createTenant(rt);
    const secret = whsecSecret();
    const r = await libraryReceiver(
      'scan-results receiver',
      secret,
      jsonSchemaCheck({
        type: 'object',
        required: ['scanId', 'status', 'results', 'timestamp'],
        properties: {
          scanId: { type: 'string', minLength: 1 },
          status: { enum: ['completed', 'in_progress', 'failed'] },
          results: {
            type: 'object',
            required: ['threatsFound', 'details'],
            properties: { threatsFound: { type: 'integer', minimum: 0 }, details: { type: 'array' } },
          },
          timestamp: { type: 'string', format: 'date-time' },
        },
      }),
    );
    const scan = { scanId: 'abc123', status: 'completed', results: { threatsFound: 0, details: [] }, timestamp: '2023-10-23T14:55:00Z' };
    const { exchange } = await deliverOne(t.api, r, { format: 'data', secret }, { event: 'scan.completed', data: scan });
    expect(exchange.req.json).toEqual(scan);
  });
});
