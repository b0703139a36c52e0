/**
 * DispatchDelivery and its claims: an attempt made once across redelivered and concurrent
 * copies of a message, one ladder per delivery, and the rung a redelivered message re-queues.
 */
import type { Attempt } from '../../../shared/domain/deliveries.ts';
import type { OutcomeRecorder } from '../../../shared/usecases/dispatch.ts';
import { delivery, event, T0, TENANT, webhook } from './fakes.ts';
import { FirstRecordWins, line, message, ok, plus, ScriptedHttp, setup, settings } from './dispatch-harness.ts';

describe('DispatchDelivery: claims', () => {
  it('an attempt claimed (recently) by another dispatcher is skipped: nothing sent or recorded', async () => {
    const h = setup(new ScriptedHttp(ok()), {
      delivery: delivery({ attempts_started: 1, attempts_completed: 0, claimed_at: new Date(T0.getTime() - 1000).toISOString() }),
    });
    const result = await h.dispatch.execute(message());
    expect(result.kind).toBe('skipped');
    expect(h.http.requests).toHaveLength(0);
    expect(h.attempts).toHaveLength(0);
    expect(h.health.total).toBe(0);
    expect(h.scheduled).toHaveLength(0);
    expect(h.store.calls.filter((c) => c.startsWith('complete'))).toHaveLength(0);
  });

  it('an attempt already completed (a redelivered message) is skipped; the delivery gone further, nothing is queued', async () => {
    const h = setup(new ScriptedHttp(ok()), { delivery: delivery({ attempts_started: 2, attempts_completed: 2, next_attempt_at: plus(30_000).toISOString() }) });
    expect(await h.dispatch.execute(message({ attempt: 1 }))).toEqual({ kind: 'skipped', reason: 'attempt already made or delivery finished' });
    expect(h.http.requests).toHaveLength(0);
    expect(h.scheduled).toHaveLength(0);
  });

  it('a finished delivery is skipped', async () => {
    for (const state of ['succeeded', 'failed', 'cancelled'] as const) {
      const h = setup(new ScriptedHttp(ok()), { delivery: delivery({ state }) });
      expect((await h.dispatch.execute(message())).kind).toBe('skipped');
      expect(h.http.requests).toHaveLength(0);
    }
  });

  it('a delivery that does not exist is skipped', async () => {
    const h = setup(new ScriptedHttp(ok()));
    expect((await h.dispatch.execute(message({ delivery_id: 'dlv_0000000000000000000UNKNOWN' }))).kind).toBe('skipped');
    expect(h.http.requests).toHaveLength(0);
  });

  it('an attempt out of order (attempt 3 while attempt 1 is the next) is skipped', async () => {
    const h = setup(new ScriptedHttp(ok()));
    expect((await h.dispatch.execute(message({ attempt: 3 }))).kind).toBe('skipped');
    expect(h.http.requests).toHaveLength(0);
  });

  it('a claim older than the request timeout plus a minute is stale: the attempt is made again', async () => {
    const staleClaim = new Date(T0.getTime() - settings.requestTimeoutMs - 60_000 - 1).toISOString();
    const h = setup(new ScriptedHttp(ok()), { delivery: delivery({ attempts_started: 1, claimed_at: staleClaim }) });
    expect((await h.dispatch.execute(message())).kind).toBe('succeeded');
    expect(h.http.requests).toHaveLength(1);
  });

  it('claims made before claimsStaleBefore are stale whatever their age', async () => {
    const h = setup(new ScriptedHttp(ok()), {
      delivery: delivery({ attempts_started: 1, claimed_at: new Date(T0.getTime() - 5_000).toISOString() }),
      settings: { claimsStaleBefore: new Date(T0.getTime() - 1_000) },
    });
    expect((await h.dispatch.execute(message())).kind).toBe('succeeded');
  });

  it('hands the claim what the queue says of the message (a first receive cannot have been attempted before)', async () => {
    const h = setup(new ScriptedHttp(ok()));
    const seen: unknown[] = [];
    const claim = h.store.claim.bind(h.store);
    h.store.claim = async (m, now, staleBefore, received) => {
      seen.push(received);
      return claim(m, now, staleBefore);
    };
    await h.dispatch.execute(message(), { sentAt: plus(-1000), receiveCount: 2 });
    expect(seen).toEqual([{ sentAt: plus(-1000), receiveCount: 2 }]);
  });

  it('two concurrent copies of one message make one attempt', async () => {
    const h = setup(new ScriptedHttp(ok(), ok()));
    const results = await Promise.all([h.dispatch.execute(message()), h.dispatch.execute(message())]);
    expect(results.map((r) => r.kind).sort()).toEqual(['skipped', 'succeeded']);
    expect(h.http.requests).toHaveLength(1);
    expect(h.attempts).toHaveLength(1);
  });
});

