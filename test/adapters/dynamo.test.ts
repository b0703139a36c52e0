import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { brotliDecompressSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { StoreError } from '../../shared/adapters/aws/errors.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import type { Webhook } from '../../shared/domain/webhooks.ts';
import { rejection } from '../support/rejection.ts';

const RETENTION_DAYS = 30;
let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-dynamo-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({
    endpoint: standIns.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Every page of a list, following nextCursor from the first page. */
async function walk<T>(list: (cursor: string | undefined) => Promise<ListPage<T>>): Promise<ListPage<T>[]> {
  const pages = [await list(undefined)];
  while (pages.at(-1)!.nextCursor !== undefined) {
    if (pages.length > 50) throw new Error('the cursor walk does not end');
    pages.push(await list(pages.at(-1)!.nextCursor));
  }
  return pages;
}

/** A fresh id per test so that tests sharing the tables never see each other's items. */
const uid = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;

describe('DynamoEventStore', () => {
  let events: DynamoEventStore;
  beforeAll(() => {
    events = new DynamoEventStore(doc, standIns.tables.events, RETENTION_DAYS);
  });

  const newEvent = (receivedAt = new Date(), data: Record<string, unknown> = { scan_id: 's1', findings: [1, 2, 3], nested: { ok: true } }): PublishedEvent => ({
    tenant_id: uid('ten'),
    id: uid('evt'),
    event: 'scan.completed',
    timestamp: '2025-01-01T00:00:00.000Z',
    data,
    received_at: receivedAt.toISOString(),
  });
  const storedItem = async (e: PublishedEvent) =>
    (await doc.send(new GetCommand({ TableName: standIns.tables.events, Key: { pk: `${e.tenant_id}#${e.id}` }, ConsistentRead: true }))).Item;
  const later = (e: PublishedEvent, ms: number) => ({ ...e, received_at: new Date(Date.parse(e.received_at) + ms).toISOString() });

  it('putIfAbsent: created, then duplicate-pending; a second publish with other content does not overwrite the first', async () => {
    const e = newEvent();
    await expect(events.putIfAbsent(e)).resolves.toBe('created');
    await expect(events.putIfAbsent(e)).resolves.toBe('duplicate-pending');
    await expect(events.putIfAbsent({ ...e, data: { other: true } })).resolves.toBe('duplicate-pending');
    await expect(events.get(e.tenant_id, e.id)).resolves.toEqual(e);
  });

  it('a duplicate is queued again (duplicate-pending) within 15 minutes of the first copy, and not after (duplicate-done)', async () => {
    const e = newEvent(new Date(Date.now() - 60 * 60_000));
    await events.putIfAbsent(e);
    const before = await storedItem(e);
    await expect(events.putIfAbsent(later(e, 14 * 60_000 + 59_000))).resolves.toBe('duplicate-pending');
    await expect(events.putIfAbsent(later(e, 15 * 60_000))).resolves.toBe('duplicate-done');
    await expect(events.putIfAbsent(later(e, 16 * 60_000))).resolves.toBe('duplicate-done');
    // Nothing was written by the duplicates.
    expect(await storedItem(e)).toEqual(before);
  });

  it('a refusal that brings the stored copy back (DynamoDB, ALL_OLD) is judged from it, without a second read', async () => {
    // dynalite sends no copy with the refusal (the test above reads it again): DynamoDB's answer, marshalled.
    const first = newEvent(new Date(Date.now() - 60 * 60_000));
    const sent: string[] = [];
    const refusing = {
      send: async (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        throw Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException', Item: { received_at: { S: first.received_at } } });
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoEventStore(refusing, 'events', RETENTION_DAYS);
    await expect(store.putIfAbsent(later(first, 60_000))).resolves.toBe('duplicate-pending');
    await expect(store.putIfAbsent(later(first, 20 * 60_000))).resolves.toBe('duplicate-done');
    expect(sent).toEqual(['PutCommand', 'PutCommand']);
  });

  it('stores one item per event, keyed <tenant>#<id>, its data only as Brotli-compressed JSON', async () => {
    const e = newEvent(new Date('2030-01-01T00:00:00.500Z'));
    await events.putIfAbsent(e);
    const item = (await storedItem(e))!;
    expect(item).toMatchObject({ pk: `${e.tenant_id}#${e.id}`, tenant_id: e.tenant_id, event_id: e.id, event: e.event, received_at: e.received_at });
    expect(item).not.toHaveProperty('data');
    expect(item).not.toHaveProperty('data_json');
    expect(item['data_br']).toBeInstanceOf(Uint8Array);
    expect(brotliDecompressSync(item['data_br'] as Uint8Array).toString('utf8')).toBe(JSON.stringify(e.data));
    expect(item['expires_at']).toBe(Math.floor(Date.parse(e.received_at) / 1000) + RETENTION_DAYS * 86_400);
  });

  it('data round-trips exactly: non-ASCII text, and a number beyond 2^53 (kept as JSON text, not a DynamoDB number)', async () => {
    const huge = 2 ** 60;
    const e = newEvent(new Date(), { owner: 'Zoë Ångström', city: '東京', note: 'emoji 🎉 and \u0000 and "quotes"', huge, tiny: 1e-200, constructor: 'x' });
    await events.putIfAbsent(e);
    await expect(events.get(e.tenant_id, e.id)).resolves.toEqual(e);
    await expect(events.get(e.tenant_id, e.id, true)).resolves.toEqual(e);
    const text = brotliDecompressSync((await storedItem(e))!['data_br'] as Uint8Array).toString('utf8');
    expect(text).toContain(`"huge":${huge}`);
    expect(text).toContain('東京');
  });

  it('a kilobyte of JSON data is stored in under half of it (one write unit for a 1 KB event)', async () => {
    const findings = Array.from({ length: 8 }, (_, i) => ({ id: `fnd_${i}`, severity: ['low', 'medium', 'high', 'critical'][i % 4], title: `Finding number ${i} in the scanned application`, path: `/api/v1/resource/${i}` }));
    const e = newEvent(new Date(), { scan_id: 'scn_01J8Z7Q4', target: 'https://app.example.com', status: 'completed', findings, owner: 'Zoë Ångström' });
    const json = JSON.stringify(e.data);
    expect(Buffer.byteLength(json)).toBeGreaterThan(1024);
    await events.putIfAbsent(e);
    expect(((await storedItem(e))!['data_br'] as Uint8Array).byteLength).toBeLessThan(Buffer.byteLength(json) / 2);
    await expect(events.get(e.tenant_id, e.id)).resolves.toEqual(e);
  });

  it('the same event id under two tenants is two events', async () => {
    const e = newEvent();
    await expect(events.putIfAbsent(e)).resolves.toBe('created');
    await expect(events.putIfAbsent({ ...e, tenant_id: uid('ten') })).resolves.toBe('created');
  });

  it('get returns undefined for an unknown event, another tenant, and one past its retention', async () => {
    const e = newEvent();
    await events.putIfAbsent(e);
    await expect(events.get(e.tenant_id, uid('evt'))).resolves.toBeUndefined();
    await expect(events.get(uid('ten'), e.id)).resolves.toBeUndefined();
    const old = newEvent(new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000));
    await events.putIfAbsent(old);
    await expect(events.get(old.tenant_id, old.id)).resolves.toBeUndefined();
  });
});

describe('DynamoWebhookStore', () => {
  let webhooks: DynamoWebhookStore;
  beforeAll(() => {
    webhooks = new DynamoWebhookStore(doc, standIns.tables.webhooks);
  });

  const newWebhook = (tenantId: string, id: string, extra: Partial<Webhook> = {}): Webhook => ({
    tenant_id: tenantId,
    id,
    url: `https://receiver.example.com/${id}`,
    events: ['scan.completed', 'scan.*'],
    active: true,
    status: 'healthy',
    description: `webhook ${id}`,
    format: 'standard',
    auth_type: 'none',
    owner_email: 'owner@example.com',
    has_secret: true,
    credentials_version: 1,
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
    ...extra,
  });

  it('create then get returns the webhook; another tenant cannot read it', async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    await expect(webhooks.get(tenant, w.id)).resolves.toEqual(w);
    await expect(webhooks.get(uid('ten'), w.id)).resolves.toBeUndefined();
    await expect(webhooks.get(tenant, uid('wh'))).resolves.toBeUndefined();
  });

  it("a status change is conditional, and redone for its own cause it succeeds again (another cause's does not)", async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    const at = new Date('2025-01-02T00:00:00.000Z');
    await expect(webhooks.transitionStatus(tenant, w.id, ['healthy'], 'failing', at, 'dlv_A')).resolves.toMatchObject({ status: 'failing', status_cause: 'dlv_A' });
    await expect(webhooks.transitionStatus(tenant, w.id, ['healthy'], 'failing', at, 'dlv_B')).resolves.toBeUndefined();
    await expect(webhooks.transitionStatus(tenant, w.id, ['healthy'], 'failing', at, 'dlv_A')).resolves.toMatchObject({ status: 'failing' });
    await expect(webhooks.transitionStatus(tenant, uid('wh'), ['healthy'], 'failing', at, 'dlv_A')).resolves.toBeUndefined();
  });

  it('create refuses to overwrite an existing webhook', async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    await expect(rejection(webhooks.create({ ...w, url: 'https://evil.example.com/' }))).resolves.toBeInstanceOf(StoreError);
    await expect(webhooks.get(tenant, w.id)).resolves.toEqual(w);
  });

  it('update sets the given fields and returns the whole new webhook; undefined values and the keys are left alone', async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    const updated = await webhooks.update(tenant, w.id, {
      url: 'https://new.example.com/hook',
      active: false,
      events: ['a.b'],
      description: undefined,
      id: 'other-id',
      tenant_id: 'other-tenant',
      updated_at: '2025-02-02T00:00:00.000Z',
    });
    const expected = { ...w, url: 'https://new.example.com/hook', active: false, events: ['a.b'], updated_at: '2025-02-02T00:00:00.000Z' };
    expect(updated).toEqual(expected);
    await expect(webhooks.get(tenant, w.id)).resolves.toEqual(expected);
    await expect(webhooks.get('other-tenant', 'other-id')).resolves.toBeUndefined();
  });

  it('update of a missing webhook returns undefined and creates nothing', async () => {
    const tenant = uid('ten');
    const id = uid('wh');
    await expect(webhooks.update(tenant, id, { url: 'https://x.example.com/' })).resolves.toBeUndefined();
    await expect(webhooks.get(tenant, id)).resolves.toBeUndefined();
  });

  it('update with no fields returns the current webhook', async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    await expect(webhooks.update(tenant, w.id, {})).resolves.toEqual(w);
  });

  it('delete: true, then false', async () => {
    const tenant = uid('ten');
    const w = newWebhook(tenant, uid('wh'));
    await webhooks.create(w);
    await expect(webhooks.delete(tenant, w.id)).resolves.toBe(true);
    await expect(webhooks.get(tenant, w.id)).resolves.toBeUndefined();
    await expect(webhooks.delete(tenant, w.id)).resolves.toBe(false);
  });

  it('list pages a tenant’s webhooks oldest first with page/per_page/hasMore, and only that tenant’s', async () => {
    const tenant = uid('ten');
    const other = uid('ten');
    const ids = ['01A', '01B', '01C', '01D', '01E'].map((s) => `wh_${s}`);
    // Created out of order: the order is the key order, not the write order.
    for (const id of [...ids].reverse()) await webhooks.create(newWebhook(tenant, id));
    for (const id of ['wh_00Z', 'wh_01AA', 'wh_01F']) await webhooks.create(newWebhook(other, id));

    const p1 = await webhooks.list(tenant, { page: 1, perPage: 2 });
    expect(p1.items.map((w) => w.id)).toEqual(['wh_01A', 'wh_01B']);
    expect(p1.hasMore).toBe(true);
    expect(p1.items[0]).toEqual(newWebhook(tenant, 'wh_01A'));
    const p2 = await webhooks.list(tenant, { page: 2, perPage: 2 });
    expect(p2.items.map((w) => w.id)).toEqual(['wh_01C', 'wh_01D']);
    expect(p2.hasMore).toBe(true);
    const p3 = await webhooks.list(tenant, { page: 3, perPage: 2 });
    expect(p3.items.map((w) => w.id)).toEqual(['wh_01E']);
    expect(p3.hasMore).toBe(false);
    const p4 = await webhooks.list(tenant, { page: 4, perPage: 2 });
    expect(p4).toEqual({ items: [], page: 4, hasMore: false });

    const exact = await webhooks.list(tenant, { page: 1, perPage: 5 });
    expect(exact.items).toHaveLength(5);
    expect(exact.hasMore).toBe(false);
    await expect(webhooks.list(uid('ten'), { page: 1, perPage: 2 })).resolves.toEqual({ items: [], page: 1, hasMore: false });
  });

  it('list walks a tenant’s webhooks with cursors: each once, oldest first, numbered pages, null after the last', async () => {
    const tenant = uid('ten');
    const ids = Array.from({ length: 7 }, (_, i) => `wh_02${String.fromCharCode(65 + i)}`);
    for (const id of [...ids].reverse()) await webhooks.create(newWebhook(tenant, id));
    await webhooks.create(newWebhook(uid('ten'), 'wh_02AA'));

    const pages = await walk((cursor) => webhooks.list(tenant, { page: 1, perPage: 3, cursor }));
    expect(pages.map((p) => p.items.map((w) => w.id))).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    // A page reached by number hands out the same cursor as one reached by cursor.
    expect((await webhooks.list(tenant, { page: 2, perPage: 3 })).nextCursor).toBe(pages[1]!.nextCursor);
  });

  // Cursor refusals: test/contract/webhooks.test.ts, on this adapter and the SQLite one.

  it('pages() yields every webhook of a tenant across several DynamoDB pages, and none of another tenant', async () => {
    const tenant = uid('ten');
    // DynamoDB (and dynalite) stop a Query page at 1 MB: 14 webhooks of ~100 KB need two pages.
    const filler = 'x'.repeat(100 * 1024);
    const ids = Array.from({ length: 14 }, (_, i) => `wh_${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => webhooks.create(newWebhook(tenant, id, { description: filler }))));
    // Neighbours on both sides of the tenant's key range.
    await webhooks.create(newWebhook(`${tenant}0`, 'wh_other_1'));
    await webhooks.create(newWebhook(tenant.slice(0, -1), 'wh_other_2'));

    const pages: Webhook[][] = [];
    for await (const page of webhooks.pages(tenant)) pages.push(page);
    expect(pages.length).toBeGreaterThan(1);
    const all = pages.flat();
    expect(all.map((w) => w.id)).toEqual(ids);
    expect(all.every((w) => w.tenant_id === tenant && w.description === filler)).toBe(true);
  });

  it('pages() of a tenant without webhooks yields one empty page or none', async () => {
    const pages: Webhook[][] = [];
    for await (const page of webhooks.pages(uid('ten'))) pages.push(page);
    expect(pages.flat()).toEqual([]);
  });
});

describe('DynamoTenantStore', () => {
  let tenants: DynamoTenantStore;
  beforeAll(() => {
    tenants = new DynamoTenantStore(doc, standIns.tables.tenants);
  });

  it('createIfAbsent: true, then false without overwriting; get returns the first', async () => {
    const tenant = { id: uid('ten'), name: 'Acme', owner_email: 'ops@acme.example', created_at: '2025-01-01T00:00:00.000Z' };
    await expect(tenants.createIfAbsent(tenant)).resolves.toBe(true);
    await expect(tenants.createIfAbsent({ ...tenant, name: 'Impostor' })).resolves.toBe(false);
    await expect(tenants.get(tenant.id)).resolves.toEqual(tenant);
    await expect(tenants.get(uid('ten'))).resolves.toBeUndefined();
  });

  it('putKey then tenantIdForKey; an unknown key is undefined; keys and tenants do not collide', async () => {
    const tenantId = uid('ten');
    const hash = 'a'.repeat(64);
    const otherHash = uid('hash');
    await tenants.putKey(otherHash, tenantId);
    await expect(tenants.tenantIdForKey(otherHash)).resolves.toBe(tenantId);
    await expect(tenants.tenantIdForKey(uid('hash'))).resolves.toBeUndefined();
    // A tenant whose id equals a key hash is not that key.
    await tenants.createIfAbsent({ id: hash, name: 'n', owner_email: 'e@example.com', created_at: '2025-01-01T00:00:00.000Z' });
    await expect(tenants.tenantIdForKey(hash)).resolves.toBeUndefined();
    await expect(tenants.get(otherHash)).resolves.toBeUndefined();
  });
});
