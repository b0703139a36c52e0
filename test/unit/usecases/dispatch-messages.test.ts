/**
 * DispatchDelivery, what goes in and out: what a message carries, webhooks that no longer
 * receive, when an attempt may go (not_before, slots, timeouts), the lag it reports and the
 * signed request itself.
 */
import { createHmac } from 'node:crypto';
import type { EventReader, LagObserver } from '../../../shared/usecases/dispatch.ts';
import { DeliverySlots } from '../../../shared/usecases/webhook-slots.ts';
import { delivery, event, T0, TENANT, webhook } from './fakes.ts';
import {
  FirstRecordWins,
  HangingHttp,
  line,
  message,
  ok,
  plus,
  refused,
  ScriptedHttp,
  setup,
  SECRET,
  SIG_HEADER,
  type Options,
} from './dispatch-harness.ts';

describe('DispatchDelivery: what a message carries', () => {
  it('sends the event the message carries without reading the event store', async () => {
    const reads: string[] = [];
    const events: EventReader = {
      get: async (_t, id) => {
        reads.push(id);
        return event({ data: { from: 'the store' } });
      },
    };
    const carried = event({ data: { from: 'the message' } });
    const h = setup(new ScriptedHttp(ok()), { events });
    expect((await h.dispatch.execute(message({ event: carried }))).kind).toBe('succeeded');
    expect(reads).toEqual([]);
    expect(JSON.parse(h.http.requests[0]!.body).data).toEqual({ from: 'the message' });
    expect(h.attempts[0]!.event).toBe('scan.completed');
  });

  it('reads the event of a message that carries none (a manual attempt)', async () => {
    const reads: string[] = [];
    const events: EventReader = {
      get: async (_t, id) => {
        reads.push(id);
        return event({ data: { from: 'the store' } });
      },
    };
    // Reopened for one more attempt.
    const h = setup(new ScriptedHttp(ok()), { events, delivery: delivery({ state: 'pending', attempts_started: 1, attempts_completed: 1 }) });
    await h.dispatch.execute(message({ attempt: 2, trigger: 'manual' }));
    expect(reads).toEqual(['evt_1']);
    expect(JSON.parse(h.http.requests[0]!.body).data).toEqual({ from: 'the store' });
  });

  it("the next rung's message carries its due time, the event and the history of the earlier attempts (not not_before)", async () => {
    const e = event();
    const earlier = line(1, 503, plus(-30_000), 'receiver answered HTTP 503');
    const h = setup(new ScriptedHttp(refused()), { delivery: delivery({ attempts_started: 1, attempts_completed: 1 }) });
    const second = message({ attempt: 2, event: e, history: [earlier], due_at: T0.toISOString(), not_before: plus(-5).toISOString() });
    expect((await h.dispatch.execute(second)).kind).toBe('retrying');
    expect(h.scheduled).toEqual([
      {
        message: {
          delivery_id: 'dlv_00000000000000000000000001',
          tenant_id: TENANT,
          webhook_id: 'wh_00000000000000000000000001',
          event_id: 'evt_1',
          attempt: 3,
          trigger: 'scheduled',
          due_at: plus(120_000).toISOString(),
          event: e,
          history: [earlier, { attempt: 2, status_code: null, attempted_at: T0.toISOString(), error: 'connection refused' }],
        },
        at: plus(120_000),
      },
    ]);
  });

  it("a store that keeps no history (the delivery log on AWS): the owner's email lists the ladder from the messages", async () => {
    const h = setup(new ScriptedHttp(ok(500), ok(502)), { outcomes: new FirstRecordWins(), settings: { retryDelaysSeconds: [0, 30] } });
    h.store.claim = async (m) => delivery({ attempts_started: m.attempt, attempts_completed: m.attempt - 1 });
    await h.dispatch.execute(message({ event: event() }));
    const next = h.scheduled.shift()!;
    h.clock.set(next.at);
    expect((await h.dispatch.execute(next.message)).kind).toBe('failed');
    expect(h.health.exhaustedCalls).toHaveLength(1);
    expect(h.health.exhaustedCalls[0]!.attempts).toEqual([
      line(1, 500, T0, 'receiver answered HTTP 500'),
      line(2, 502, plus(30_000), 'receiver answered HTTP 502'),
    ]);
  });
});

