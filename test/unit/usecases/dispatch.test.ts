/**
 * DispatchDelivery, how an attempt ends: success, the retry ladder, what the receiver says
 * (410, Retry-After) and manual attempts. The harness is dispatch-harness.ts.
 */
import type { WebhookReader } from '../../../shared/usecases/dispatch.ts';
import { delivery, T0, TENANT, webhook } from './fakes.ts';
import { line, message, ok, plus, refused, rung, ScriptedHttp, setup } from './dispatch-harness.ts';

describe('DispatchDelivery: success', () => {
  it('records a successful attempt, marks the delivery succeeded and tells health (the webhook was failing)', async () => {
    const h = setup(new ScriptedHttp(ok(204)), { webhook: webhook({ status: 'failing' }) });
    const result = await h.dispatch.execute(message());

    expect(result).toEqual({ kind: 'succeeded', statusCode: 204 });
    expect(h.http.requests).toHaveLength(1);
    expect(h.attempts).toHaveLength(1);
    const a = h.attempts[0]!;
    expect(a).toMatchObject({
      tenant_id: TENANT,
      webhook_id: 'wh_00000000000000000000000001',
      delivery_id: 'dlv_00000000000000000000000001',
      event_id: 'evt_1',
      event: 'scan.completed',
      attempt: 1,
      trigger: 'scheduled',
      success: true,
      status_code: 204,
      response_time_ms: 42,
      attempted_at: T0.toISOString(),
    });
    expect(a.id).toMatch(/^att_/);
    expect(a.error).toBeUndefined();
    expect(a.next_attempt_at).toBeUndefined();

    const d = h.store.peek('dlv_00000000000000000000000001')!;
    expect(d.state).toBe('succeeded');
    expect(d.attempts_started).toBe(1);
    expect(d.attempts_completed).toBe(1);
    expect(d.history).toEqual([{ attempt: 1, status_code: 204, attempted_at: T0.toISOString() }]);

    expect(h.health.succeededCalls).toHaveLength(1);
    expect(h.health.succeededCalls[0]!.id).toBe('wh_00000000000000000000000001');
    expect(h.health.exhaustedCalls).toHaveLength(0);
    expect(h.health.goneCalls).toHaveLength(0);
    expect(h.scheduled).toHaveLength(0);
  });

  it('treats every 2xx as success and 3xx as a failure (redirects are not followed)', async () => {
    const h = setup(new ScriptedHttp(ok(302, { location: 'https://elsewhere.example/' })));
    const result = await h.dispatch.execute(message());
    expect(result.kind).toBe('retrying');
    expect(h.attempts[0]!.success).toBe(false);
    expect(h.attempts[0]!.status_code).toBe(302);
    expect(h.attempts[0]!.error).toMatch(/redirect/);
    expect(h.health.succeededCalls).toHaveLength(0);
  });
});

