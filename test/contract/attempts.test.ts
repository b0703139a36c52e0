/**
 * The delivery log's ports (AttemptLog, AttemptRecorder, FailedAttempts), one contract run on
 * both adapter sets: newest first, pages by number and by cursor, cursors bound to their list,
 * and retention. DynamoDB deletes expired items late (dynalite never): both sets must hide them
 * from the moment they expire; the SQLite store also deletes them itself (purgeExpired).
 *
 * "Newest first" is by the log's key on both: newest delivery first (its id starts with its
 * event's arrival), and a delivery's attempts together, newest first.
 */
import type { Attempt } from '../../shared/domain/deliveries.ts';
import { deliveryIdFor } from '../../shared/domain/ids.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import { newAttempt } from '../support/records.ts';
import { rejection } from '../support/rejection.ts';
import {
  ADAPTER_SETS,
  RETENTION_DAYS,
  makeAttempt,
  newDelivery,
  uid,
  useBackend,
  type Adapters,
  type MakeAdapters,
} from './adapter-sets.ts';

const DAY = 86_400_000;
const SECOND = 1_000;

/** Every page of a list, following nextCursor from the first page. */
async function walk<T>(list: (cursor: string | undefined) => Promise<ListPage<T>>): Promise<ListPage<T>[]> {
  const pages = [await list(undefined)];
  while (pages.at(-1)!.nextCursor !== undefined) {
    if (pages.length > 50) throw new Error('the cursor walk does not end');
    pages.push(await list(pages.at(-1)!.nextCursor));
  }
  return pages;
}

/**
 * newAttempt `n` (even: succeeded, odd: failed) as the only attempt of a delivery whose event
 * arrived when the attempt was made: the delivery's id starts with that time, as the fan-out's do.
 */
const attemptAt = (webhookId: string, n: number, at: Date, extra: Partial<Attempt> = {}): Attempt =>
  newAttempt(webhookId, n, at, { delivery_id: deliveryIdFor('ten_1', `evt_${n}`, webhookId, at.toISOString()), ...extra });

/**
 * Delivery A's two attempts (a retry, then a failure 30 s later) and, in between, delivery B's
 * one (B's event arrived 10 s after A's): B's attempt is older than A's second one.
 */
async function laterRungAfterNewerDelivery(adapters: Adapters) {
  const t0 = new Date(Date.now() - 60 * SECOND);
  const at = (s: number) => new Date(t0.getTime() + s * SECOND);
  const a = newDelivery(t0);
  const b = newDelivery(at(10), { tenant_id: a.tenant_id, webhook_id: a.webhook_id });
  const a1 = await makeAttempt(adapters, a, 1, { kind: 'retry', nextAttemptAt: at(30) }, at(1));
  const b1 = await makeAttempt(adapters, b, 1, { kind: 'succeeded' }, at(11));
  const a2 = await makeAttempt(adapters, a, 2, { kind: 'failed' }, at(30));
  const list = async () => (await adapters.attempts.list(a.tenant_id, a.webhook_id, { page: 1, perPage: 10 })).items;
  return { a1: a1.attempt, b1: b1.attempt, a2: a2.attempt, list };
}

