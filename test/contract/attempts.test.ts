/**
 * The delivery log's ports (AttemptLog, AttemptRecorder, FailedAttempts), one contract run on
 * both adapter sets: newest first, pages by number and by cursor, cursors bound to their list,
 * and retention. DynamoDB deletes expired items late (dynalite never): both sets must hide them
 * from the moment they expire; the SQLite store also deletes them itself (purgeExpired).
 */
import { ValidationError } from '../../shared/errors.ts';
import type { ListPage } from '../../shared/usecases/manage-webhooks.ts';
import { newAttempt } from '../support/records.ts';
import { rejection } from '../support/rejection.ts';
import { ADAPTER_SETS, RETENTION_DAYS, uid, useBackend, type MakeAdapters } from './adapter-sets.ts';

const DAY = 86_400_000;


/** Every page of a list, following nextCursor from the first page. */
async function walk<T>(list: (cursor: string | undefined) => Promise<ListPage<T>>): Promise<ListPage<T>[]> {
  const pages = [await list(undefined)];
  while (pages.at(-1)!.nextCursor !== undefined) {
    if (pages.length > 50) throw new Error('the cursor walk does not end');
    pages.push(await list(pages.at(-1)!.nextCursor));
  }
  return pages;
}

export function describeAttemptLogContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`delivery log contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const log = () => backend().adapters.attempts;

    it('lists a webhook’s attempts newest first, exactly as recorded, by page number', async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const attempts = [0, 1, 2].map((n) => newAttempt(webhookId, n, new Date(base + n * 1_000)));
      for (const a of [attempts[1]!, attempts[2]!, attempts[0]!]) await log().record(a);
      await log().record(newAttempt(uid('wh'), 9, new Date(base + 5_000)));

      const all = await log().list('ten_1', webhookId, { page: 1, perPage: 10 });
      expect(all).toEqual({ items: [attempts[2], attempts[1], attempts[0]], page: 1, hasMore: false });
      const p1 = await log().list('ten_1', webhookId, { page: 1, perPage: 2 });
      expect(p1.items).toEqual([attempts[2], attempts[1]]);
      expect(p1.hasMore).toBe(true);
      expect(p1.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const p2 = await log().list('ten_1', webhookId, { page: 2, perPage: 2 });
      expect(p2).toEqual({ items: [attempts[0]], page: 2, hasMore: false });
      await expect(log().list('ten_1', webhookId, { page: 3, perPage: 2 })).resolves.toEqual({ items: [], page: 3, hasMore: false });
    });

    it('walks the log with cursors: each attempt once, numbered pages, no cursor after the last; the same cursor by number', async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const live = Array.from({ length: 7 }, (_, n) => newAttempt(webhookId, n, new Date(base + n * 1_000)));
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
        for (const n of [0, 1]) await log().record(newAttempt(webhookId, n, new Date(Date.now() - 10_000 + n)));
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
      const same = [
        newAttempt(webhookId, 0, at, { delivery_id: 'dlv_same', attempt: 1 }),
        newAttempt(webhookId, 1, at, { delivery_id: 'dlv_same', attempt: 2 }),
        newAttempt(webhookId, 2, at, { delivery_id: 'dlv_other', attempt: 1 }),
      ];
      for (const a of same) await log().record(a);
      expect((await log().list('ten_1', webhookId, { page: 1, perPage: 10 })).items.map((a) => a.id).sort()).toEqual(same.map((a) => a.id).sort());
    });

    it('failedDeliveriesSince: deliveries with a failed attempt at or after a time, each once, oldest first, at most the limit', async () => {
      const webhookId = uid('wh');
      const base = Date.now() - 60_000;
      const at = (s: number) => new Date(base + s * 1_000);
      await log().record(newAttempt(webhookId, 1, at(0), { delivery_id: 'dlv_early' }));
      await log().record(newAttempt(webhookId, 1, at(10), { delivery_id: 'dlv_b' }));
      await log().record(newAttempt(webhookId, 1, at(20), { delivery_id: 'dlv_a', attempt: 1 }));
      await log().record(newAttempt(webhookId, 1, at(30), { delivery_id: 'dlv_b', attempt: 2 }));
      await log().record(newAttempt(webhookId, 2, at(40), { delivery_id: 'dlv_ok' }));
      await log().record(newAttempt(webhookId, 1, at(50), { delivery_id: 'dlv_c' }));
      await expect(log().failedDeliveriesSince(webhookId, at(5), 10)).resolves.toEqual(['dlv_b', 'dlv_a', 'dlv_c']);
      await expect(log().failedDeliveriesSince(webhookId, at(5), 2)).resolves.toEqual(['dlv_b', 'dlv_a']);
    });

    it('an attempt past its retention is never listed, also between pages; where the store purges, the purge deletes it', async () => {
      const webhookId = uid('wh');
      const now = Date.now();
      const live = [0, 2, 4].map((n) => newAttempt(webhookId, n, new Date(now - 60_000 + n * 1_000)));
      // Recorded longer ago than the retention: expired from the start. Oldest, they would fill the last page.
      const expired = [1, 3].map((n) => newAttempt(webhookId, n, new Date(now - (RETENTION_DAYS + 1) * DAY)));
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
