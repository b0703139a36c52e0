/**
 * The delivery log on DynamoDB (dynalite), which is also the deliveries' state on AWS: one item
 * per attempt, written once with a conditional put; claims are reads; a delivery is what its
 * items say; a webhook's log is LOG_SHARDS partitions merged newest first. What both adapter sets
 * share is in test/contract (deliveries, attempts); this is what only this adapter does.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoDeliveryLog } from '../../shared/adapters/aws/dynamo-delivery-log.ts';
import { LOST_RUNG_MS } from '../../shared/adapters/aws/dynamo-delivery-log-reader.ts';
import { LOG_SHARDS } from '../../shared/adapters/aws/tables.ts';
import type { Attempt, DeliveryMessage } from '../../shared/domain/deliveries.ts';
import { shardOf } from '../../shared/domain/ids.ts';
import type { Completion } from '../../shared/usecases/dispatch.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import type { NewDelivery } from '../../shared/usecases/fan-out.ts';
import { attemptFor, messageOf, newDelivery, receivedAtOf, summaryOf } from '../contract/adapter-sets.ts';

const RETENTION_DAYS = 30;
const SECOND = 1_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let log: DynamoDeliveryLog;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-delivery-log-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  log = new DynamoDeliveryLog(doc, standIns.tables.attempts, RETENTION_DAYS);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const logKey = (d: NewDelivery) => `${d.webhook_id}#${shardOf(d.delivery_id, LOG_SHARDS)}`;
const entry = (d: NewDelivery, n: number) => `${d.delivery_id}#${String(n).padStart(3, '0')}`;
/** The log table of a delivery's shard: the stand-ins split the log over two, as `logTables` does (shard s in table s mod n). */
const tableOf = (d: NewDelivery) => standIns.tables.attempts[shardOf(d.delivery_id, LOG_SHARDS) % standIns.tables.attempts.length]!;
/** The item of attempt `n` as stored in `table`. */
const itemIn = async (table: string, d: NewDelivery, n: number) =>
  (await doc.send(new GetCommand({ TableName: table, Key: { log_key: logKey(d), entry: entry(d, n) }, ConsistentRead: true }))).Item;