describe('DispatchDelivery: webhooks that no longer receive', () => {
  const cases: [string, Options, string][] = [
    ['deleted', { webhook: undefined }, 'webhook deleted'],
    ['inactive', { webhook: webhook({ active: false }) }, 'webhook inactive'],
    ['disabled', { webhook: webhook({ status: 'disabled' }) }, 'webhook disabled'],
    ['with its event gone', { event: undefined }, 'event no longer stored'],
  ];
  it.each(cases)('a webhook %s: delivery cancelled, nothing sent', async (_name, opts, reason) => {
    const h = setup(new ScriptedHttp(ok()), opts);
    const result = await h.dispatch.execute(message());
    expect(result).toEqual({ kind: 'cancelled', reason });
    expect(h.http.requests).toHaveLength(0);
    expect(h.attempts).toHaveLength(0);
    expect(h.scheduled).toHaveLength(0);
    expect(h.health.total).toBe(0);
    const d = h.store.peek('dlv_00000000000000000000000001')!;
    expect(d.state).toBe('cancelled');
    expect(d.cancel_reason).toBe(reason);
  });

  it('a failing (not disabled) webhook still receives', async () => {
    const h = setup(new ScriptedHttp(ok()), { webhook: webhook({ status: 'failing' }) });
    expect((await h.dispatch.execute(message())).kind).toBe('succeeded');
    expect(h.http.requests).toHaveLength(1);
  });
});

describe('DispatchDelivery: timing', () => {
  it('a message with not_before in the future is rescheduled for then, not claimed or sent', async () => {
    const h = setup(new ScriptedHttp(ok()));
    const notBefore = plus(20 * 60_000).toISOString();
    const m = message({ attempt: 1, not_before: notBefore });
    const result = await h.dispatch.execute(m);
    expect(result.kind).toBe('skipped');
    expect(h.scheduled).toEqual([{ message: m, at: new Date(notBefore) }]);
    expect(h.http.requests).toHaveLength(0);
    expect(h.store.calls).toHaveLength(0);
    expect(h.store.peek('dlv_00000000000000000000000001')!.attempts_started).toBe(0);
  });

  it('a message whose not_before has come is attempted', async () => {
    const h = setup(new ScriptedHttp(ok()));
    const result = await h.dispatch.execute(message({ not_before: plus(-1000).toISOString() }));
    expect(result.kind).toBe('succeeded');
  });

  it('a webhook with every slot busy waits a second without claiming', async () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 10 });
    slots.tryAcquire(message());
    const h = setup(new ScriptedHttp(ok()), { slots });
    const result = await h.dispatch.execute(message());
    expect(result).toEqual({ kind: 'skipped', reason: 'webhook busy' });
    expect(h.scheduled).toEqual([{ message: message(), at: plus(1000) }]);
    expect(h.http.requests).toHaveLength(0);
    expect(h.store.calls).toHaveLength(0);
  });

  it("a tenant with every slot busy on other webhooks waits a second without claiming; another tenant's delivery goes", async () => {
    const slots = new DeliverySlots({ perWebhook: 10, perTenant: 2 });
    slots.tryAcquire({ tenant_id: TENANT, webhook_id: 'wh_other_1' });
    slots.tryAcquire({ tenant_id: TENANT, webhook_id: 'wh_other_2' });
    const h = setup(new ScriptedHttp(ok()), { slots });
    expect(await h.dispatch.execute(message())).toEqual({ kind: 'skipped', reason: 'tenant busy' });
    expect(h.scheduled).toEqual([{ message: message(), at: plus(1000) }]);
    expect(h.http.requests).toHaveLength(0);
    expect(h.store.calls).toHaveLength(0);

    const otherTenant = 'ten_B';
    const b = setup(new ScriptedHttp(ok()), {
      slots,
      webhook: webhook({ tenant_id: otherTenant }),
      event: event({ tenant_id: otherTenant }),
      delivery: delivery({ tenant_id: otherTenant }),
    });
    expect(await b.dispatch.execute(message({ tenant_id: otherTenant }))).toEqual({ kind: 'succeeded', statusCode: 200 });
    // Once one of the busy tenant's attempts ends, its next delivery goes too.
    slots.release({ tenant_id: TENANT, webhook_id: 'wh_other_1' });
    const again = setup(new ScriptedHttp(ok()), { slots });
    expect((await again.dispatch.execute(message())).kind).toBe('succeeded');
  });

  it('holds the tenant slots for the whole attempt: of 8 hanging deliveries on two webhooks, 3 are sent and 5 wait', async () => {
    const slots = new DeliverySlots({ perWebhook: 10, perTenant: 3 });
    const http = new HangingHttp();
    const runs = Array.from({ length: 8 }, (_, i) => {
      const ids = { delivery_id: `dlv_0000000000000000000000001${i}`, webhook_id: `wh_0000000000000000000000000${i % 2}` };
      const h = setup(http, { slots, webhook: webhook({ id: ids.webhook_id }), delivery: delivery(ids) });
      return h.dispatch.execute(message(ids));
    });
    const waiting = await Promise.all(runs.slice(3));
    expect(waiting.map((r) => r.kind === 'skipped' && r.reason)).toEqual(Array(5).fill('tenant busy'));
    await http.waitForOpen(3);
    http.answerAll(ok());
    expect((await Promise.all(runs.slice(0, 3))).map((r) => r.kind)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(http.maxOpen).toBe(3);
    // Every slot is free again.
    expect(slots.tryAcquire(message())).toBe('acquired');
  });

  it('releases its slots after an attempt, also when the attempt throws', async () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 });
    const h = setup(new ScriptedHttp(ok()), { slots });
    await h.dispatch.execute(message());
    expect(slots.tryAcquire(message())).toBe('acquired');
    slots.release(message());

    const broken = setup(new ScriptedHttp(ok()), { slots });
    broken.store.claim = async () => {
      throw new Error('store down');
    };
    await expect(broken.dispatch.execute(message())).rejects.toThrow('store down');
    expect(slots.tryAcquire(message())).toBe('acquired');
  });
});

