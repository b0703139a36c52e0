/**
 * The steps the Lambda suite's flows repeat, through the harness's HTTP API: a tenant made with
 * the admin key, its webhooks and events. Each fails loudly, with the functions' recent output.
 */
import { randomBytes } from 'node:crypto';
import { WEBHOOKS } from '../support/hookline.ts';
import type { ApiClient, Harness } from './harness.ts';

export interface SuiteTenant {
  readonly id: string;
  readonly key: string;
  readonly ownerEmail: string;
  readonly api: ApiClient;
}

export async function newTenant(h: Harness, adminKey: string, name = `acme-${randomBytes(4).toString('hex')}`): Promise<SuiteTenant> {
  const ownerEmail = `owner@${name}.example`;
  const res = await h.api(adminKey).post('/admin/v1/tenants', { name, owner_email: ownerEmail });
  if (res.status !== 201) throw new Error(`POST /admin/v1/tenants answered ${res.status}: ${res.text}\n${h.logs()}`);
  return { id: res.json.tenant_id, key: res.json.api_key, ownerEmail, api: h.api(res.json.api_key) };
}

export async function newWebhook(h: Harness, client: ApiClient, body: Record<string, unknown>): Promise<any> {
  const res = await client.post(WEBHOOKS, body);
  if (res.status !== 201) throw new Error(`POST ${WEBHOOKS} answered ${res.status}: ${res.text}\n${h.logs()}`);
  return res.json;
}

export async function publish(h: Harness, client: ApiClient, body: unknown): Promise<string[]> {
  const res = await client.post('/v1/events', body);
  if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}: ${res.text}\n${h.logs()}`);
  return res.json.ids;
}
