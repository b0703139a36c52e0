import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoEventStore } from '../../shared/adapters/aws/dynamo-event-store.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { DynamoDeliveryStore } from '../../shared/adapters/aws/dynamo-delivery-store.ts';
import type { NewDelivery } from '../../shared/usecases/fan-out.ts';
import { DynamoAttemptLog } from '../../shared/adapters/aws/dynamo-attempt-log.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { StoreError } from '../../shared/adapters/aws/errors.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import type { Webhook } from '../../shared/domain/webhooks.ts';
import { newAttempt } from '../support/records.ts';
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
const seconds = (ms: number) => ms * 1000;

describe('DynamoEventStore', () => {
  let events: DynamoEventStore;
  beforeAll(() => {
    events = new DynamoEventStore(doc, standIns.tables.events, RETENTION_DAYS);
  });

  const newEvent = (receivedAt = new Date()): PublishedEvent => ({
    tenant_id: uid('ten'),
    id: uid('evt'),
    event: 'scan.completed',
    timestamp: '2025-01-01T00:00:00.000Z',
    data: { scan_id: 's1', findings: [1, 2, 3], nested: { ok: true } },
    received_at: receivedAt.toISOString(),
  });

  it('putIfAbsent: created, then duplicate-pending until the fan-out finishes, then duplicate-done', async () => {
    const e = newEvent();
    await expect(events.putIfAbsent(e)).resolves.toBe('created');
    await expect(events.putIfAbsent(e)).resolves.toBe('duplicate-pending');
    // A second publish with different content does not overwrite the first.
    await expect(events.putIfAbsent({ ...e, data: { other: true } })).resolves.toBe('duplicate-pending');
    await expect(events.get(e.tenant_id, e.id)).resolves.toEqual(e);

    await events.finishFanout(e.tenant_id, e.id, new Date());
    await expect(events.putIfAbsent(e)).resolves.toBe('duplicate-done');
  });

  it('the same event id under two tenants is two events', async () => {
    const e = newEvent();
    await expect(events.putIfAbsent(e)).resolves.toBe('created');
    await expect(events.putIfAbsent({ ...e, tenant_id: uid('ten') })).resolves.toBe('created');
  });

  it('get returns the stored event and undefined for an unknown one', async () => {
    const e = newEvent();
    await events.putIfAbsent(e);
    await expect(events.get(e.tenant_id, e.id)).resolves.toEqual(e);
    await expect(events.get(e.tenant_id, uid('evt'))).resolves.toBeUndefined();
    await expect(events.get(uid('ten'), e.id)).resolves.toBeUndefined();
  });

  it('get hides an event past its retention', async () => {
    const e = newEvent(new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000));
    await events.putIfAbsent(e);
    await expect(events.get(e.tenant_id, e.id)).resolves.toBeUndefined();
  });

  it('listDue finds an unfinished event and not a finished one', async () => {
    const now = new Date();
    const open = newEvent(now);
    const done = newEvent(now);
    await events.putIfAbsent(open);
    await events.putIfAbsent(done);
    await events.finishFanout(done.tenant_id, done.id, now);

    const due = await events.listDue(new Date(now.getTime() + seconds(1)), 1000);
    expect(due).toContainEqual({ tenant_id: open.tenant_id, id: open.id, due_at: open.received_at });
    expect(due.map((d) => d.id)).not.toContain(done.id);

    // Due means strictly before `before`: an event received after it is not listed yet.
    const early = await events.listDue(new Date(now.getTime() - seconds(1)), 1000);
    expect(early.map((d) => d.id)).not.toContain(open.id);
  });

  it('postpone moves the deadline when due_at is as read, and refuses a stale due_at', async () => {
    const now = new Date();
    const e = newEvent(now);
    await events.putIfAbsent(e);
    const ref = (await events.listDue(new Date(now.getTime() + seconds(1)), 1000)).find((d) => d.id === e.id)!;
    expect(ref).toBeDefined();

    const until = new Date(now.getTime() + 5 * 60_000);
    await expect(events.postpone(ref, until)).resolves.toBe(true);
    // The same ref is now stale: someone (this caller) moved the deadline already.
    await expect(events.postpone(ref, new Date(now.getTime() + 10 * 60_000))).resolves.toBe(false);

    const after = await events.listDue(new Date(now.getTime() + seconds(1)), 1000);
    expect(after.map((d) => d.id)).not.toContain(e.id);
    const later = await events.listDue(new Date(until.getTime() + seconds(1)), 1000);
    expect(later).toContainEqual({ tenant_id: e.tenant_id, id: e.id, due_at: until.toISOString() });
  });

  it('postpone of a finished event is refused and does not put it back in the due index', async () => {
    const now = new Date();
    const e = newEvent(now);
    await events.putIfAbsent(e);
    await events.finishFanout(e.tenant_id, e.id, now);
    await expect(events.postpone({ tenant_id: e.tenant_id, id: e.id, due_at: e.received_at }, new Date())).resolves.toBe(false);
    const due = await events.listDue(new Date(now.getTime() + 3600_000), 1000);
    expect(due.map((d) => d.id)).not.toContain(e.id);
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

describe('DynamoDeliveryStore', () => {
  let deliveries: DynamoDeliveryStore;
  beforeAll(() => {
    deliveries = new DynamoDeliveryStore(doc, standIns.tables.deliveries, RETENTION_DAYS);
  });

  const newDelivery = (): NewDelivery => ({
    delivery_id: uid('dlv'),
    tenant_id: 'ten_1',
    webhook_id: uid('wh'),
    event_id: uid('evt'),
    event_type: 'scan.completed',
  });
  const dueIds = async (before: Date) => (await deliveries.listDue(before, 1000)).map((d) => d.delivery_id);

  it('createMany creates what is new, returns only that, and leaves the others untouched', async () => {
    const t0 = new Date('2025-01-01T00:00:00.000Z');
    const a = newDelivery();
    const b = newDelivery();
    const c = newDelivery();
    await expect(deliveries.createMany([a, b], t0)).resolves.toEqual([a, b]);
    const before = await deliveries.get(a.delivery_id);
    expect(before).toMatchObject({ ...a, state: 'pending', attempts_started: 0, attempts_completed: 0, created_at: t0.toISOString() });

    await deliveries.claim(a.delivery_id, 1, new Date(), new Date(0));
    const t1 = new Date('2025-01-02T00:00:00.000Z');
    await expect(deliveries.createMany([a, b, c], t1)).resolves.toEqual([c]);
    // `a` keeps its claimed attempt: the conditional write did not reset it.
    expect(await deliveries.get(a.delivery_id)).toMatchObject({ attempts_started: 1, created_at: t0.toISOString() });
    expect(await deliveries.get(c.delivery_id)).toMatchObject({ ...c, state: 'pending', created_at: t1.toISOString() });
  });

  it('createMany writes more than one parallel slice (16)', async () => {
    const many = Array.from({ length: 60 }, newDelivery);
    const now = new Date();
    await expect(deliveries.createMany(many.slice(0, 40), now)).resolves.toHaveLength(40);
    const created = await deliveries.createMany(many, now);
    expect(created).toEqual(many.slice(40));
    for (const d of [many[0]!, many[39]!, many[59]!]) expect(await deliveries.get(d.delivery_id)).toBeDefined();
  });

  it('a completion records the health step it owes in the same write; settling it is conditional on the attempt', async () => {
    const t0 = new Date();
    const d = newDelivery();
    await deliveries.createMany([d], t0);
    await deliveries.claim(d.delivery_id, 1, t0, new Date(0));
    await expect(deliveries.complete(d.delivery_id, 1, { kind: 'failed' }, t0, undefined, 'failing')).resolves.toMatchObject({ state: 'failed', follow_up: 'failing' });
    await deliveries.settleFollowUp(d.delivery_id, 2); // not this attempt's: kept
    expect((await deliveries.get(d.delivery_id))?.follow_up).toBe('failing');
    await deliveries.settleFollowUp(d.delivery_id, 1);
    expect((await deliveries.get(d.delivery_id))?.follow_up).toBeUndefined();
  });

  it('a new delivery is due at once', async () => {
    const now = new Date();
    const d = newDelivery();
    await deliveries.createMany([d], now);
    const due = await deliveries.listDue(new Date(now.getTime() + seconds(1)), 1000);
    expect(due).toContainEqual({
      delivery_id: d.delivery_id,
      tenant_id: d.tenant_id,
      webhook_id: d.webhook_id,
      event_id: d.event_id,
      due_at: now.toISOString(),
      attempts_completed: 0,
    });
  });

  it('claims an attempt once, lets a stale claim be taken over, and follows completions', async () => {
    const t0 = new Date();
    const d = newDelivery();
    await deliveries.createMany([d], t0);
    const staleBefore = (at: Date) => new Date(at.getTime() - 60_000);

    // First claim of attempt 1.
    const claimed = await deliveries.claim(d.delivery_id, 1, t0, staleBefore(t0));
    expect(claimed).toMatchObject({ ...d, state: 'pending', attempts_started: 1, attempts_completed: 0, claimed_at: t0.toISOString() });

    // A redelivered message for attempt 1, while the first claim is fresh: not ours.
    const t1 = new Date(t0.getTime() + 1_000);
    await expect(deliveries.claim(d.delivery_id, 1, t1, staleBefore(t1))).resolves.toBeUndefined();

    // Long after: the first dispatcher died; the claim is stale and is taken over.
    const t2 = new Date(t0.getTime() + 5 * 60_000);
    const reclaimed = await deliveries.claim(d.delivery_id, 1, t2, staleBefore(t2));
    expect(reclaimed).toMatchObject({ attempts_started: 1, attempts_completed: 0, claimed_at: t2.toISOString() });

    // Attempt 2 cannot be claimed before attempt 1 is complete.
    await expect(deliveries.claim(d.delivery_id, 2, t2, staleBefore(t2))).resolves.toBeUndefined();

    // Attempt 1 failed with rungs left: retry in 10 minutes.
    const next = new Date(t2.getTime() + 10 * 60_000);
    await deliveries.complete(d.delivery_id, 1, { kind: 'retry', nextAttemptAt: next }, t2);
    const afterRetry = await deliveries.get(d.delivery_id);
    expect(afterRetry).toMatchObject({ state: 'pending', attempts_started: 1, attempts_completed: 1, next_attempt_at: next.toISOString() });
    expect(await dueIds(new Date(next.getTime() + 1_000))).toContain(d.delivery_id);
    expect(await dueIds(new Date(next.getTime() - 1_000))).not.toContain(d.delivery_id);
    const due = (await deliveries.listDue(new Date(next.getTime() + 1_000), 1000)).find((x) => x.delivery_id === d.delivery_id);
    expect(due).toMatchObject({ due_at: next.toISOString(), attempts_completed: 1 });

    // Attempt 3 when attempts_completed is 1: refused.
    await expect(deliveries.claim(d.delivery_id, 3, next, staleBefore(next))).resolves.toBeUndefined();
    // Attempt 1 again after it completed: refused.
    await expect(deliveries.claim(d.delivery_id, 1, next, new Date(next.getTime() + 3600_000))).resolves.toBeUndefined();

    // Attempt 2 succeeds.
    await expect(deliveries.claim(d.delivery_id, 2, next, staleBefore(next))).resolves.toMatchObject({ attempts_started: 2, attempts_completed: 1 });
    await deliveries.complete(d.delivery_id, 2, { kind: 'succeeded' }, next);
    const done = await deliveries.get(d.delivery_id);
    expect(done).toMatchObject({ state: 'succeeded', attempts_started: 2, attempts_completed: 2 });
    expect(done).not.toHaveProperty('next_attempt_at');
    expect(done).not.toHaveProperty('due_at');
    expect(done).not.toHaveProperty('due_shard');
    expect(await dueIds(new Date(next.getTime() + 3600_000))).not.toContain(d.delivery_id);

    // Nothing can be claimed after success, not even with every claim considered stale.
    const far = new Date(next.getTime() + 3600_000);
    await expect(deliveries.claim(d.delivery_id, 3, far, far)).resolves.toBeUndefined();
    await expect(deliveries.claim(d.delivery_id, 2, far, far)).resolves.toBeUndefined();
  });

  it('complete by an overtaken claim is a no-op', async () => {
    const t0 = new Date();
    const d = newDelivery();
    await deliveries.createMany([d], t0);
    await deliveries.claim(d.delivery_id, 1, t0, new Date(t0.getTime() - 60_000));
    await deliveries.complete(d.delivery_id, 1, { kind: 'retry', nextAttemptAt: t0 }, t0);
    await deliveries.claim(d.delivery_id, 2, t0, new Date(t0.getTime() - 60_000));
    // A late outcome for attempt 1 must not overwrite attempt 2's claim.
    await expect(deliveries.complete(d.delivery_id, 1, { kind: 'failed' }, t0)).resolves.toBeUndefined();
    expect(await deliveries.get(d.delivery_id)).toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 1 });
  });

  it('failed and cancelled completions leave the due index; cancelled keeps its reason', async () => {
    const t0 = new Date();
    const failed = newDelivery();
    const cancelled = newDelivery();
    await deliveries.createMany([failed, cancelled], t0);
    for (const d of [failed, cancelled]) await deliveries.claim(d.delivery_id, 1, t0, new Date(t0.getTime() - 60_000));
    await deliveries.complete(failed.delivery_id, 1, { kind: 'failed' }, t0);
    await deliveries.complete(cancelled.delivery_id, 1, { kind: 'cancelled', reason: 'webhook deleted' }, t0);
    expect(await deliveries.get(failed.delivery_id)).toMatchObject({ state: 'failed', attempts_completed: 1 });
    expect(await deliveries.get(cancelled.delivery_id)).toMatchObject({ state: 'cancelled', cancel_reason: 'webhook deleted' });
    const due = await dueIds(new Date(t0.getTime() + 3600_000));
    expect(due).not.toContain(failed.delivery_id);
    expect(due).not.toContain(cancelled.delivery_id);
  });

  it('postpone moves a due delivery once; a stale due_at is refused', async () => {
    const t0 = new Date();
    const d = newDelivery();
    await deliveries.createMany([d], t0);
    const ref = (await deliveries.listDue(new Date(t0.getTime() + 1_000), 1000)).find((x) => x.delivery_id === d.delivery_id)!;
    const until = new Date(t0.getTime() + 120_000);
    await expect(deliveries.postpone(ref, until)).resolves.toBe(true);
    await expect(deliveries.postpone(ref, until)).resolves.toBe(false);
    expect(await dueIds(new Date(t0.getTime() + 1_000))).not.toContain(d.delivery_id);
    expect(await dueIds(new Date(until.getTime() + 1_000))).toContain(d.delivery_id);
  });

  it('claim of a delivery that does not exist returns undefined', async () => {
    await expect(deliveries.claim(uid('dlv'), 1, new Date(), new Date())).resolves.toBeUndefined();
  });
});

describe('DynamoAttemptLog', () => {
  let log: DynamoAttemptLog;
  beforeAll(() => {
    log = new DynamoAttemptLog(doc, standIns.tables.attempts, RETENTION_DAYS);
  });


  it('lists a webhook’s attempts newest first, exactly as recorded, with page/per_page/hasMore', async () => {
    const webhookId = uid('wh');
    const base = Date.now() - 60_000;
    const attempts = [0, 1, 2].map((n) => newAttempt(webhookId, n, new Date(base + n * 1_000)));
    // Recorded out of order: the order comes from attempted_at.
    for (const a of [attempts[1]!, attempts[2]!, attempts[0]!]) await log.record(a);
    await log.record(newAttempt(uid('wh'), 9, new Date(base + 5_000)));

    const all = await log.list('ten_1', webhookId, { page: 1, perPage: 10 });
    expect(all.items).toEqual([attempts[2], attempts[1], attempts[0]]);
    expect(all.hasMore).toBe(false);
    for (const item of all.items) {
      expect(item).not.toHaveProperty('attempt_key');
      expect(item).not.toHaveProperty('expires_at');
    }

    const p1 = await log.list('ten_1', webhookId, { page: 1, perPage: 2 });
    expect(p1.items.map((a) => a.id)).toEqual([attempts[2]!.id, attempts[1]!.id]);
    expect(p1.hasMore).toBe(true);
    const p2 = await log.list('ten_1', webhookId, { page: 2, perPage: 2 });
    expect(p2.items.map((a) => a.id)).toEqual([attempts[0]!.id]);
    expect(p2.hasMore).toBe(false);
  });

  it('walks a webhook’s attempts with cursors newest first, each once, skipping expired ones between pages', async () => {
    const webhookId = uid('wh');
    const base = Date.now() - 60_000;
    const live = Array.from({ length: 7 }, (_, n) => newAttempt(webhookId, n, new Date(base + n * 1_000)));
    for (const a of live) await log.record(a);
    const pastEpoch = Math.floor(Date.now() / 1000) - 10;
    for (const n of [2.5, 4.5]) {
      const a = newAttempt(webhookId, 9, new Date(base + n * 1_000));
      await doc.send(new PutCommand({ TableName: standIns.tables.attempts, Item: { ...a, attempt_key: `${a.attempted_at}#x#001`, expires_at: pastEpoch } }));
    }
    const pages = await walk((cursor) => log.list('ten_1', webhookId, { page: 1, perPage: 2, cursor }));
    const newestFirst = [...live].reverse().map((a) => a.id);
    expect(pages.flatMap((p) => p.items.map((a) => a.id))).toEqual(newestFirst);
    expect(pages.map((p) => p.items.length)).toEqual([2, 2, 2, 1]);
    expect(pages.at(-1)!.hasMore).toBe(false);
    expect(pages[0]!.items[0]).toEqual(live[6]);
  });

  it('refuses a cursor of another webhook or made for another tenant', async () => {
    const [mine, theirs] = [uid('wh'), uid('wh')];
    for (const webhookId of [mine, theirs]) {
      for (const n of [0, 1]) await log.record(newAttempt(webhookId, n, new Date(Date.now() - 10_000 + n)));
    }
    const theirCursor = (await log.list('ten_1', theirs, { page: 1, perPage: 1 })).nextCursor!;
    const otherTenantsCursor = (await log.list('ten_2', mine, { page: 1, perPage: 1 })).nextCursor!;
    for (const cursor of [theirCursor, otherTenantsCursor]) {
      await expect(log.list('ten_1', mine, { page: 1, perPage: 1, cursor })).rejects.toBeInstanceOf(ValidationError);
    }
    const ownCursor = (await log.list('ten_1', mine, { page: 1, perPage: 1 })).nextCursor!;
    expect((await log.list('ten_1', mine, { page: 1, perPage: 1, cursor: ownCursor })).page).toBe(2);
  });

  it('keeps two attempts of the same time apart (delivery id and attempt number in the key)', async () => {
    const webhookId = uid('wh');
    const at = new Date(Date.now() - 1_000);
    const a = newAttempt(webhookId, 0, at, { delivery_id: 'dlv_same', attempt: 1 });
    const b = newAttempt(webhookId, 1, at, { delivery_id: 'dlv_same', attempt: 2 });
    const c = newAttempt(webhookId, 2, at, { delivery_id: 'dlv_other', attempt: 1 });
    for (const x of [a, b, c]) await log.record(x);
    expect((await log.list('ten_1', webhookId, { page: 1, perPage: 10 })).items.map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
  });

  it('stores expires_at = attempted_at + retention in epoch seconds', async () => {
    const webhookId = uid('wh');
    const at = new Date('2030-01-01T00:00:00.500Z');
    const a = newAttempt(webhookId, 0, at, { delivery_id: 'dlv_x', attempt: 7 });
    await log.record(a);
    const out = await doc.send(
      new GetCommand({ TableName: standIns.tables.attempts, Key: { webhook_id: webhookId, attempt_key: `${a.attempted_at}#dlv_x#007` } }),
    );
    expect(out.Item?.['expires_at']).toBe(Math.floor(at.getTime() / 1000) + RETENTION_DAYS * 86_400);
  });

  it('hides expired attempts, also when they sit between pages', async () => {
    const webhookId = uid('wh');
    const base = Date.now() - 60_000;
    const live = [0, 2, 4].map((n) => newAttempt(webhookId, n, new Date(base + n * 1_000)));
    for (const a of live) await log.record(a);
    // Expired items that DynamoDB has not deleted yet (dynalite never does), newest and in between.
    const pastEpoch = Math.floor(Date.now() / 1000) - 10;
    for (const n of [1, 3, 5]) {
      const a = newAttempt(webhookId, n, new Date(base + n * 1_000));
      await doc.send(
        new PutCommand({
          TableName: standIns.tables.attempts,
          Item: { ...a, attempt_key: `${a.attempted_at}#${a.delivery_id}#001`, expires_at: pastEpoch },
        }),
      );
    }
    const all = await log.list('ten_1', webhookId, { page: 1, perPage: 10 });
    expect(all.items.map((a) => a.id)).toEqual([live[2]!.id, live[1]!.id, live[0]!.id]);
    expect(all.hasMore).toBe(false);

    const p1 = await log.list('ten_1', webhookId, { page: 1, perPage: 2 });
    expect(p1.items.map((a) => a.id)).toEqual([live[2]!.id, live[1]!.id]);
    expect(p1.hasMore).toBe(true);
    const p2 = await log.list('ten_1', webhookId, { page: 2, perPage: 2 });
    expect(p2.items.map((a) => a.id)).toEqual([live[0]!.id]);
    expect(p2.hasMore).toBe(false);
  });

  it('hides an attempt recorded longer ago than the retention', async () => {
    const webhookId = uid('wh');
    await log.record(newAttempt(webhookId, 0, new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000)));
    await expect(log.list('ten_1', webhookId, { page: 1, perPage: 10 })).resolves.toEqual({ items: [], page: 1, hasMore: false });
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