describe('DispatchDelivery: a failing webhook cannot hold its dispatcher', () => {
  const failingSettings = { failingRequestTimeoutMs: 2500 };

  it("gives a failing webhook's scheduled attempts the short timeout, a healthy webhook's the full one", async () => {
    const failing = setup(new ScriptedHttp(refused()), { webhook: webhook({ status: 'failing' }), settings: failingSettings });
    await failing.dispatch.execute(message());
    expect(failing.http.requests.map((r) => r.timeoutMs)).toEqual([2500]);

    const healthy = setup(new ScriptedHttp(ok()), { settings: failingSettings });
    await healthy.dispatch.execute(message());
    expect(healthy.http.requests.map((r) => r.timeoutMs)).toEqual([10_000]);
  });

  it('gives a manual attempt (retry, recover) the full timeout, so a slow endpoint can prove itself healthy', async () => {
    const h = setup(new ScriptedHttp(ok()), { webhook: webhook({ status: 'failing' }), settings: failingSettings });
    await h.dispatch.execute(message({ trigger: 'manual' }));
    expect(h.http.requests.map((r) => r.timeoutMs)).toEqual([10_000]);
  });

  it('never lengthens the request timeout', async () => {
    const h = setup(new ScriptedHttp(ok()), { webhook: webhook({ status: 'failing' }), settings: { requestTimeoutMs: 1000, failingRequestTimeoutMs: 2500 } });
    await h.dispatch.execute(message());
    expect(h.http.requests.map((r) => r.timeoutMs)).toEqual([1000]);
  });
});