describe('DispatchDelivery: one ladder per delivery when its outcome is recorded by another dispatcher', () => {
  const overtaken = { kind: 'skipped', reason: 'attempt recorded by another dispatcher' };

  it.each([
    ['a success', ok(200), webhook({ status: 'failing' }), [0, 30]],
    ['a failure with rungs left', ok(500), webhook(), [0, 30]],
    ['a failure on the last rung', ok(500), webhook(), [0]],
    ['a 410 Gone', ok(410), webhook(), [0, 30]],
  ] as const)('%s whose outcome was recorded first by another dispatcher schedules nothing and owes no health step', async (_name, answer, hook, ladder) => {
    const recorded: Attempt[] = [];
    const outcomes: OutcomeRecorder = {
      recordOutcome: async (attempt) => {
        recorded.push(attempt);
        return undefined;
      },
    };
    const h = setup(new ScriptedHttp(answer), { webhook: hook, outcomes, settings: { retryDelaysSeconds: [...ladder] } });
    expect(await h.dispatch.execute(message())).toEqual(overtaken);
    // The attempt was made and offered to the log, and that is all.
    expect(h.http.requests).toHaveLength(1);
    expect(recorded.map((a) => a.attempt)).toEqual([1]);
    expect(h.scheduled).toHaveLength(0);
    expect(h.health.total).toBe(0);
    expect(h.store.calls.filter((c) => c.startsWith('settle'))).toEqual([]);
  });

  it('two copies of one message on a store whose claims are not exclusive may both send, but only one goes on with the ladder', async () => {
    const log = new FirstRecordWins();
    const h = setup(new ScriptedHttp(ok(500), ok(500)), { outcomes: log });
    // Each claim only reads that the attempt is not logged yet.
    h.store.claim = async (m) => delivery({ attempts_started: m.attempt, attempts_completed: m.attempt - 1 });
    const results = await Promise.all([h.dispatch.execute(message()), h.dispatch.execute(message())]);
    expect(results.map((r) => r.kind).sort()).toEqual(['retrying', 'skipped']);
    expect(results).toContainEqual(overtaken);
    expect(h.http.requests).toHaveLength(2);
    expect([...log.entries.keys()]).toEqual(['dlv_00000000000000000000000001#1']);
    expect(h.scheduled.map((s) => s.message.attempt)).toEqual([2]);
  });
});

describe('DispatchDelivery: a redelivered message whose next rung may not be queued', () => {
  const first = line(1, 500, T0, 'receiver answered HTTP 500');
  // Attempt 1 is logged as a retry: pending, one attempt completed, the next one planned.
  const retried = delivery({ attempts_started: 1, attempts_completed: 1, next_attempt_at: plus(30_000).toISOString(), history: [first] });

  it('re-queues exactly the next rung, with the event and the history, and sends nothing', async () => {
    const e = event();
    const h = setup(new ScriptedHttp(), { delivery: retried });
    const redelivered = message({ event: e, due_at: T0.toISOString() });
    expect(await h.dispatch.execute(redelivered)).toEqual({ kind: 'skipped', reason: 'attempt already made; its next rung is queued again' });
    expect(h.http.requests).toHaveLength(0);
    expect(h.scheduled).toEqual([
      {
        message: {
          delivery_id: 'dlv_00000000000000000000000001',
          tenant_id: TENANT,
          webhook_id: 'wh_00000000000000000000000001',
          event_id: 'evt_1',
          attempt: 2,
          trigger: 'scheduled',
          due_at: plus(30_000).toISOString(),
          event: e,
          history: [first],
          // Its first copy may have gone out: the next dispatcher checks the log.
          recheck: true,
        },
        at: plus(30_000),
      },
    ]);
    // Nothing was written to the delivery.
    expect(h.store.calls.filter((c) => !c.startsWith('claim'))).toEqual([]);
    expect(h.store.peek('dlv_00000000000000000000000001')).toMatchObject({ attempts_started: 1, attempts_completed: 1, state: 'pending' });
  });

  it('the re-queued rung is then attempted like any other (and a second copy of it finds its attempt made)', async () => {
    const h = setup(new ScriptedHttp(ok(200)), { delivery: retried });
    await h.dispatch.execute(message({ event: event() }));
    const next = h.scheduled.shift()!;
    h.clock.set(next.at);
    expect(await h.dispatch.execute(next.message)).toEqual({ kind: 'succeeded', statusCode: 200 });
    expect(await h.dispatch.execute(next.message)).toEqual({ kind: 'skipped', reason: 'attempt already made or delivery finished' });
    expect(h.http.requests).toHaveLength(1);
    expect(h.scheduled).toHaveLength(0);
  });

  it('a manual attempt is one try: a redelivered one re-queues nothing', async () => {
    const h = setup(new ScriptedHttp(), { delivery: retried });
    expect((await h.dispatch.execute(message({ trigger: 'manual' }))).kind).toBe('skipped');
    expect(h.scheduled).toHaveLength(0);
  });

  it('a finished delivery re-queues nothing', async () => {
    const h = setup(new ScriptedHttp(), { delivery: delivery({ ...retried, state: 'failed' }) });
    expect((await h.dispatch.execute(message())).kind).toBe('skipped');
    expect(h.scheduled).toHaveLength(0);
  });
});
