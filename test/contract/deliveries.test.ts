/**
 * The deliveries' ports (DeliveryCreator, DeliveryClaims, DueDeliveries, ReopenableDeliveries),
 * one contract run on both adapter sets: creation is idempotent, an attempt is claimed by one
 * dispatcher only (a stale claim is taken over), completions are conditional on the claim, and
 * the due index lists what is pending before a time.
 */
import { dueShard } from '../../shared/domain/ids.ts';
import { DUE_SHARDS } from '../../shared/adapters/aws/tables.ts';
import type { NewDelivery } from '../../shared/usecases/fan-out.ts';
import { ADAPTER_SETS, uid, useBackend, type MakeAdapters } from './adapter-sets.ts';

const MINUTE = 60_000;
const staleBefore = (at: Date) => new Date(at.getTime() - MINUTE);
const ago = (ms: number) => new Date(Date.now() - ms);
const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

const newDelivery = (deliveryId = uid('dlv')): NewDelivery => ({
  delivery_id: deliveryId,
  tenant_id: uid('ten'),
  webhook_id: uid('wh'),
  event_id: uid('evt'),
  event_type: 'scan.completed',
});

/** Delivery ids that fall in one shard of DynamoDB's due index, whose order a Query keeps. */
function idsInOneShard(count: number): string[] {
  const shard = dueShard(uid('dlv'), DUE_SHARDS);
  const ids: string[] = [];
  while (ids.length < count) {
    const id = uid('dlv');
    if (dueShard(id, DUE_SHARDS) === shard) ids.push(id);
  }
  return ids;
}