describe('DispatchDelivery: the lag it reports', () => {
  const recording = () => {
    const seen: { webhook: string; dueAt: Date; sentAt: Date | undefined; now: Date }[] = [];
    const lag: LagObserver = { observe: (holder, dueAt, sentAt, now) => void seen.push({ webhook: holder.webhook_id, dueAt, sentAt, now }) };
    return { seen, lag };
  };

  it('tells how late each claimed attempt is: the first from the delivery\'s creation, a retry from its rung', async () => {
    const first = recording();
    const h = setup(new ScriptedHttp(ok()), { lag: first.lag, delivery: delivery({ created_at: plus(-90_000).toISOString() }) });
    await h.dispatch.execute(message(), { sentAt: plus(-89_000) });
    expect(first.seen).toEqual([{ webhook: message().webhook_id, dueAt: plus(-90_000), sentAt: plus(-89_000), now: T0 }]);

    const retry = recording();
    const ids = { attempts_started: 1, attempts_completed: 1, next_attempt_at: plus(-5000).toISOString(), created_at: plus(-600_000).toISOString() };
    const r = setup(new ScriptedHttp(ok()), { lag: retry.lag, delivery: delivery(ids) });
    await r.dispatch.execute(message({ attempt: 2 }));
    expect(retry.seen).toEqual([{ webhook: message().webhook_id, dueAt: plus(-5000), sentAt: undefined, now: T0 }]);
  });

  it('measures from the due time the message carries when it has one (the delivery log keeps no plan)', async () => {
    const { seen, lag } = recording();
    const h = setup(new ScriptedHttp(ok()), { lag, delivery: delivery({ attempts_started: 1, attempts_completed: 1, next_attempt_at: plus(-5000).toISOString() }) });
    await h.dispatch.execute(message({ attempt: 2, due_at: plus(-7000).toISOString() }));
    expect(seen.map((s) => s.dueAt)).toEqual([plus(-7000)]);
  });

  it('says nothing of an attempt it did not claim, nor of a manual one', async () => {
    const { seen, lag } = recording();
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 10 });
    slots.tryAcquire(message());
    await setup(new ScriptedHttp(ok()), { lag, slots }).dispatch.execute(message());
    await setup(new ScriptedHttp(ok()), { lag, delivery: delivery({ state: 'succeeded', attempts_started: 1, attempts_completed: 1 }) }).dispatch.execute(message());
    await setup(new ScriptedHttp(ok()), { lag }).dispatch.execute(message({ trigger: 'manual' }));
    expect(seen).toEqual([]);
  });
});

describe('DispatchDelivery: the request', () => {
  it('carries the signature headers over the exact body of the webhook format (standard)', async () => {
    const h = setup(new ScriptedHttp(ok()));
    await h.dispatch.execute(message());
    const req = h.http.requests[0]!;
    const e = event();

    expect(req.url).toBe('https://receiver.example.com/hooks');
    expect(req.timeoutMs).toBe(10_000);
    expect(JSON.parse(req.body)).toEqual({ id: e.id, event: e.event, timestamp: e.timestamp, tenant_id: TENANT, data: e.data });
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('Hookline/9.9.9');

    expect(req.headers[SIG_HEADER]).toBe('sha256=' + createHmac('sha256', SECRET).update(req.body).digest('hex'));
    const ts = Math.floor(T0.getTime() / 1000);
    expect(req.headers['webhook-id']).toBe('evt_1');
    expect(req.headers['webhook-timestamp']).toBe(String(ts));
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    expect(req.headers['webhook-signature']).toBe(
      'v1,' + createHmac('sha256', key).update(`evt_1.${ts}.${req.body}`).digest('base64'),
    );
  });

  it('uses the wrapped format when the webhook asks for it, and the bearer auth header', async () => {
    const h = setup(new ScriptedHttp(ok()), {
      webhook: webhook({ format: 'wrapped', auth_type: 'bearer' }),
      auth: { type: 'bearer', token: 'tok-xyz' },
    });
    await h.dispatch.execute(message());
    const req = h.http.requests[0]!;
    const e = event();
    expect(JSON.parse(req.body)).toEqual({
      event: { type: e.event, data: e.data, version: 1 },
      time: Math.floor(Date.parse(e.timestamp) / 1000),
      host: 'hooks.example.net',
    });
    expect(req.headers['authorization']).toBe('Bearer tok-xyz');
    expect(req.headers[SIG_HEADER]).toBe('sha256=' + createHmac('sha256', SECRET).update(req.body).digest('hex'));
  });

  it('signs each attempt with that attempt\'s timestamp and keeps webhook-id', async () => {
    const h = setup(new ScriptedHttp(ok(500), ok()));
    await h.dispatch.execute(message());
    const next = h.scheduled.shift()!;
    h.clock.set(next.at);
    await h.dispatch.execute(next.message);
    const [first, second] = h.http.requests;
    expect(first!.headers['webhook-id']).toBe(second!.headers['webhook-id']);
    expect(Number(second!.headers['webhook-timestamp']) - Number(first!.headers['webhook-timestamp'])).toBe(30);
    expect(first!.body).toBe(second!.body);
  });
});