describe('DispatchDelivery: the retry ladder', () => {
  it('a 500 on attempt 1 of [0, 30, 120] schedules attempt 2 at now + 30 s', async () => {
    const h = setup(new ScriptedHttp(ok(500)));
    const result = await h.dispatch.execute(message());

    const next = plus(30_000);
    expect(result).toEqual({ kind: 'retrying', nextAttemptAt: next, error: expect.stringContaining('500') });
    expect(h.scheduled).toEqual([{ message: rung(message(), next, [line(1, 500, T0, 'receiver answered HTTP 500')]), at: next }]);
    expect(h.attempts).toHaveLength(1);
    expect(h.attempts[0]).toMatchObject({ attempt: 1, success: false, status_code: 500, next_attempt_at: next.toISOString() });
    expect(h.attempts[0]!.error).toContain('500');

    const d = h.store.peek('dlv_00000000000000000000000001')!;
    expect(d.state).toBe('pending');
    expect(d.attempts_completed).toBe(1);
    expect(d.next_attempt_at).toBe(next.toISOString());
    expect(h.health.total).toBe(0);
  });

  it('a connection error is a failed attempt with no status code, retried on the ladder', async () => {
    const h = setup(new ScriptedHttp(refused()));
    const result = await h.dispatch.execute(message());
    expect(result.kind).toBe('retrying');
    expect(h.attempts[0]).toMatchObject({ success: false, status_code: null, error: 'connection refused', response_time_ms: 3 });
    expect(h.scheduled[0]!.at).toEqual(plus(30_000));
  });

  it('the second rung waits 120 s', async () => {
    const h = setup(new ScriptedHttp(ok(500)), { delivery: delivery({ attempts_started: 1, attempts_completed: 1 }) });
    await h.dispatch.execute(message({ attempt: 2 }));
    expect(h.scheduled).toEqual([{ message: rung(message({ attempt: 2 }), plus(120_000), [line(2, 500, T0, 'receiver answered HTTP 500')]), at: plus(120_000) }]);
  });

  it('walks the whole ladder; the last failure fails the delivery and calls exhausted once with the history', async () => {
    const h = setup(new ScriptedHttp(ok(500), refused(), ok(503)));

    expect((await h.dispatch.execute(message())).kind).toBe('retrying');
    const second = h.scheduled.shift()!;
    h.clock.set(second.at);
    expect((await h.dispatch.execute(second.message)).kind).toBe('retrying');
    const third = h.scheduled.shift()!;
    expect(third.at).toEqual(plus(30_000 + 120_000));
    h.clock.set(third.at);
    const last = await h.dispatch.execute(third.message);

    expect(last.kind).toBe('failed');
    expect(h.scheduled).toHaveLength(0);
    expect(h.attempts.map((a) => [a.attempt, a.status_code, a.next_attempt_at !== undefined])).toEqual([
      [1, 500, true],
      [2, null, true],
      [3, 503, false],
    ]);
    const d = h.store.peek('dlv_00000000000000000000000001')!;
    expect(d.state).toBe('failed');
    expect(d.attempts_completed).toBe(3);
    expect(d.next_attempt_at).toBeUndefined();

    expect(h.health.exhaustedCalls).toHaveLength(1);
    const call = h.health.exhaustedCalls[0]!;
    expect(call.webhook.id).toBe('wh_00000000000000000000000001');
    expect(call.event.id).toBe('evt_1');
    expect(call.attempts.map((a) => [a.attempt, a.status_code, a.attempted_at])).toEqual([
      [1, 500, T0.toISOString()],
      [2, null, plus(30_000).toISOString()],
      [3, 503, plus(150_000).toISOString()],
    ]);
    expect(call.attempts[1]!.error).toBe('connection refused');
    expect(h.health.goneCalls).toHaveLength(0);
    expect(h.health.succeededCalls).toHaveLength(0);

    // The queue redelivers the last message: the attempt is not made again, no second email.
    const again = await h.dispatch.execute(third.message);
    expect(again.kind).toBe('skipped');
    expect(h.http.requests).toHaveLength(3);
    // Each POST names the attempt it makes, as its log entry's key (a journaling sender's replay key).
    const deliveryId = third.message.delivery_id;
    expect(h.http.requests.map((r) => r.attemptKey)).toEqual([`${deliveryId}#001`, `${deliveryId}#002`, `${deliveryId}#003`]);
    expect(h.health.exhaustedCalls).toHaveLength(1);
  });

  it('a one-rung ladder fails on its first failure', async () => {
    const h = setup(new ScriptedHttp(ok(500)), { settings: { retryDelaysSeconds: [0] } });
    expect((await h.dispatch.execute(message())).kind).toBe('failed');
    expect(h.scheduled).toHaveLength(0);
    expect(h.health.exhaustedCalls).toHaveLength(1);
  });

  it('a last failure owes no health step when the webhook, read a moment stale as healthy, is failing already', async () => {
    // A container's cache says healthy; the table says failing: asked again, consistently.
    const reads: boolean[] = [];
    const webhooks: WebhookReader = {
      get: async (_t, _id, consistent) => {
        reads.push(consistent === true);
        return webhook({ status: consistent ? 'failing' : 'healthy' });
      },
    };
    const h = setup(new ScriptedHttp(ok(500)), { settings: { retryDelaysSeconds: [0] }, webhooks });
    expect((await h.dispatch.execute(message())).kind).toBe('failed');
    expect(reads).toEqual([false, true]);
    expect(h.health.exhaustedCalls).toHaveLength(0);
    expect(h.store.peek('dlv_00000000000000000000000001')!.follow_up).toBeUndefined();
  });

  it('a success after failures reports success to health, not exhausted', async () => {
    const h = setup(new ScriptedHttp(ok(500), ok(200)), { webhook: webhook({ status: 'failing' }) });
    await h.dispatch.execute(message());
    const next = h.scheduled.shift()!;
    h.clock.set(next.at);
    expect(await h.dispatch.execute(next.message)).toEqual({ kind: 'succeeded', statusCode: 200 });
    expect(h.store.peek('dlv_00000000000000000000000001')!.state).toBe('succeeded');
    expect(h.store.peek('dlv_00000000000000000000000001')!.history).toHaveLength(2);
    expect(h.health.succeededCalls).toHaveLength(1);
    expect(h.health.exhaustedCalls).toHaveLength(0);
  });

  it('a miss or an inactive webhook from a lagging replica is read again, consistently, before it cancels', async () => {
    const fresh = webhook();
    const reads: boolean[] = [];
    // The replica has not seen the webhook yet; the table has.
    const lagging: WebhookReader = {
      get: async (_t, _id, consistent) => {
        reads.push(consistent === true);
        return consistent ? fresh : undefined;
      },
    };
    const h = setup(new ScriptedHttp(ok(200)), { webhooks: lagging });
    expect((await h.dispatch.execute(message())).kind).toBe('succeeded');
    expect(reads).toEqual([false, true]);
    expect(h.http.requests).toHaveLength(1);
  });

  it('a success of a healthy webhook owes no health step', async () => {
    const h = setup(new ScriptedHttp(ok(200)));
    expect((await h.dispatch.execute(message())).kind).toBe('succeeded');
    expect(h.health.total).toBe(0);
    expect(h.store.calls.filter((c) => c.startsWith('settle'))).toEqual([]);
  });

  it.each([
    ['failing', [0], ok(500), 'exhaustedCalls'],
    ['disabled', [0, 30], ok(410), 'goneCalls'],
    ['healthy', [0], ok(200), 'succeededCalls'],
  ] as const)('a %s change owed after complete() is not lost when the health step throws: the redelivered message does it', async (followUp, ladder, answer, calls) => {
    const h = setup(new ScriptedHttp(answer), { webhook: webhook({ status: followUp === 'healthy' ? 'failing' : 'healthy' }), settings: { retryDelaysSeconds: ladder } });
    h.health.failNext = 1;
    await expect(h.dispatch.execute(message())).rejects.toThrow('DynamoDB throttled');
    // The outcome is recorded, and so is the step it still owes.
    const d = h.store.peek('dlv_00000000000000000000000001')!;
    expect(d.attempts_completed).toBe(1);
    expect(d.follow_up).toBe(followUp);
    expect(h.health[calls]).toHaveLength(0);
    // The queue redelivers the message: no second attempt, but the step is done and settled.
    expect((await h.dispatch.execute(message())).kind).toBe('skipped');
    expect(h.http.requests).toHaveLength(1);
    expect(h.health[calls]).toHaveLength(1);
    expect(h.store.peek('dlv_00000000000000000000000001')!.follow_up).toBeUndefined();
    if (calls !== 'succeededCalls') expect(h.health[calls][0]!.cause).toBe('dlv_00000000000000000000000001');
    // Once more: nothing is owed any longer.
    expect((await h.dispatch.execute(message())).kind).toBe('skipped');
    expect(h.health[calls]).toHaveLength(1);
  });

  it('does not call exhausted when another dispatcher overtook the completion', async () => {
    const h = setup(new ScriptedHttp(ok(500)), { delivery: delivery({ attempts_started: 2, attempts_completed: 2 }) });
    const real = h.store.complete.bind(h.store);
    h.store.complete = async (ref, attempt, completion, now, summary) => {
      // Another claim of the same attempt got in between (this one was considered stale).
      h.store.items.get(ref.delivery_id)!.attempts_started = attempt + 1;
      return real(ref, attempt, completion, now, summary);
    };
    const result = await h.dispatch.execute(message({ attempt: 3 }));
    expect(result).toEqual({ kind: 'skipped', reason: 'attempt recorded by another dispatcher' });
    expect(h.health.exhaustedCalls).toHaveLength(0);
  });
});

