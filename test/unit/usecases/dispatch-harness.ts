/**
 * The DispatchDelivery harness the dispatch tests share: scripted and hanging HTTP senders, a
 * health tracker that records its calls, and \`setup\`, which wires the use case to the in-memory
 * fakes (fakes.ts) with one webhook, one event and one delivery.
 */
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

export const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
export const SIG_HEADER = 'x-netrecon-signature';

export const settings: DispatchSettings = {
  signatureHeader: SIG_HEADER,
  requestTimeoutMs: 10_000,
  version: '9.9.9',
  deploymentHost: 'hooks.example.net',
  catalogue: new Catalogue(),
  retryDelaysSeconds: [0, 30, 120],
};

export const ok = (statusCode = 200, headers: Record<string, string> = {}): SendResult => ({
  kind: 'response',
  statusCode,
  headers,
  bodyPrefix: statusCode < 300 ? 'ok' : 'nope',
  durationMs: 42,
});
export const refused = (): SendResult => ({ kind: 'error', error: 'connection refused', durationMs: 3 });

/** Answers each POST with the next scripted result and keeps the requests it saw. */
export class ScriptedHttp implements HttpSender {
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
export class HangingHttp implements HttpSender {
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

export class RecordingHealth implements HealthTracker {
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

export interface Options {
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

export function setup<H extends HttpSender>(http: H, opts: Options = {}) {
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

export const message = (overrides: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  delivery_id: 'dlv_00000000000000000000000001',
  tenant_id: TENANT,
  webhook_id: 'wh_00000000000000000000000001',
  event_id: 'evt_1',
  attempt: 1,
  trigger: 'scheduled',
  ...overrides,
});

export const plus = (ms: number) => new Date(T0.getTime() + ms);

/** An attempt's line in the ladder's history, as the dispatcher writes it. */
export const line = (attempt: number, statusCode: number | null, attemptedAt: Date, error: string): AttemptSummary => ({
  attempt,
  status_code: statusCode,
  attempted_at: attemptedAt.toISOString(),
  error,
});
/** The message of the ladder's next rung: one attempt further, due then, with the history so far. */
export const rung = (from: DeliveryMessage, dueAt: Date, history: AttemptSummary[]): DeliveryMessage => ({
  ...from,
  attempt: from.attempt + 1,
  trigger: 'scheduled',
  due_at: dueAt.toISOString(),
  history,
});

/**
 * The delivery log on AWS: a claim only reads whether the attempt is logged (two copies of a
 * message may both send), and the attempt's entry is a conditional put, first one wins.
 */
export class FirstRecordWins implements OutcomeRecorder {
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