export function describeAttemptLogContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`delivery log contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const log = () => backend().adapters.attempts;

    it('lists the attempts the dispatcher recorded newest first, exactly as recorded, by page number', async () => {
      const base = new Date(Date.now() - 60 * SECOND);
      const at = (s: number) => new Date(base.getTime() + s * SECOND);
      const first = newDelivery(base);
      const { tenant_id, webhook_id } = first;
      const second = newDelivery(at(10), { tenant_id, webhook_id });
      const a1 = await makeAttempt(backend().adapters, first, 1, { kind: 'retry', nextAttemptAt: at(5) }, at(1));
      const a2 = await makeAttempt(backend().adapters, first, 2, { kind: 'succeeded' }, at(5));
      const b1 = await makeAttempt(backend().adapters, second, 1, { kind: 'failed' }, at(11), { followUp: 'failing' });
      await makeAttempt(backend().adapters, newDelivery(at(12), { tenant_id }), 1, { kind: 'succeeded' }, at(12));
      const newestFirst = [b1.attempt, a2.attempt, a1.attempt];

      await expect(log().list(tenant_id, webhook_id, { page: 1, perPage: 10 })).resolves.toEqual({ items: newestFirst, page: 1, hasMore: false });
      const p1 = await log().list(tenant_id, webhook_id, { page: 1, perPage: 2 });
      expect(p1.items).toEqual(newestFirst.slice(0, 2));
      expect(p1.hasMore).toBe(true);
      expect(p1.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      await expect(log().list(tenant_id, webhook_id, { page: 2, perPage: 2 })).resolves.toEqual({ items: [a1.attempt], page: 2, hasMore: false });
      await expect(log().list(tenant_id, webhook_id, { page: 3, perPage: 2 })).resolves.toEqual({ items: [], page: 3, hasMore: false });
    });

    it("keeps a delivery's later rung with its delivery: after a newer delivery's older attempt", async () => {
      const { a1, b1, a2, list } = await laterRungAfterNewerDelivery(backend().adapters);
      await expect(list()).resolves.toEqual([b1, a2, a1]);
    });

    it('lists an attempt recorded outside a ladder (a test event) as recorded', async () => {
      const webhookId = uid('wh');
      const attempt = attemptAt(webhookId, 1, new Date(Date.now() - SECOND), { trigger: 'test' });
      await log().record(attempt);
      await expect(log().list('ten_1', webhookId, { page: 1, perPage: 10 })).resolves.toEqual({ items: [attempt], page: 1, hasMore: false });
    });

    it('walks the log with cursors: each attempt once, numbered pages, no cursor after the last; the same cursor by number', async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const live = Array.from({ length: 7 }, (_, n) => attemptAt(webhookId, n, new Date(base + n * SECOND)));
      for (const a of live) await log().record(a);
      const pages = await walk((cursor) => log().list('ten_1', webhookId, { page: 1, perPage: 3, cursor }));
      expect(pages.map((p) => p.items.map((a) => a.id))).toEqual([
        [live[6]!.id, live[5]!.id, live[4]!.id],
        [live[3]!.id, live[2]!.id, live[1]!.id],
        [live[0]!.id],
      ]);
      expect(pages.map((p) => p.page)).toEqual([1, 2, 3]);
      expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
      expect((await log().list('ten_1', webhookId, { page: 2, perPage: 3 })).nextCursor).toBe(pages[1]!.nextCursor);
    });

    it('refuses with a 400 a cursor of another webhook, of another tenant, or garbage', async () => {
      const [mine, theirs] = [uid('wh'), uid('wh')];
      for (const webhookId of [mine, theirs]) {
        for (const n of [0, 1]) await log().record(attemptAt(webhookId, n, new Date(Date.now() - 10_000 + n)));
      }
      const refused = [
        (await log().list('ten_1', theirs, { page: 1, perPage: 1 })).nextCursor!,
        (await log().list('ten_2', mine, { page: 1, perPage: 1 })).nextCursor!,
        'garbage',
        Buffer.from(JSON.stringify({ v: 1, of: `deliveries/ten_1/${mine}`, p: 2, k: { webhook_id: theirs, attempt_key: 'z' } })).toString('base64url'),
      ];
      for (const cursor of refused) {
        const err = await rejection(log().list('ten_1', mine, { page: 1, perPage: 1, cursor }));
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).statusCode).toBe(400);
      }
      const own = (await log().list('ten_1', mine, { page: 1, perPage: 1 })).nextCursor!;
      await expect(log().list('ten_1', mine, { page: 1, perPage: 1, cursor: own })).resolves.toMatchObject({ page: 2, hasMore: false });
    });

    it('keeps apart two attempts of the same time (delivery and attempt number tell them apart)', async () => {
      const webhookId = uid('wh');
      const at = new Date(Date.now() - 1_000);
      const [same, other] = [deliveryIdFor('ten_1', 'evt_same', webhookId, at.toISOString()), deliveryIdFor('ten_1', 'evt_other', webhookId, at.toISOString())];
      const attempts = [
        newAttempt(webhookId, 0, at, { delivery_id: same, attempt: 1 }),
        newAttempt(webhookId, 1, at, { delivery_id: same, attempt: 2 }),
        newAttempt(webhookId, 2, at, { delivery_id: other, attempt: 1 }),
      ];
      for (const a of attempts) await log().record(a);
      expect((await log().list('ten_1', webhookId, { page: 1, perPage: 10 })).items.map((a) => a.id).sort()).toEqual(attempts.map((a) => a.id).sort());
    });

    it("lists one delivery's attempts (deliveryId): all of them, newest first, by number and by cursor, its cursors bound to it", async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const at = (s: number) => new Date(base + s * SECOND);
      const id = (name: string, s: number) => deliveryIdFor('ten_1', `evt_${name}`, webhookId, at(s).toISOString());
      const [older, mine, newer] = [id('older', 0), id('mine', 1), id('newer', 2)];
      // Its neighbours in the log's order, and the same delivery id under another webhook.
      for (const [delivery, s] of [[older, 0], [newer, 2]] as const) {
        for (const n of [1, 2]) await log().record(newAttempt(webhookId, n, at(s + n), { delivery_id: delivery, attempt: n }));
      }
      await log().record(newAttempt(uid('wh'), 1, at(1), { delivery_id: mine, attempt: 1 }));
      const own = [1, 2, 3, 4, 5].map((n) => newAttempt(webhookId, n, at(1 + n * 3), { delivery_id: mine, attempt: n }));
      for (const a of own) await log().record(a);
      const newestFirst = own.map((a) => a.id).reverse();

      const whole = await log().list('ten_1', webhookId, { page: 1, perPage: 10, deliveryId: mine });
      expect(whole).toEqual({ items: [...own].reverse(), page: 1, hasMore: false });
      expect((await log().list('ten_1', webhookId, { page: 2, perPage: 2, deliveryId: mine })).items.map((a) => a.id)).toEqual(newestFirst.slice(2, 4));
      const pages = await walk((cursor) => log().list('ten_1', webhookId, { page: 1, perPage: 2, cursor, deliveryId: mine }));
      expect(pages.map((p) => p.items.map((a) => a.id))).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
      // A delivery with no attempts under this webhook: an empty page.
      await expect(log().list('ten_1', webhookId, { page: 1, perPage: 10, deliveryId: id('none', 3) })).resolves.toEqual({ items: [], page: 1, hasMore: false });
      // The full log's cursor does not page one delivery's, nor the reverse.
      const full = (await log().list('ten_1', webhookId, { page: 1, perPage: 1 })).nextCursor!;
      expect(await rejection(log().list('ten_1', webhookId, { page: 1, perPage: 2, cursor: full, deliveryId: mine }))).toBeInstanceOf(ValidationError);
      expect(await rejection(log().list('ten_1', webhookId, { page: 1, perPage: 2, cursor: pages[0]!.nextCursor! }))).toBeInstanceOf(ValidationError);
      expect(await rejection(log().list('ten_1', webhookId, { page: 1, perPage: 2, cursor: pages[0]!.nextCursor!, deliveryId: older }))).toBeInstanceOf(ValidationError);
    });

    it('failedDeliveriesSince: deliveries with a failed attempt at or after a time, each once, oldest first, at most the limit', async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const at = (s: number) => new Date(base + s * SECOND);
      const id = (name: string, s: number) => deliveryIdFor('ten_1', `evt_${name}`, webhookId, at(s).toISOString());
      const [early, b, a, ok, c, late] = [id('early', 0), id('b', 10), id('a', 20), id('ok', 40), id('c', 50), id('late', 2)];
      await log().record(newAttempt(webhookId, 1, at(0), { delivery_id: early }));
      await log().record(newAttempt(webhookId, 1, at(2), { delivery_id: late }));
      await log().record(newAttempt(webhookId, 1, at(10), { delivery_id: b }));
      await log().record(newAttempt(webhookId, 1, at(20), { delivery_id: a, attempt: 1 }));
      await log().record(newAttempt(webhookId, 1, at(30), { delivery_id: b, attempt: 2 }));
      await log().record(newAttempt(webhookId, 2, at(40), { delivery_id: ok }));
      await log().record(newAttempt(webhookId, 1, at(50), { delivery_id: c }));
      // A delivery whose event arrived before `since`, failing again on a later rung after it.
      await log().record(newAttempt(webhookId, 1, at(55), { delivery_id: late, attempt: 2 }));
      await log().record(newAttempt(uid('wh'), 1, at(45), { delivery_id: id('elsewhere', 45) }));
      await expect(log().failedDeliveriesSince(webhookId, at(5), 10)).resolves.toEqual([b, a, c, late]);
      await expect(log().failedDeliveriesSince(webhookId, at(5), 2)).resolves.toEqual([b, a]);
      await expect(log().failedDeliveriesSince(webhookId, at(56), 10)).resolves.toEqual([]);
    });

    it('failedDeliveriesSince does not count a failure past its retention', async () => {
      const webhookId = uid('wh');
      const old = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY);
      const expired = attemptAt(webhookId, 1, old);
      const live = attemptAt(webhookId, 3, new Date(Date.now() - 60_000));
      for (const a of [expired, live]) await log().record(a);
      await expect(log().failedDeliveriesSince(webhookId, new Date(old.getTime() - DAY), 1)).resolves.toEqual([live.delivery_id]);
    });

    it('an attempt past its retention is never listed, also between pages; where the store purges, the purge deletes it', async () => {
      const webhookId = uid('wh');
      const now = Date.now();
      const live = [0, 2, 4].map((n) => attemptAt(webhookId, n, new Date(now - 60_000 + n * 1_000)));
      // Recorded longer ago than the retention: expired from the start. Oldest, they would fill the last page.
      const expired = [1, 3].map((n) => attemptAt(webhookId, n, new Date(now - (RETENTION_DAYS + 1) * DAY + n)));
      for (const a of [...live, ...expired]) await log().record(a);

      const newestFirst = [live[2]!.id, live[1]!.id, live[0]!.id];
      await expect(log().list('ten_1', webhookId, { page: 1, perPage: 10 })).resolves.toMatchObject({ hasMore: false });
      expect((await log().list('ten_1', webhookId, { page: 1, perPage: 10 })).items.map((a) => a.id)).toEqual(newestFirst);
      const pages = await walk((cursor) => log().list('ten_1', webhookId, { page: 1, perPage: 2, cursor }));
      expect(pages.flatMap((p) => p.items.map((a) => a.id))).toEqual(newestFirst);
      expect(pages.at(-1)!.hasMore).toBe(false);

      const purge = backend().purgeExpired;
      if (purge) {
        expect(purge(new Date())).toBeGreaterThanOrEqual(expired.length);
        // Listed the same after the purge, and the live ones were kept.
        expect((await log().list('ten_1', webhookId, { page: 1, perPage: 10 })).items.map((a) => a.id)).toEqual(newestFirst);
        expect(purge(new Date())).toBe(0);
      }
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeAttemptLogContract(name, make);