describe('DispatchDelivery: what the receiver says', () => {
  it('410 Gone: delivery failed, health.gone, no retry, no exhausted', async () => {
    const h = setup(new ScriptedHttp(ok(410)));
    const result = await h.dispatch.execute(message());

    expect(result).toEqual({ kind: 'gone' });
    expect(h.scheduled).toHaveLength(0);
    expect(h.attempts[0]).toMatchObject({ success: false, status_code: 410 });
    expect(h.attempts[0]!.next_attempt_at).toBeUndefined();
    expect(h.store.peek('dlv_00000000000000000000000001')!.state).toBe('failed');
    expect(h.health.goneCalls).toHaveLength(1);
    expect(h.health.goneCalls[0]!.attempts).toEqual([
      { attempt: 1, status_code: 410, attempted_at: T0.toISOString(), error: expect.stringContaining('410') },
    ]);
    expect(h.health.exhaustedCalls).toHaveLength(0);
    expect(h.health.succeededCalls).toHaveLength(0);
  });

  it('429 with Retry-After: 100 postpones the next attempt to now + 100 s', async () => {
    const h = setup(new ScriptedHttp(ok(429, { 'retry-after': '100' })));
    const result = await h.dispatch.execute(message());
    expect(result.kind).toBe('retrying');
    expect(h.scheduled).toEqual([{ message: rung(message(), plus(100_000), [line(1, 429, T0, 'receiver answered HTTP 429')]), at: plus(100_000) }]);
    expect(h.attempts[0]!.next_attempt_at).toBe(plus(100_000).toISOString());
    expect(h.store.peek('dlv_00000000000000000000000001')!.next_attempt_at).toBe(plus(100_000).toISOString());
  });

  it('503 with a Retry-After shorter than the rung keeps the rung', async () => {
    const h = setup(new ScriptedHttp(ok(503, { 'retry-after': '5' })));
    await h.dispatch.execute(message());
    expect(h.scheduled[0]!.at).toEqual(plus(30_000));
  });

  it('a Retry-After past the last rung plus 1 h is capped there', async () => {
    const h = setup(new ScriptedHttp(ok(429, { 'retry-after': '999999' })));
    await h.dispatch.execute(message());
    expect(h.scheduled[0]!.at).toEqual(plus((120 + 3600) * 1000));
  });

  it('a Retry-After on a 500 is ignored', async () => {
    const h = setup(new ScriptedHttp(ok(500, { 'retry-after': '100' })));
    await h.dispatch.execute(message());
    expect(h.scheduled[0]!.at).toEqual(plus(30_000));
  });

  it('429 on the last rung still fails the delivery (Retry-After does not extend the ladder)', async () => {
    const h = setup(new ScriptedHttp(ok(429, { 'retry-after': '10' })), {
      delivery: delivery({ attempts_started: 2, attempts_completed: 2 }),
    });
    expect((await h.dispatch.execute(message({ attempt: 3 }))).kind).toBe('failed');
    expect(h.scheduled).toHaveLength(0);
    expect(h.health.exhaustedCalls).toHaveLength(1);
  });
});

