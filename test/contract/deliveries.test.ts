/**
 * The deliveries' ports (DeliveryClaims, OutcomeRecorder, ReopenableDeliveries), one contract run
 * on both adapter sets, written as the dispatcher writes: claim, then recordOutcome. On AWS a
 * delivery exists only once an attempt of it is recorded (the delivery log is its state), so
 * nothing here reads a delivery before its first outcome. What the one-machine store alone has
 * (delivery records made at fan-out, exclusive claims, stale takeover, the due index) is in the
 * SQLite-only contract at the end.
 */
import type { NewDelivery } from '../../shared/usecases/fan-out.ts';
import {
  ADAPTER_SETS,
  makeAttempt,
  messageOf,
  newDelivery,
  sqliteAdapters,
  attemptFor,
  summaryOf,
  uid,
  useBackend,
  type MakeAdapters,
  type SqliteAdapters,
} from './adapter-sets.ts';

const MINUTE = 60_000;
const staleBefore = (at: Date) => new Date(at.getTime() - MINUTE);
const ago = (ms: number) => new Date(Date.now() - ms);
const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

export function describeDeliveryContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`deliveries contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const adapters = () => backend().adapters;
    const store = () => adapters().deliveries;

    it('a claimed attempt is pending; get derives state, attempts, history and next_attempt_at from the recorded outcomes', async () => {
      const t0 = ago(30 * MINUTE);
      const d = newDelivery(t0);
      await adapters().deliveryRecords?.createMany([d], t0);
      await expect(store().claim(messageOf(d, 1), t0, staleBefore(t0))).resolves.toMatchObject({
        ...d,
        state: 'pending',
        attempts_started: 1,
        attempts_completed: 0,
        claimed_at: t0.toISOString(),
      });

      const next = later(t0, 10 * MINUTE);
      const first = attemptFor(d, 1, { kind: 'retry', nextAttemptAt: next }, t0);
      await expect(adapters().outcomes.recordOutcome(first, { kind: 'retry', nextAttemptAt: next }, t0, summaryOf(first))).resolves.toMatchObject({
        ...d,
        state: 'pending',
        attempts_completed: 1,
        next_attempt_at: next.toISOString(),
      });
      await expect(store().get(d)).resolves.toMatchObject({
        ...d,
        state: 'pending',
        attempts_started: 1,
        attempts_completed: 1,
        next_attempt_at: next.toISOString(),
        history: [summaryOf(first)],
        created_at: t0.toISOString(),
      });

      const second = await makeAttempt(adapters(), d, 2, { kind: 'succeeded' }, next);
      expect(second.recorded).toMatchObject({ state: 'succeeded', attempts_completed: 2 });
      const done = await store().get(d);
      expect(done).toMatchObject({ ...d, state: 'succeeded', attempts_started: 2, attempts_completed: 2, history: [summaryOf(first), second.summary] });
      expect(done).not.toHaveProperty('next_attempt_at');
      expect(done).not.toHaveProperty('follow_up');
      await expect(store().get(newDelivery(t0))).resolves.toBeUndefined();
    });

    it('claim refuses an attempt whose outcome is recorded', async () => {
      const t0 = ago(MINUTE);
      const d = newDelivery(t0);
      await makeAttempt(adapters(), d, 1, { kind: 'retry', nextAttemptAt: later(t0, MINUTE) }, t0);
      await expect(store().claim(messageOf(d, 1), t0, staleBefore(t0))).resolves.toBeUndefined();
      // Even when every claim is considered stale.
      await expect(store().claim(messageOf(d, 1), later(t0, 3_600_000), later(t0, 3_600_000))).resolves.toBeUndefined();
    });

    it('of two dispatchers that made the same attempt, only the first outcome is recorded: the second is refused and changes nothing', async () => {
      const t0 = ago(30 * MINUTE);
      const d = newDelivery(t0);
      await adapters().deliveryRecords?.createMany([d], t0);
      // The first dispatcher stalls; its message comes back and a second one claims the attempt
      // too (the one-machine store: a stale claim taken over; AWS: claims are reads).
      await expect(store().claim(messageOf(d, 1), t0, staleBefore(t0))).resolves.toBeDefined();
      const t1 = later(t0, 5 * MINUTE);
      await expect(store().claim(messageOf(d, 1), t1, staleBefore(t1))).resolves.toBeDefined();

      const next = later(t1, MINUTE);
      const first = attemptFor(d, 1, { kind: 'retry', nextAttemptAt: next }, t1);
      await expect(adapters().outcomes.recordOutcome(first, { kind: 'retry', nextAttemptAt: next }, t1, summaryOf(first))).resolves.toMatchObject({ attempts_completed: 1 });
      const second = attemptFor(d, 1, { kind: 'failed' }, t0);
      await expect(adapters().outcomes.recordOutcome(second, { kind: 'failed' }, later(t1, 1_000), summaryOf(second), 'failing')).resolves.toBeUndefined();

      const kept = await store().get(d);
      expect(kept).toMatchObject({ state: 'pending', attempts_completed: 1, next_attempt_at: next.toISOString(), history: [summaryOf(first)] });
      expect(kept).not.toHaveProperty('follow_up');
      const logged = await adapters().attempts.list(d.tenant_id, d.webhook_id, { page: 1, perPage: 10 });
      expect(logged.items).toEqual([first]);
    });

    it('an outcome carries the health step it owes; settling it is conditional on the attempt', async () => {
      const t0 = ago(MINUTE);
      const d = newDelivery(t0);
      const { recorded } = await makeAttempt(adapters(), d, 1, { kind: 'failed' }, t0, { followUp: 'failing' });
      expect(recorded).toMatchObject({ state: 'failed', attempts_completed: 1, follow_up: 'failing' });
      await expect(store().get(d)).resolves.toMatchObject({ state: 'failed', follow_up: 'failing' });
      await store().settleFollowUp(d, 2);
      expect((await store().get(d))?.follow_up).toBe('failing');
      await store().settleFollowUp(d, 1);
      const settled = await store().get(d);
      expect(settled).toMatchObject({ state: 'failed', attempts_completed: 1 });
      expect(settled).not.toHaveProperty('follow_up');
    });

    it('reopen refuses a delivery whose ladder goes on and an unknown one; it opens a finished one for one more attempt', async () => {
      const t0 = ago(5 * MINUTE);
      const d = newDelivery(t0);
      await makeAttempt(adapters(), d, 1, { kind: 'retry', nextAttemptAt: later(t0, MINUTE) }, t0);
      await expect(store().reopen(d, t0)).resolves.toBeUndefined();
      await makeAttempt(adapters(), d, 2, { kind: 'failed' }, later(t0, MINUTE));
      await expect(store().reopen(newDelivery(t0), t0)).resolves.toBeUndefined();

      const now = ago(MINUTE);
      await expect(store().reopen(d, now)).resolves.toMatchObject({ ...d, state: 'pending', attempts_started: 2, attempts_completed: 2 });
      const manual = await makeAttempt(adapters(), d, 3, { kind: 'succeeded' }, now, { trigger: 'manual' });
      expect(manual.recorded).toMatchObject({ state: 'succeeded', attempts_completed: 3 });
      await expect(store().get(d)).resolves.toMatchObject({ state: 'succeeded', attempts_started: 3, attempts_completed: 3 });
      // A succeeded delivery can be sent once more, too.
      await expect(store().reopen(d, now)).resolves.toMatchObject({ state: 'pending', attempts_completed: 3 });
    });

    it("a delivery read under another tenant's name is never that tenant's", async () => {
      const t0 = ago(MINUTE);
      const d = newDelivery(t0);
      await makeAttempt(adapters(), d, 1, { kind: 'failed' }, t0);
      const other = uid('ten');
      // (AWS finds nothing; the one-machine store reads by id, and RecoverDeliveries checks the tenant.)
      expect((await store().get({ ...d, tenant_id: other }))?.tenant_id).not.toBe(other);
      await expect(store().get(d)).resolves.toMatchObject({ tenant_id: d.tenant_id });
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeDeliveryContract(name, make);

/**
 * Only the one-machine store keeps delivery records, made at fan-out (createMany), and claims
 * attempts exclusively with a conditional update (a stale claim taken over); the reconciler reads
 * its due index. On AWS there is no delivery record before the first attempt, a claim is a read
 * of the log (two dispatchers may both claim; the conditional put of the outcome decides, see
 * test/adapters/dynamo.test.ts) and nothing is listed as due.
 */
describe('deliveries contract, one-machine store only: SQLite adapters', () => {
  const backend = useBackend<SqliteAdapters>(sqliteAdapters);
  const store = () => backend().adapters.deliveries;
  const adapters = () => backend().adapters;
  const dueIds = async (before: Date) => (await store().listDue(before, 1000)).map((d) => d.delivery_id);
  const fresh = (): NewDelivery => newDelivery(new Date());

  it('createMany creates what is new, returns only that, and never resets an existing delivery', async () => {
    const t0 = ago(10 * MINUTE);
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await expect(store().createMany([a!, b!], t0)).resolves.toEqual([a, b]);
    await expect(store().get(a!)).resolves.toMatchObject({ ...a, state: 'pending', attempts_started: 0, attempts_completed: 0, created_at: t0.toISOString() });
    await store().claim(messageOf(a!, 1), t0, staleBefore(t0));

    const t1 = ago(MINUTE);
    await expect(store().createMany([a!, b!, c!], t1)).resolves.toEqual([c]);
    await expect(store().get(a!)).resolves.toMatchObject({ attempts_started: 1, created_at: t0.toISOString() });
    await expect(store().get(c!)).resolves.toMatchObject({ ...c, state: 'pending', created_at: t1.toISOString() });
  });

  it('of two dispatchers claiming the same attempt at once, exactly one gets it', async () => {
    const d = fresh();
    const now = new Date();
    await store().createMany([d], now);
    const claims = await Promise.all([store().claim(messageOf(d, 1), now, staleBefore(now)), store().claim(messageOf(d, 1), now, staleBefore(now))]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    expect(claims.find((c) => c !== undefined)).toMatchObject({ ...d, attempts_started: 1, attempts_completed: 0, claimed_at: now.toISOString() });
  });

  it('a fresh claim is refused, a stale one taken over; attempts follow their completions; nothing is claimable after success', async () => {
    const t0 = ago(30 * MINUTE);
    const d = fresh();
    await store().createMany([d], t0);
    await expect(store().claim(messageOf(d, 1), t0, staleBefore(t0))).resolves.toMatchObject({ attempts_started: 1 });

    const t1 = later(t0, 1_000);
    await expect(store().claim(messageOf(d, 1), t1, staleBefore(t1))).resolves.toBeUndefined();
    const t2 = later(t0, 5 * MINUTE);
    await expect(store().claim(messageOf(d, 1), t2, staleBefore(t2))).resolves.toMatchObject({ attempts_started: 1, attempts_completed: 0, claimed_at: t2.toISOString() });
    await expect(store().claim(messageOf(d, 2), t2, staleBefore(t2))).resolves.toBeUndefined();

    const next = later(t2, 10 * MINUTE);
    const summary = { attempt: 1, status_code: 503, attempted_at: t2.toISOString() };
    await expect(store().complete(d, 1, { kind: 'retry', nextAttemptAt: next }, t2, summary)).resolves.toMatchObject({
      state: 'pending',
      attempts_completed: 1,
      next_attempt_at: next.toISOString(),
      history: [summary],
    });
    await expect(store().claim(messageOf(d, 3), next, staleBefore(next))).resolves.toBeUndefined();

    await expect(store().claim(messageOf(d, 2), next, staleBefore(next))).resolves.toMatchObject({ attempts_started: 2, attempts_completed: 1 });
    const second = { attempt: 2, status_code: 200, attempted_at: next.toISOString() };
    const done = await store().complete(d, 2, { kind: 'succeeded' }, next, second);
    expect(done).toMatchObject({ state: 'succeeded', attempts_started: 2, attempts_completed: 2, history: [summary, second] });
    expect(await dueIds(later(next, 3600_000))).not.toContain(d.delivery_id);
    const far = later(next, 3600_000);
    await expect(store().claim(messageOf(d, 3), far, far)).resolves.toBeUndefined();
    await expect(store().claim(messageOf(d, 2), far, far)).resolves.toBeUndefined();
    await expect(store().claim(messageOf(fresh(), 1), far, far)).resolves.toBeUndefined();
  });

  it('a completion by an overtaken claim changes nothing, and logs nothing', async () => {
    const t0 = ago(MINUTE);
    const d = fresh();
    await makeAttempt(adapters(), d, 1, { kind: 'retry', nextAttemptAt: t0 }, t0);
    await store().claim(messageOf(d, 2), t0, staleBefore(t0));
    const late = attemptFor(d, 1, { kind: 'failed' }, t0);
    await expect(adapters().outcomes.recordOutcome(late, { kind: 'failed' }, t0, summaryOf(late))).resolves.toBeUndefined();
    await expect(store().get(d)).resolves.toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 1 });
    const logged = (await adapters().attempts.list(d.tenant_id, d.webhook_id, { page: 1, perPage: 10 })).items;
    expect(logged.map((a) => a.id)).not.toContain(late.id);
    expect(logged).toHaveLength(1);
  });

  it('the due index lists pending deliveries due strictly before a time, oldest first, with what a message needs', async () => {
    const times = [ago(30 * MINUTE), ago(20 * MINUTE), ago(10 * MINUTE)];
    const [first, second, third] = [fresh(), fresh(), fresh()];
    for (const [i, d] of [first!, second!, third!].entries()) await store().createMany([d], times[i]!);
    const ref = (d: NewDelivery, i: number) => ({ delivery_id: d.delivery_id, tenant_id: d.tenant_id, webhook_id: d.webhook_id, event_id: d.event_id, due_at: times[i]!.toISOString(), attempts_completed: 0 });

    const mine = new Set([first, second, third].map((d) => d!.delivery_id));
    const due = (await store().listDue(ago(15 * MINUTE), 1000)).filter((r) => mine.has(r.delivery_id));
    // One index here (DUE_SHARDS is only the page width): oldest first across all of it.
    expect(due).toEqual([ref(first!, 0), ref(second!, 1)]);
    expect(await dueIds(times[0]!)).not.toContain(first!.delivery_id);

    // A retry is due at its rung; a failed or cancelled delivery leaves the index, with its reason kept.
    const rung = later(new Date(), 10 * MINUTE);
    await store().claim(messageOf(first!, 1), times[0]!, staleBefore(times[0]!));
    await store().complete(first!, 1, { kind: 'retry', nextAttemptAt: rung }, times[0]!);
    expect(await dueIds(later(rung, -1_000))).not.toContain(first!.delivery_id);
    const retry = (await store().listDue(later(rung, 1_000), 1000)).find((r) => r.delivery_id === first!.delivery_id);
    expect(retry).toMatchObject({ due_at: rung.toISOString(), attempts_completed: 1, next_attempt_at: rung.toISOString() });

    for (const d of [second!, third!]) await store().claim(messageOf(d, 1), times[2]!, staleBefore(times[2]!));
    await store().complete(second!, 1, { kind: 'failed' }, times[2]!);
    await expect(store().complete(third!, 1, { kind: 'cancelled', reason: 'webhook deleted' }, times[2]!)).resolves.toMatchObject({
      state: 'cancelled',
      cancel_reason: 'webhook deleted',
    });
    const after = await dueIds(later(rung, 1_000));
    expect(after).not.toContain(second!.delivery_id);
    expect(after).not.toContain(third!.delivery_id);
  });

  it('postpone moves a due delivery once (a stale due_at is refused); refreshDue reads its own state', async () => {
    const t0 = ago(5 * MINUTE);
    const d = fresh();
    await store().createMany([d], t0);
    const ref = (await store().listDue(later(t0, 1_000), 1000)).find((x) => x.delivery_id === d.delivery_id)!;
    expect(ref).toBeDefined();
    const until = later(new Date(), 2 * MINUTE);
    const postponed = await Promise.all([store().postpone(ref, until), store().postpone(ref, until)]);
    expect(postponed.filter(Boolean)).toHaveLength(1);
    expect(await dueIds(later(t0, 1_000))).not.toContain(d.delivery_id);
    expect(await dueIds(later(until, 1_000))).toContain(d.delivery_id);
    await expect(store().refreshDue(ref)).resolves.toMatchObject({ delivery_id: d.delivery_id, due_at: until.toISOString() });

    await store().claim(messageOf(d, 1), t0, staleBefore(t0));
    await store().complete(d, 1, { kind: 'succeeded' }, t0);
    await expect(store().refreshDue(ref)).resolves.toBeUndefined();
  });

  it('reopen writes the delivery pending and due now, once: a cancelled one too, without its reason', async () => {
    const t0 = ago(5 * MINUTE);
    const d = fresh();
    await store().createMany([d], t0);
    await expect(store().reopen(d, t0)).resolves.toBeUndefined();
    await store().claim(messageOf(d, 1), t0, staleBefore(t0));
    await store().complete(d, 1, { kind: 'cancelled', reason: 'webhook disabled' }, t0);

    const now = ago(MINUTE);
    const reopened = await store().reopen(d, now);
    expect(reopened).toMatchObject({ state: 'pending', attempts_started: 1, attempts_completed: 1, updated_at: now.toISOString() });
    expect(reopened).not.toHaveProperty('cancel_reason');
    expect(await dueIds(later(now, 1_000))).toContain(d.delivery_id);
    await expect(store().reopen(d, now)).resolves.toBeUndefined();
    await expect(store().claim(messageOf(d, 2), now, staleBefore(now))).resolves.toMatchObject({ attempts_started: 2 });
  });
});
