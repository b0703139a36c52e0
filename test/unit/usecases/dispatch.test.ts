import { createHmac } from 'node:crypto';
import { Catalogue } from '../../../shared/domain/catalogue.ts';
import type { Attempt, AttemptSummary, Delivery, DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import type { PublishedEvent } from '../../../shared/domain/events.ts';
import type { ReceiverAuth, Webhook, WebhookCredentials } from '../../../shared/domain/webhooks.ts';
import { AttemptSender } from '../../../shared/usecases/attempt-sender.ts';
import {
  DispatchDelivery,
  type DispatchSettings,
  type EventReader,
  type HealthInput,
  type HealthTracker,
  type LagObserver,
  type OutcomeRecorder,
  type WebhookReader,
} from '../../../shared/usecases/dispatch.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../../shared/usecases/ports.ts';
import { DeliverySlots } from '../../../shared/usecases/webhook-slots.ts';
import { delivery, event, FakeClock, LoggedCompletions, MemoryDeliveryStore, T0, TENANT, webhook } from './fakes.ts';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const SIG_HEADER = 'x-netrecon-signature';

const settings: DispatchSettings = {
  signatureHeader: SIG_HEADER,
  requestTimeoutMs: 10_000,
  version: '9.9.9',
  deploymentHost: 'hooks.example.net',
  catalogue: new Catalogue(),
  retryDelaysSeconds: [0, 30, 120],
};

const ok = (statusCode = 200, headers: Record<string, string> = {}): SendResult => ({
  kind: 'response',
  statusCode,
  headers,
  bodyPrefix: statusCode < 300 ? 'ok' : 'nope',
  durationMs: 42,
});
const refused = (): SendResult => ({ kind: 'error', error: 'connection refused', durationMs: 3 });

/** Answers each POST with the next scripted result and keeps the requests it saw. */
class ScriptedHttp implements HttpSender {
  readonly requests: OutboundRequest[] = [];
  private readonly script: SendResult[];
  constructor(...script: SendResult[]) {
    this.script = script;
  }
  push(...results: SendResult[]): void {
    this.script.push(...results);
  }
  async post(request: OutboundRequest): Promise<SendResult> {
    this.requests.push(request);
    const next = this.script.shift();
    if (!next) throw new Error('ScriptedHttp: no more scripted results');
    return next;
  }
}

/** Holds every POST open until told to answer; counts how many are open at once. */
class HangingHttp implements HttpSender {
  private readonly pending: ((result: SendResult) => void)[] = [];
  maxOpen = 0;
  post(): Promise<SendResult> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.maxOpen = Math.max(this.maxOpen, this.pending.length);
    });
  }
  async waitForOpen(n: number): Promise<void> {
    while (this.pending.length < n) await new Promise((r) => setTimeout(r, 1));
  }
  answerAll(result: SendResult): void {
    this.pending.splice(0).forEach((resolve) => resolve(result));
  }
}

class RecordingHealth implements HealthTracker {
  readonly succeededCalls: Webhook[] = [];
  readonly exhaustedCalls: HealthInput[] = [];
  readonly goneCalls: HealthInput[] = [];
  /** Throws this many times before recording (the step after complete() failing). */
  failNext = 0;
  private fail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('DynamoDB throttled');
    }
  }
  async succeeded(w: Webhook): Promise<void> {
    this.fail();
    this.succeededCalls.push(w);
  }
  async exhausted(input: HealthInput): Promise<void> {
    this.fail();
    this.exhaustedCalls.push(input);
  }
  async gone(input: HealthInput): Promise<void> {
    this.fail();
    this.goneCalls.push(input);
  }
  get total(): number {
    return this.succeededCalls.length + this.exhaustedCalls.length + this.goneCalls.length;
  }
}

interface Options {
  webhook?: Webhook | undefined;
  event?: PublishedEvent | undefined;
  delivery?: Delivery;
  auth?: ReceiverAuth;
  slots?: DeliverySlots;
  settings?: Partial<DispatchSettings>;
  webhooks?: WebhookReader;
  events?: EventReader;
  /** Instead of the log entry and the completion on the store (e.g. a log whose conditional put fails). */
  outcomes?: OutcomeRecorder;
  lag?: LagObserver;
}