describe('DispatchDelivery: manual attempts', () => {
  it('a failing manual attempt is one try: no retry, no exhausted, delivery failed', async () => {
    const h = setup(new ScriptedHttp(ok(500)), {
      delivery: delivery({ attempts_started: 3, attempts_completed: 3, state: 'pending' }),
    });
    const result = await h.dispatch.execute(message({ attempt: 4, trigger: 'manual' }));

    expect(result.kind).toBe('failed');
    expect(h.scheduled).toHaveLength(0);
    expect(h.attempts[0]).toMatchObject({ attempt: 4, trigger: 'manual', success: false });
    expect(h.attempts[0]!.next_attempt_at).toBeUndefined();
    expect(h.store.peek('dlv_00000000000000000000000001')!.state).toBe('failed');
    expect(h.health.exhaustedCalls).toHaveLength(0);
    expect(h.health.goneCalls).toHaveLength(0);
  });

  it('a manual attempt 1 with rungs left is still not retried', async () => {
    const h = setup(new ScriptedHttp(refused()));
    expect((await h.dispatch.execute(message({ trigger: 'manual' }))).kind).toBe('failed');
    expect(h.scheduled).toHaveLength(0);
    expect(h.health.exhaustedCalls).toHaveLength(0);
  });

  it('a successful manual attempt tells health it succeeded', async () => {
    const h = setup(new ScriptedHttp(ok(200)), { webhook: webhook({ status: 'failing' }), delivery: delivery({ attempts_started: 3, attempts_completed: 3 }) });
    expect((await h.dispatch.execute(message({ attempt: 4, trigger: 'manual' }))).kind).toBe('succeeded');
    expect(h.health.succeededCalls).toHaveLength(1);
  });

  it('a manual attempt answered 410 still disables the webhook', async () => {
    const h = setup(new ScriptedHttp(ok(410)), { delivery: delivery({ attempts_started: 3, attempts_completed: 3 }) });
    expect((await h.dispatch.execute(message({ attempt: 4, trigger: 'manual' }))).kind).toBe('gone');
    expect(h.health.goneCalls).toHaveLength(1);
  });
});