export function describeDeliveryContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`deliveries contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const store = () => backend().adapters.deliveries;
    const dueIds = async (before: Date) => (await store().listDue(before, 1000)).map((d) => d.delivery_id);

    it('createMany creates what is new, returns only that, and never resets an existing delivery', async () => {
      const t0 = ago(10 * MINUTE);
      const [a, b, c] = [newDelivery(), newDelivery(), newDelivery()];
      await expect(store().createMany([a!, b!], t0)).resolves.toEqual([a, b]);
      await expect(store().get(a!.delivery_id)).resolves.toMatchObject({ ...a, state: 'pending', attempts_started: 0, attempts_completed: 0, created_at: t0.toISOString() });
      await store().claim(a!.delivery_id, 1, t0, staleBefore(t0));

      const t1 = ago(MINUTE);
      await expect(store().createMany([a!, b!, c!], t1)).resolves.toEqual([c]);
      await expect(store().get(a!.delivery_id)).resolves.toMatchObject({ attempts_started: 1, created_at: t0.toISOString() });
      await expect(store().get(c!.delivery_id)).resolves.toMatchObject({ ...c, state: 'pending', created_at: t1.toISOString() });
      await expect(store().get(uid('dlv'))).resolves.toBeUndefined();
    });

    it('of two dispatchers claiming the same attempt at once, exactly one gets it', async () => {
      const d = newDelivery();
      const now = new Date();
      await store().createMany([d], now);
      const claims = await Promise.all([store().claim(d.delivery_id, 1, now, staleBefore(now)), store().claim(d.delivery_id, 1, now, staleBefore(now))]);
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      expect(claims.find((c) => c !== undefined)).toMatchObject({ ...d, attempts_started: 1, attempts_completed: 0, claimed_at: now.toISOString() });
    });

    it('a fresh claim is refused, a stale one taken over; attempts follow their completions; nothing is claimable after success', async () => {
      const t0 = ago(30 * MINUTE);
      const d = newDelivery();
      await store().createMany([d], t0);
      await expect(store().claim(d.delivery_id, 1, t0, staleBefore(t0))).resolves.toMatchObject({ attempts_started: 1 });

      const t1 = later(t0, 1_000);
      await expect(store().claim(d.delivery_id, 1, t1, staleBefore(t1))).resolves.toBeUndefined();
      const t2 = later(t0, 5 * MINUTE);
      await expect(store().claim(d.delivery_id, 1, t2, staleBefore(t2))).resolves.toMatchObject({ attempts_started: 1, attempts_completed: 0, claimed_at: t2.toISOString() });
      await expect(store().claim(d.delivery_id, 2, t2, staleBefore(t2))).resolves.toBeUndefined();

      const next = later(t2, 10 * MINUTE);
      const summary = { attempt: 1, status_code: 503, attempted_at: t2.toISOString() };
      await expect(store().complete(d.delivery_id, 1, { kind: 'retry', nextAttemptAt: next }, t2, summary)).resolves.toMatchObject({
        state: 'pending',
        attempts_completed: 1,
        next_attempt_at: next.toISOString(),
        history: [summary],
      });
      await expect(store().claim(d.delivery_id, 3, next, staleBefore(next))).resolves.toBeUndefined();
      await expect(store().claim(d.delivery_id, 1, next, later(next, 3600_000))).resolves.toBeUndefined();

      await expect(store().claim(d.delivery_id, 2, next, staleBefore(next))).resolves.toMatchObject({ attempts_started: 2, attempts_completed: 1 });
      const second = { attempt: 2, status_code: 200, attempted_at: next.toISOString() };
      const done = await store().complete(d.delivery_id, 2, { kind: 'succeeded' }, next, second);
      expect(done).toMatchObject({ state: 'succeeded', attempts_started: 2, attempts_completed: 2, history: [summary, second] });
      expect(done).not.toHaveProperty('next_attempt_at');
      expect(await dueIds(later(next, 3600_000))).not.toContain(d.delivery_id);
      const far = later(next, 3600_000);
      await expect(store().claim(d.delivery_id, 3, far, far)).resolves.toBeUndefined();
      await expect(store().claim(d.delivery_id, 2, far, far)).resolves.toBeUndefined();
    });

    it('a completion by an overtaken claim changes nothing', async () => {
      const t0 = ago(MINUTE);
      const d = newDelivery();
      await store().createMany([d], t0);
      await store().claim(d.delivery_id, 1, t0, staleBefore(t0));
      await store().complete(d.delivery_id, 1, { kind: 'retry', nextAttemptAt: t0 }, t0);
      await store().claim(d.delivery_id, 2, t0, staleBefore(t0));
      await expect(store().complete(d.delivery_id, 1, { kind: 'failed' }, t0)).resolves.toBeUndefined();
      await expect(store().get(d.delivery_id)).resolves.toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 1 });
      await expect(store().claim(uid('dlv'), 1, t0, t0)).resolves.toBeUndefined();
    });

    it('a completion carries the health step it owes; settling it is conditional on the attempt', async () => {
      const t0 = ago(MINUTE);
      const d = newDelivery();
      await store().createMany([d], t0);
      await store().claim(d.delivery_id, 1, t0, staleBefore(t0));
      await expect(store().complete(d.delivery_id, 1, { kind: 'failed' }, t0, undefined, 'failing')).resolves.toMatchObject({ state: 'failed', follow_up: 'failing' });
      await store().settleFollowUp(d.delivery_id, 2);
      expect((await store().get(d.delivery_id))?.follow_up).toBe('failing');
      await store().settleFollowUp(d.delivery_id, 1);
      expect((await store().get(d.delivery_id))?.follow_up).toBeUndefined();
    });

    it('the due index lists pending deliveries due strictly before a time, oldest first, with what a message needs', async () => {
      const [first, second, third] = idsInOneShard(3).map(newDelivery);
      const times = [ago(30 * MINUTE), ago(20 * MINUTE), ago(10 * MINUTE)];
      for (const [i, d] of [first!, second!, third!].entries()) await store().createMany([d], times[i]!);

      const due = (await store().listDue(ago(15 * MINUTE), 1000)).filter((ref) => [first, second, third].some((d) => d!.delivery_id === ref.delivery_id));
      expect(due).toEqual([
        { delivery_id: first!.delivery_id, tenant_id: first!.tenant_id, webhook_id: first!.webhook_id, event_id: first!.event_id, due_at: times[0]!.toISOString(), attempts_completed: 0 },
        { delivery_id: second!.delivery_id, tenant_id: second!.tenant_id, webhook_id: second!.webhook_id, event_id: second!.event_id, due_at: times[1]!.toISOString(), attempts_completed: 0 },
      ]);
      expect(await dueIds(times[0]!)).not.toContain(first!.delivery_id);

      // A retry is due at its rung; a failed or cancelled delivery leaves the index, with its reason kept.
      const rung = later(new Date(), 10 * MINUTE);
      await store().claim(first!.delivery_id, 1, times[0]!, staleBefore(times[0]!));
      await store().complete(first!.delivery_id, 1, { kind: 'retry', nextAttemptAt: rung }, times[0]!);
      expect(await dueIds(later(rung, -1_000))).not.toContain(first!.delivery_id);
      const retry = (await store().listDue(later(rung, 1_000), 1000)).find((ref) => ref.delivery_id === first!.delivery_id);
      expect(retry).toMatchObject({ due_at: rung.toISOString(), attempts_completed: 1, next_attempt_at: rung.toISOString() });

      for (const d of [second!, third!]) await store().claim(d.delivery_id, 1, times[2]!, staleBefore(times[2]!));
      await store().complete(second!.delivery_id, 1, { kind: 'failed' }, times[2]!);
      await expect(store().complete(third!.delivery_id, 1, { kind: 'cancelled', reason: 'webhook deleted' }, times[2]!)).resolves.toMatchObject({
        state: 'cancelled',
        cancel_reason: 'webhook deleted',
      });
      const after = await dueIds(later(rung, 1_000));
      expect(after).not.toContain(second!.delivery_id);
      expect(after).not.toContain(third!.delivery_id);
    });

    it('postpone moves a due delivery once (a stale due_at is refused); refreshDue reads its own state', async () => {
      const t0 = ago(5 * MINUTE);
      const d = newDelivery();
      await store().createMany([d], t0);
      const ref = (await store().listDue(later(t0, 1_000), 1000)).find((x) => x.delivery_id === d.delivery_id)!;
      expect(ref).toBeDefined();
      const until = later(new Date(), 2 * MINUTE);
      const postponed = await Promise.all([store().postpone(ref, until), store().postpone(ref, until)]);
      expect(postponed.filter(Boolean)).toHaveLength(1);
      expect(await dueIds(later(t0, 1_000))).not.toContain(d.delivery_id);
      expect(await dueIds(later(until, 1_000))).toContain(d.delivery_id);
      await expect(store().refreshDue(ref)).resolves.toMatchObject({ delivery_id: d.delivery_id, due_at: until.toISOString() });

      await store().claim(d.delivery_id, 1, t0, staleBefore(t0));
      await store().complete(d.delivery_id, 1, { kind: 'succeeded' }, t0);
      await expect(store().refreshDue(ref)).resolves.toBeUndefined();
    });

    it('reopen opens a finished delivery for one more attempt, due now; never a pending or unknown one', async () => {
      const t0 = ago(5 * MINUTE);
      const d = newDelivery();
      await store().createMany([d], t0);
      await expect(store().reopen(d.delivery_id, t0)).resolves.toBeUndefined();
      await store().claim(d.delivery_id, 1, t0, staleBefore(t0));
      await store().complete(d.delivery_id, 1, { kind: 'cancelled', reason: 'webhook disabled' }, t0);

      const now = ago(MINUTE);
      const reopened = await store().reopen(d.delivery_id, now);
      expect(reopened).toMatchObject({ state: 'pending', attempts_started: 1, attempts_completed: 1, updated_at: now.toISOString() });
      expect(reopened).not.toHaveProperty('cancel_reason');
      expect(await dueIds(later(now, 1_000))).toContain(d.delivery_id);
      await expect(store().reopen(d.delivery_id, now)).resolves.toBeUndefined();
      await expect(store().claim(d.delivery_id, 2, now, staleBefore(now))).resolves.toMatchObject({ attempts_started: 2 });
      await expect(store().reopen(uid('dlv'), now)).resolves.toBeUndefined();
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeDeliveryContract(name, make);