function setup<H extends HttpSender>(http: H, opts: Options = {}) {
  const clock = new FakeClock();
  const store = new MemoryDeliveryStore();
  store.put(opts.delivery ?? delivery());
  const hook = 'webhook' in opts ? opts.webhook : webhook();
  const evt = 'event' in opts ? opts.event : event();
  const credentials: WebhookCredentials = { signing_secrets: [SECRET], auth: opts.auth ?? { type: 'none' } };
  const attempts: Attempt[] = [];
  const scheduled: { message: DeliveryMessage; at: Date }[] = [];
  const health = new RecordingHealth();
  const tokens = {
    async get(): Promise<string> {
      return 'oauth-token';
    },
    invalidate(): void {},
  };
  const fullSettings = { ...settings, ...opts.settings };
  const dispatch = new DispatchDelivery({
    deliveries: store,
    webhooks: opts.webhooks ?? { get: async (t, id) => (hook && hook.tenant_id === t && hook.id === id ? hook : undefined) },
    events: opts.events ?? { get: async (t, id) => (evt && evt.tenant_id === t && evt.id === id ? evt : undefined) },
    credentials: { get: async () => credentials },
    outcomes: opts.outcomes ?? new LoggedCompletions({ record: async (a) => void attempts.push(a) }, store),
    sender: new AttemptSender(http, tokens, fullSettings),
    retries: { schedule: async (message, at) => void scheduled.push({ message, at }) },
    health,
    slots: opts.slots ?? new DeliverySlots({ perWebhook: 4, perTenant: 8 }),
    ...(opts.lag ? { lag: opts.lag } : {}),
    clock: clock.clock,
    settings: fullSettings,
  });
  return { dispatch, store, clock, attempts, scheduled, health, http };
}

const message = (overrides: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  delivery_id: 'dlv_00000000000000000000000001',
  tenant_id: TENANT,
  webhook_id: 'wh_00000000000000000000000001',
  event_id: 'evt_1',
  attempt: 1,
  trigger: 'scheduled',
  ...overrides,
});

const plus = (ms: number) => new Date(T0.getTime() + ms);

/** An attempt's line in the ladder's history, as the dispatcher writes it. */
const line = (attempt: number, statusCode: number | null, attemptedAt: Date, error: string): AttemptSummary => ({
  attempt,
  status_code: statusCode,
  attempted_at: attemptedAt.toISOString(),
  error,
});
/** The message of the ladder's next rung: one attempt further, due then, with the history so far. */
const rung = (from: DeliveryMessage, dueAt: Date, history: AttemptSummary[]): DeliveryMessage => ({
  ...from,
  attempt: from.attempt + 1,
  trigger: 'scheduled',
  due_at: dueAt.toISOString(),
  history,
});

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

/**
 * The delivery log on AWS: a claim only reads whether the attempt is logged (two copies of a
 * message may both send), and the attempt's entry is a conditional put, first one wins.
 */
class FirstRecordWins implements OutcomeRecorder {
  readonly entries = new Map<string, Attempt>();
  async recordOutcome(...[attempt, completion, now, , followUp]: Parameters<OutcomeRecorder['recordOutcome']>): Promise<Delivery | undefined> {
    await Promise.resolve();
    const key = `${attempt.delivery_id}#${attempt.attempt}`;
    if (this.entries.has(key)) return undefined;
    this.entries.set(key, attempt);
    // Like DynamoDeliveryLog: the delivery after this attempt, without the ladder's history.
    return delivery({
      delivery_id: attempt.delivery_id,
      state: completion.kind === 'retry' ? 'pending' : completion.kind === 'cancelled' ? 'cancelled' : completion.kind,
      attempts_started: attempt.attempt,
      attempts_completed: attempt.attempt,
      ...(completion.kind === 'retry' ? { next_attempt_at: completion.nextAttemptAt.toISOString() } : {}),
      ...(followUp ? { follow_up: followUp } : {}),
      updated_at: now.toISOString(),
    });
  }
}

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
