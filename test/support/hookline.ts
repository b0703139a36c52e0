/** Helpers shared by the end-to-end tests: signature checks as a receiver does them, tenants. */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { ReceivedRequest } from './receiver.ts';
import { api, type Api, type Runtime } from './runtime.ts';

/**
 * Verbatim copy of the Node.js verification example of seed 004 (NetRecon docs). Only the
 * `require('crypto')` line is replaced by the ESM import above and types are added.
 */
export function verifyWebhook(payload: string | Buffer, signature: string, secret: string): boolean {
  const expected = 'sha256=' + crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}

/** The hex header as the seed snippet checks it (the header name comes lower-cased from node). */
export function verifyHex(req: ReceivedRequest, secret: string, header = 'x-hookline-signature'): boolean {
  const signature = req.headers[header];
  if (typeof signature !== 'string') throw new Error(`no ${header} header; headers: ${JSON.stringify(req.headers)}`);
  // timingSafeEqual throws on a length mismatch: that is a failed verification too.
  try {
    return verifyWebhook(req.rawBody, signature, secret);
  } catch {
    return false;
  }
}

/**
 * Standard Webhooks verification with the `standardwebhooks` package: `whsec_` secrets are
 * base64-decoded by the package itself, other secrets are keyed with their UTF-8 bytes.
 * Throws (WebhookVerificationError) when the signature does not verify.
 */
export function verifyStandardWebhooks(req: ReceivedRequest, secret: string): unknown {
  const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
  const headers: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return wh.verify(req.body, headers);
}

/** A new tenant made through the admin API, with a client acting for it. */
export async function createTenant(rt: Runtime, name = `tenant-${crypto.randomUUID()}`): Promise<{ id: string; key: string; api: Api }> {
  const res = await api(rt.baseUrl, rt.adminKey).post('/admin/v1/tenants', { name, owner_email: `${name}@example.com` });
  if (res.status !== 201) throw new Error(`POST /admin/v1/tenants answered ${res.status}: ${res.text}`);
  return { id: res.json.tenant_id, key: res.json.api_key, api: api(rt.baseUrl, res.json.api_key) };
}

export const WEBHOOKS = '/api/v1/integrations/webhooks';

/** Creates a webhook; fails the test with the answer unless it is 201. */
export async function createWebhook(client: Api, body: Record<string, unknown>): Promise<any> {
  const res = await client.post(WEBHOOKS, body);
  if (res.status !== 201) throw new Error(`create webhook answered ${res.status}: ${res.text}`);
  return res.json;
}

/** Publishes one event or a batch; fails the test with the answer unless it is 202. */
export async function publish(client: Api, body: unknown): Promise<string[]> {
  const res = await client.post('/v1/events', body);
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${res.text}`);
  return res.json.ids;
}
