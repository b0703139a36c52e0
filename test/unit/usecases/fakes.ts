/**
 * Small in-memory fakes and builders shared by the use-case tests. Each fake keeps the semantics
 * of the adapter it stands for (conditional writes included), and records what it was asked.
 */
import type { Attempt, AttemptSummary, Delivery, DeliveryMessage, DeliveryRef, HealthFollowUp } from '../../../shared/domain/deliveries.ts';
import type { PublishedEvent } from '../../../shared/domain/events.ts';
import type { Webhook, WebhookStatus } from '../../../shared/domain/webhooks.ts';
import type { AttemptRecorder, Completion, DeliveryClaims, OutcomeRecorder, Received } from '../../../shared/usecases/dispatch.ts';
import type { Clock, Email, Mailer } from '../../../shared/usecases/ports.ts';
import { LAG_WINDOW_MS, type LagFront, type LagRecords } from '../../../shared/usecases/queue-lag.ts';

export const T0 = new Date('2025-06-01T12:00:00.000Z');

/** A clock the test moves by hand. */
export class FakeClock {
  now: Date;
  constructor(start: Date = T0) {
    this.now = new Date(start);
  }
  readonly clock: Clock = () => new Date(this.now);
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }
  set(at: Date): void {
    this.now = new Date(at);
  }
}

export const TENANT = 'ten_A';

export function webhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    tenant_id: TENANT,
    id: 'wh_00000000000000000000000001',
    url: 'https://receiver.example.com/hooks',
    events: ['*'],
    active: true,
    status: 'healthy',
    description: 'SIEM',
    format: 'standard',
    auth_type: 'none',
    owner_email: 'owner@example.com',
    has_secret: true,
    credentials_version: 1,
    created_at: T0.toISOString(),
    updated_at: T0.toISOString(),
    ...overrides,
  };
}

export function event(overrides: Partial<PublishedEvent> = {}): PublishedEvent {
  return {
    tenant_id: TENANT,
    id: 'evt_1',
    event: 'scan.completed',
    timestamp: '2025-06-01T11:59:00.000Z',
    data: { scan_id: 's-1', hosts: 3 },
    received_at: T0.toISOString(),
    ...overrides,
  };
}

export function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    delivery_id: 'dlv_00000000000000000000000001',
    tenant_id: TENANT,
    webhook_id: 'wh_00000000000000000000000001',
    event_id: 'evt_1',
    event_type: 'scan.completed',
    state: 'pending',
    attempts_started: 0,
    attempts_completed: 0,
    created_at: T0.toISOString(),
    updated_at: T0.toISOString(),
    ...overrides,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type StoredDelivery = Mutable<Delivery> & { cancel_reason?: string };

/**
 * The claim/complete/reopen conditions of SqliteDeliveryStore (exclusive claims), on a Map. Every
 * write is atomic (checked and applied in one synchronous step), after an await, as a remote
 * store would be.
 */
export class MemoryDeliveryStore {
  readonly items = new Map<string, StoredDelivery>();
  readonly calls: string[] = [];

  put(d: Delivery): void {
    this.items.set(d.delivery_id, structuredClone(d) as StoredDelivery);
  }
  peek(id: string): StoredDelivery | undefined {
    return this.items.get(id);
  }

  async get({ delivery_id: id }: DeliveryRef): Promise<Delivery | undefined> {
    await Promise.resolve();
    const d = this.items.get(id);
    return d && structuredClone(d);
  }

  /** Exclusive, so what the queue says of the message (`_received`) changes nothing. */
  async claim({ delivery_id: id, attempt }: DeliveryMessage, now: Date, staleBefore: Date, _received?: Received): Promise<Delivery | undefined> {
    this.calls.push(`claim:${id}:${attempt}`);
    await Promise.resolve();
    const d = this.items.get(id);
    if (!d) return undefined;
    const prev = attempt - 1;
    const ok =
      d.state === 'pending' &&
      d.attempts_completed === prev &&
      (d.attempts_started === prev ||
        (d.attempts_started === attempt && d.claimed_at !== undefined && d.claimed_at < staleBefore.toISOString()));
    if (!ok) return undefined;
    d.attempts_started = attempt;
    d.claimed_at = now.toISOString();
    d.updated_at = now.toISOString();
    return structuredClone(d);
  }

  async complete(
    { delivery_id: id }: DeliveryRef,
    attempt: number,
    completion: Completion,
    now: Date,
    summary?: AttemptSummary,
    followUp?: HealthFollowUp,
  ): Promise<Delivery | undefined> {
    this.calls.push(`complete:${id}:${attempt}:${completion.kind}`);
    await Promise.resolve();
    const d = this.items.get(id);
    if (!d || d.attempts_started !== attempt) return undefined;
    d.attempts_completed = attempt;
    d.updated_at = now.toISOString();
    if (followUp) d.follow_up = followUp;
    else delete d.follow_up;
    if (summary) d.history = [...(d.history ?? []), summary];
    if (completion.kind === 'retry') {
      d.next_attempt_at = completion.nextAttemptAt.toISOString();
    } else {
      delete d.next_attempt_at;
      d.state = completion.kind;
      if (completion.kind === 'cancelled') d.cancel_reason = completion.reason;
    }
    return structuredClone(d);
  }