/** The stored item of attempt `n`, read as it is. */
const itemOf = (d: NewDelivery, n: number) => itemIn(tableOf(d), d, n);
/** Every stored item of a delivery. */
const itemsOf = async (d: NewDelivery) =>
  (
    await doc.send(
      new QueryCommand({
        TableName: tableOf(d),
        KeyConditionExpression: 'log_key = :k AND begins_with(entry, :d)',
        ExpressionAttributeValues: { ':k': logKey(d), ':d': `${d.delivery_id}#` },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];
const expiresAt = (a: Attempt) => Math.floor(Date.parse(a.attempted_at) / 1000) + RETENTION_DAYS * 86_400;

/** Records attempt `n` as the dispatcher does after sending it (no claim needed: claims are reads). */
async function record(d: NewDelivery, n: number, completion: Completion, when: Date, followUp?: 'healthy' | 'failing' | 'disabled') {
  const attempt = attemptFor(d, n, completion, when);
  const recorded = await log.recordOutcome(attempt, completion, when, summaryOf(attempt), followUp);
  return { attempt, summary: summaryOf(attempt), recorded };
}

/** Every page of a list, following nextCursor from the first page. */
async function walk<T>(list: (cursor: string | undefined) => Promise<ListPage<T>>): Promise<ListPage<T>[]> {
  const pages = [await list(undefined)];
  while (pages.at(-1)!.nextCursor !== undefined) {
    if (pages.length > 50) throw new Error('the cursor walk does not end');
    pages.push(await list(pages.at(-1)!.nextCursor));
  }
  return pages;
}

describe('DynamoDeliveryLog: writes', () => {
  it('recordOutcome is one conditional put per attempt: the item holds the attempt, its outcome and its expiry', async () => {
    const t0 = new Date(Date.now() - 10 * MINUTE);
    const d = newDelivery(t0);
    const next = at(t0, MINUTE);
    const { attempt, recorded } = await record(d, 1, { kind: 'retry', nextAttemptAt: next }, t0);
    expect(recorded).toEqual({
      delivery_id: d.delivery_id,
      tenant_id: d.tenant_id,
      webhook_id: d.webhook_id,
      event_id: d.event_id,
      event_type: d.event_type,
      state: 'pending',
      attempts_started: 1,
      attempts_completed: 1,
      next_attempt_at: next.toISOString(),
      created_at: attempt.attempted_at,
      updated_at: attempt.attempted_at,
    });
    expect(await itemsOf(d)).toEqual([{ ...attempt, log_key: logKey(d), entry: entry(d, 1), outcome: 'retry', expires_at: expiresAt(attempt) }]);
  });

  it('a second record of the same attempt is refused (undefined) and leaves the first item as it was; of two at once, one is recorded', async () => {
    const t0 = new Date(Date.now() - 10 * MINUTE);
    const d = newDelivery(t0);
    await record(d, 1, { kind: 'retry', nextAttemptAt: at(t0, MINUTE) }, t0);
    const first = await itemOf(d, 1);
    await expect(record(d, 1, { kind: 'succeeded' }, at(t0, SECOND), 'healthy').then((r) => r.recorded)).resolves.toBeUndefined();
    expect(await itemOf(d, 1)).toEqual(first);

    const both = await Promise.all([record(d, 2, { kind: 'failed' }, at(t0, MINUTE), 'failing'), record(d, 2, { kind: 'succeeded' }, at(t0, MINUTE))]);
    expect(both.filter((r) => r.recorded !== undefined)).toHaveLength(1);
    const winner = both.find((r) => r.recorded !== undefined)!;
    expect(await itemOf(d, 2)).toMatchObject({ id: winner.attempt.id, success: winner.attempt.success });
    expect(await itemsOf(d)).toHaveLength(2);
  });

  it('a cancellation writes nothing: the log shows only attempts that were made', async () => {
    const t0 = new Date(Date.now() - MINUTE);
    const d = newDelivery(t0);
    const cancelled: Completion = { kind: 'cancelled', reason: 'webhook deleted' };
    await expect(log.complete(d, 1, cancelled, t0)).resolves.toBeUndefined();
    await expect(log.recordOutcome(attemptFor(d, 1, cancelled, t0), cancelled, t0, summaryOf(attemptFor(d, 1, cancelled, t0)))).resolves.toBeUndefined();
    expect(await itemsOf(d)).toEqual([]);
    await expect(log.get(d)).resolves.toBeUndefined();
  });

  it("settleFollowUp removes the step from that attempt's item only, and creates no item for an attempt not logged", async () => {
    const t0 = new Date(Date.now() - 10 * MINUTE);
    const d = newDelivery(t0);
    await record(d, 1, { kind: 'failed' }, t0, 'failing');
    await log.settleFollowUp(d, 2);
    expect(await itemOf(d, 2)).toBeUndefined();
    expect(await itemOf(d, 1)).toMatchObject({ follow_up: 'failing' });
    await log.settleFollowUp(d, 1);
    const settled = await itemOf(d, 1);
    expect(settled).not.toHaveProperty('follow_up');
    expect(settled).toMatchObject({ outcome: 'failed', attempt: 1 });
  });

  it('record logs an attempt outside any ladder (a test event) as it ended, unconditionally', async () => {
    const t0 = new Date(Date.now() - MINUTE);
    const d = newDelivery(t0);
    const ok = { ...attemptFor(d, 1, { kind: 'succeeded' }, t0), trigger: 'test' as const };
    await log.record(ok);
    expect(await itemOf(d, 1)).toEqual({ ...ok, log_key: logKey(d), entry: entry(d, 1), outcome: 'succeeded', expires_at: expiresAt(ok) });
    const failed = { ...attemptFor(d, 1, { kind: 'failed' }, t0), trigger: 'test' as const };
    await log.record(failed);
    expect(await itemOf(d, 1)).toMatchObject({ id: failed.id, outcome: 'failed' });
  });
});

describe('DynamoDeliveryLog: claims are reads', () => {
  it('claim hands out a pending delivery, to every caller, until the attempt is logged; then undefined; it writes nothing', async () => {
    const t0 = new Date(Date.now() - 10 * MINUTE);
    const d = newDelivery(t0);
    const now = at(t0, SECOND);
    const message = messageOf(d, 1);
    const claims = await Promise.all([log.claim(message, now, now), log.claim(message, now, now)]);
    for (const claim of claims) {
      expect(claim).toEqual({
        delivery_id: d.delivery_id,
        tenant_id: d.tenant_id,
        webhook_id: d.webhook_id,
        event_id: d.event_id,
        event_type: d.event_type,
        state: 'pending',
        attempts_started: 1,
        attempts_completed: 0,
        claimed_at: now.toISOString(),
        created_at: receivedAtOf(d),
        updated_at: now.toISOString(),
      });
    }
    expect(await itemsOf(d)).toEqual([]);

    const next = at(t0, MINUTE);
    const first = await record(d, 1, { kind: 'retry', nextAttemptAt: next }, now);
    await expect(log.claim(message, next, next)).resolves.toBeUndefined();
    // The next rung's message carries when it was due and the ladder so far.
    const rung: DeliveryMessage = { ...messageOf(d, 2), due_at: next.toISOString(), history: [first.summary] };
    await expect(log.claim(rung, next, next)).resolves.toMatchObject({ attempts_started: 2, attempts_completed: 1, next_attempt_at: next.toISOString(), history: [first.summary] });
  });
});

describe('DynamoDeliveryLog: reads', () => {
  it('get derives the delivery from its items: state, attempts, history, next_attempt_at, follow_up and times', async () => {
    const t1 = new Date(Date.now() - 30 * MINUTE);
    const [t2, t3] = [at(t1, 5 * MINUTE), at(t1, 15 * MINUTE)];
    const d = newDelivery(t1);
    await expect(log.get(d)).resolves.toBeUndefined();

    const s1 = (await record(d, 1, { kind: 'retry', nextAttemptAt: t2 }, t1)).summary;
    const ref = { delivery_id: d.delivery_id, tenant_id: d.tenant_id, webhook_id: d.webhook_id, event_id: d.event_id, event_type: d.event_type };
    await expect(log.get(d)).resolves.toEqual({
      ...ref,
      state: 'pending',
      attempts_started: 1,
      attempts_completed: 1,
      next_attempt_at: t2.toISOString(),
      history: [s1],
      created_at: t1.toISOString(),
      updated_at: t1.toISOString(),
    });

    const s2 = (await record(d, 2, { kind: 'retry', nextAttemptAt: t3 }, t2)).summary;
    const s3 = (await record(d, 3, { kind: 'failed' }, t3, 'failing')).summary;
    await expect(log.get(d)).resolves.toEqual({
      ...ref,
      state: 'failed',
      attempts_started: 3,
      attempts_completed: 3,
      history: [s1, s2, s3],
      follow_up: 'failing',
      created_at: t1.toISOString(),
      updated_at: t3.toISOString(),
    });
    await expect(log.get({ ...d, tenant_id: 'ten_other' })).resolves.toBeUndefined();
    await expect(log.get({ ...d, webhook_id: 'wh_other' })).resolves.toBeUndefined();

    const succeeded = newDelivery(t1);
    await record(succeeded, 1, { kind: 'succeeded' }, t1);
    await expect(log.get(succeeded)).resolves.toMatchObject({ state: 'succeeded', attempts_completed: 1 });
  });

  it('get hides a delivery whose attempts are past their retention', async () => {
    const old = new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000);
    const d = newDelivery(old);
    await record(d, 1, { kind: 'failed' }, old);
    expect(await itemsOf(d)).toHaveLength(1);
    await expect(log.get(d)).resolves.toBeUndefined();
    await expect(log.reopen(d, new Date())).resolves.toBeUndefined();
  });

  it('reopen opens a pending delivery whose next rung is over an hour late (a rung lost on AWS), not one less late', async () => {
    const t0 = new Date(Date.now() - 3 * HOUR);
    const d = newDelivery(t0);
    const due = at(t0, MINUTE);
    await record(d, 1, { kind: 'retry', nextAttemptAt: due }, t0);
    await expect(log.reopen(d, new Date(due.getTime() + LOST_RUNG_MS - 1))).resolves.toBeUndefined();
    await expect(log.reopen(d, new Date(due.getTime() + LOST_RUNG_MS + 1))).resolves.toMatchObject({ state: 'pending', attempts_completed: 1 });
  });

  it('reopen refuses a delivery whose ladder goes on, opens a finished one, and writes nothing', async () => {
    const t0 = new Date(Date.now() - 30 * MINUTE);
    const d = newDelivery(t0);
    await expect(log.reopen(d, t0)).resolves.toBeUndefined();
    await record(d, 1, { kind: 'retry', nextAttemptAt: at(t0, MINUTE) }, t0);
    await expect(log.reopen(d, t0)).resolves.toBeUndefined();
    await record(d, 2, { kind: 'failed' }, at(t0, MINUTE));
    const items = await itemsOf(d);

    const now = new Date();
    await expect(log.reopen(d, now)).resolves.toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 2 });
    // Nothing written: opened again as often as asked; the manual attempt's own entry is the record.
    await expect(log.reopen(d, now)).resolves.toMatchObject({ state: 'pending', attempts_completed: 2 });
    expect(await itemsOf(d)).toEqual(items);
    await expect(log.get(d)).resolves.toMatchObject({ state: 'failed' });
  });

  it('list merges the webhook’s LOG_SHARDS partitions: newest delivery first, its attempts newest first, by cursor and by page number', async () => {
    const base = new Date(Date.now() - 60 * MINUTE);
    const first = newDelivery(base);
    const { tenant_id, webhook_id } = first;
    // Deliveries of one webhook until every partition holds some (their events a second apart).
    const deliveries = [first];
    const shards = () => new Set(deliveries.map((d) => shardOf(d.delivery_id, LOG_SHARDS))).size;
    while (shards() < LOG_SHARDS || deliveries.length < 12) deliveries.push(newDelivery(at(base, deliveries.length * SECOND), { tenant_id, webhook_id }));

    const expected: Attempt[] = [];
    for (const [i, d] of deliveries.entries()) {
      const created = Date.parse(receivedAtOf(d));
      const attempts = [await record(d, 1, i % 3 === 0 ? { kind: 'retry', nextAttemptAt: new Date(created + 30 * MINUTE) } : { kind: 'succeeded' }, new Date(created))];
      // Every third delivery's second rung comes after every delivery's first attempt.
      if (i % 3 === 0) attempts.push(await record(d, 2, { kind: 'failed' }, new Date(created + 30 * MINUTE)));
      expected.unshift(...attempts.map((a) => a.attempt).reverse());
    }
    const other = newDelivery(at(base, SECOND), { tenant_id });
    await record(other, 1, { kind: 'succeeded' }, at(base, SECOND));
    // The webhook's log is in every log table, each entry in its shard's table only.
    expect(new Set(deliveries.map(tableOf)).size).toBe(standIns.tables.attempts.length);
    for (const d of deliveries.slice(0, 6)) {
      for (const table of standIns.tables.attempts) expect({ table, stored: !!(await itemIn(table, d, 1)) }).toEqual({ table, stored: table === tableOf(d) });
    }

    const pages = await walk((cursor) => log.list(tenant_id, webhook_id, { page: 1, perPage: 4, cursor }));
    expect(pages.flatMap((p) => p.items)).toEqual(expected);
    expect(pages.map((p) => p.page)).toEqual(pages.map((_, i) => i + 1));
    expect(pages.at(-1)!.hasMore).toBe(false);
    for (const [i, page] of pages.entries()) {
      const byNumber = await log.list(tenant_id, webhook_id, { page: i + 1, perPage: 4 });
      expect(byNumber.items).toEqual(page.items);
      expect(byNumber.nextCursor).toBe(page.nextCursor);
    }
  });

  it('list hides expired items DynamoDB has not deleted yet, also between pages', async () => {
    const base = new Date(Date.now() - 60 * MINUTE);
    const live = [0, 2, 4].map((i) => newDelivery(at(base, i * SECOND)));
    const { tenant_id, webhook_id } = live[0]!;
    const liveAttempts: Attempt[] = [];
    for (const d of live.map((l) => ({ ...l, tenant_id, webhook_id }))) liveAttempts.push((await record(d, 1, { kind: 'succeeded' }, new Date(receivedAtOf(d)))).attempt);
    // Expired (DynamoDB deletes late, dynalite never), the newest and between the live ones.
    const pastEpoch = Math.floor(Date.now() / 1000) - 10;
    for (const i of [1, 3, 5]) {
      const d = newDelivery(at(base, i * SECOND), { tenant_id, webhook_id });
      const attempt = attemptFor(d, 1, { kind: 'succeeded' }, at(base, i * SECOND));
      await doc.send(new PutCommand({ TableName: tableOf(d), Item: { ...attempt, log_key: logKey(d), entry: entry(d, 1), outcome: 'succeeded', expires_at: pastEpoch } }));
    }
    const newestFirst = [...liveAttempts].reverse();
    await expect(log.list(tenant_id, webhook_id, { page: 1, perPage: 10 })).resolves.toEqual({ items: newestFirst, page: 1, hasMore: false });
    const pages = await walk((cursor) => log.list(tenant_id, webhook_id, { page: 1, perPage: 2, cursor }));
    expect(pages.map((p) => p.items)).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2)]);
    await expect(log.list(tenant_id, webhook_id, { page: 2, perPage: 2 })).resolves.toEqual({ items: newestFirst.slice(2), page: 2, hasMore: false });
  });

  it('failedDeliveriesSince reads every partition: each delivery once, by its first failure at or after the time, at most the limit', async () => {
    const base = new Date(Date.now() - 60 * MINUTE);
    const first = newDelivery(base);
    const { tenant_id, webhook_id } = first;
    const deliveries = [first];
    while (new Set(deliveries.map((d) => shardOf(d.delivery_id, LOG_SHARDS))).size < 4) {
      deliveries.push(newDelivery(at(base, deliveries.length * SECOND), { tenant_id, webhook_id }));
    }
    const since = at(base, 10 * MINUTE);
    // Each fails once before `since`, then (all but the first) again after it, the older ones later.
    for (const [i, d] of deliveries.entries()) {
      const created = new Date(receivedAtOf(d));
      await record(d, 1, { kind: 'retry', nextAttemptAt: at(since, (deliveries.length - i) * SECOND) }, created);
      if (i > 0) await record(d, 2, { kind: 'failed' }, at(since, (deliveries.length - i) * SECOND));
    }
    const succeededAfter = newDelivery(at(base, 30 * SECOND), { tenant_id, webhook_id });
    await record(succeededAfter, 1, { kind: 'succeeded' }, at(since, SECOND));

    const failedAfter = deliveries.slice(1).reverse().map((d) => d.delivery_id);
    await expect(log.failedDeliveriesSince(webhook_id, since, 100)).resolves.toEqual(failedAfter);
    await expect(log.failedDeliveriesSince(webhook_id, since, 2)).resolves.toEqual(failedAfter.slice(0, 2));
    await expect(log.failedDeliveriesSince(webhook_id, base, 100)).resolves.toHaveLength(deliveries.length);
  });
});