  async settleFollowUp({ delivery_id: id }: DeliveryRef, attempt: number): Promise<void> {
    this.calls.push(`settle:${id}:${attempt}`);
    await Promise.resolve();
    const d = this.items.get(id);
    if (d && d.attempts_completed === attempt) delete d.follow_up;
  }

  async reopen({ delivery_id: id }: DeliveryRef, now: Date): Promise<Delivery | undefined> {
    this.calls.push(`reopen:${id}`);
    await Promise.resolve();
    const d = this.items.get(id);
    if (!d || d.state === 'pending' || d.attempts_started !== d.attempts_completed) return undefined;
    d.state = 'pending';
    d.updated_at = now.toISOString();
    delete d.cancel_reason;
    return structuredClone(d);
  }
}

/** Webhook status with DynamoWebhookStore.transitionStatus's condition. */
export class MemoryWebhookStatusStore {
  readonly items = new Map<string, Webhook>();
  writes = 0;
  attempts = 0;
  constructor(...webhooks: Webhook[]) {
    for (const w of webhooks) this.items.set(`${w.tenant_id}/${w.id}`, w);
  }
  status(w: Pick<Webhook, 'tenant_id' | 'id'>): WebhookStatus | undefined {
    return this.items.get(`${w.tenant_id}/${w.id}`)?.status;
  }
  async transitionStatus(
    tenantId: string,
    webhookId: string,
    from: readonly WebhookStatus[],
    to: WebhookStatus,
    at: Date,
    cause: string,
  ): Promise<Webhook | undefined> {
    this.attempts++;
    // Let other callers interleave before the atomic check-and-set, as a network round trip would.
    await new Promise((r) => setImmediate(r));
    const key = `${tenantId}/${webhookId}`;
    const w = this.items.get(key);
    if (!w || !(from.includes(w.status) || (w.status === to && w.status_cause === cause))) return undefined;
    const changed = { ...w, status: to, status_cause: cause, updated_at: at.toISOString() };
    this.items.set(key, changed);
    this.writes++;
    return changed;
  }
}

export class RecordingMailer implements Mailer {
  readonly sent: Email[] = [];
  async send(email: Email): Promise<void> {
    await Promise.resolve();
    this.sent.push(email);
  }
}

export class RecordingLogger {
  readonly infos: { message: string; extra: Record<string, unknown> }[] = [];
  readonly warnings: { message: string; extra: Record<string, unknown> }[] = [];
  readonly errors: { message: string; extra: Record<string, unknown> }[] = [];
  info(message: string, extra: Record<string, unknown>): void {
    this.infos.push({ message, extra });
  }
  warn(message: string, extra: Record<string, unknown>): void {
    this.warnings.push({ message, extra });
  }
  error(message: string, extra: Record<string, unknown>): void {
    this.errors.push({ message, extra });
  }
}

/** The one-machine queue lag records (SqliteQueueLag) on a Map: the oldest front of each window is kept. */
export class MemoryLagRecords implements LagRecords {
  readonly fronts = new Map<string, LagFront>();
  async record(key: string, dueAt: Date, now: Date): Promise<void> {
    const current = this.fronts.get(key);
    if (!current || current.observedAt.getTime() < now.getTime() - LAG_WINDOW_MS || current.dueAt > dueAt) this.fronts.set(key, { dueAt, observedAt: now });
  }
  async read(keys: readonly string[]): Promise<Map<string, LagFront>> {
    return new Map(keys.flatMap((k) => (this.fronts.has(k) ? [[k, this.fronts.get(k)!] as const] : [])));
  }
}

/**
 * An outcome recorder over a log and a delivery store: the log entry, then the completion (two
 * writes). Each store records both in one write of its own; the unit tests use these fakes apart.
 */
export class LoggedCompletions implements OutcomeRecorder {
  private readonly attempts: AttemptRecorder;
  private readonly deliveries: Pick<DeliveryClaims, 'complete'>;
  constructor(attempts: AttemptRecorder, deliveries: Pick<DeliveryClaims, 'complete'>) {
    this.attempts = attempts;
    this.deliveries = deliveries;
  }
  async recordOutcome(attempt: Attempt, completion: Completion, now: Date, summary: AttemptSummary, followUp?: HealthFollowUp): Promise<Delivery | undefined> {
    await this.attempts.record(attempt);
    return this.deliveries.complete(attempt, attempt.attempt, completion, now, summary, followUp);
  }
}
