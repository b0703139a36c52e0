import { Catalogue } from '../../shared/domain/catalogue.ts';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';
import type { PublishedEvent } from '../../shared/domain/events.ts';
import type { AttemptOutcome } from '../../shared/domain/metric-names.ts';
import { EMAILS_PER_TENANT_PER_HOUR } from '../../shared/domain/notifications.ts';
import type { Webhook } from '../../shared/domain/webhooks.ts';
import { DispatchDelivery } from '../../shared/usecases/dispatch.ts';
import type { BusinessMetrics } from '../../shared/usecases/metrics.ts';
import { OwnerEmailVerification } from '../../shared/usecases/owner-email.ts';
import type { Email, Mailer, SendResult } from '../../shared/usecases/ports.ts';
import { PublishEvents } from '../../shared/usecases/publish-events.ts';
import { WebhookHealth } from '../../shared/usecases/webhook-health.ts';
import { DeliverySlots } from '../../shared/usecases/webhook-slots.ts';
import { MemoryEmailQuota, MemoryEmailWindowStore, MemoryTenantOwners } from './usecases/email-fakes.ts';
import { delivery, event, FakeClock, LoggedCompletions, MemoryDeliveryStore, RecordingLogger, RecordingMailer, T0, TENANT, webhook } from './usecases/fakes.ts';

/** The metrics port, recording each call in order. */
class RecordingMetrics implements BusinessMetrics {
  readonly calls: (readonly [keyof BusinessMetrics, ...unknown[]])[] = [];
  eventsPublished(count: number): void {
    this.calls.push(['eventsPublished', count]);
  }
  deliverySucceeded(latencyMs: number | undefined): void {
    this.calls.push(['deliverySucceeded', latencyMs]);
  }
  attemptFailed(outcome: AttemptOutcome): void {
    this.calls.push(['attemptFailed', outcome]);
  }
  webhookTurned(status: 'failing' | 'disabled'): void {
    this.calls.push(['webhookTurned', status]);
  }
  emailSent(): void {
    this.calls.push(['emailSent']);
  }
}

const failingMailer: Mailer = {
  async send(): Promise<void> {
    throw new Error('SES throttled');
  },
};

describe('PublishEvents metrics', () => {
  function setup() {
    const metrics = new RecordingMetrics();
    const stored = new Map<string, PublishedEvent>();
    const publish = new PublishEvents({
      store: {
        putIfAbsent: async (e: PublishedEvent) => (stored.has(e.id) ? 'duplicate-pending' : (stored.set(e.id, e), 'created')),
        get: async (_tenantId: string, id: string) => stored.get(id),
        forget: async (events) => events.forEach((e) => stored.delete(e.id)),
      },
      queue: { enqueue: async () => {}, fits: () => true },
      catalogue: new Catalogue(),
      clock: new FakeClock().clock,
      log: new RecordingLogger(),
      metrics,
    });
    return { publish, metrics };
  }
  const input = (id: string) => ({ id, event: 'scan.completed', data: {} });

  it('counts the events a request stores, and not a replayed id again', async () => {
    const h = setup();
    await h.publish.execute(TENANT, [input('evt_a'), input('evt_b')]);
    await h.publish.execute(TENANT, [input('evt_b'), input('evt_c')]);
    expect(h.metrics.calls).toEqual([
      ['eventsPublished', 2],
      ['eventsPublished', 1],
    ]);
  });

  it('counts nothing for a refused request', async () => {
    const h = setup();
    await expect(h.publish.execute(TENANT, [{ event: 'no.such.type', data: {} }])).rejects.toThrow('Unknown event type');
    expect(h.metrics.calls).toEqual([]);
  });
});

describe('DispatchDelivery metrics', () => {
  const RECEIVED_MS = 90_000;
  const message = (overrides: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
    delivery_id: 'dlv_00000000000000000000000001',
    tenant_id: TENANT,
    webhook_id: webhook().id,
    event_id: 'evt_1',
    attempt: 1,
    trigger: 'scheduled',
    ...overrides,
  });

  /** One attempt of `stored` answered by `result`, `RECEIVED_MS` after ingest received its event. */
  async function attempt(result: SendResult, overrides: Partial<DeliveryMessage> = {}, stored = delivery()) {
    const metrics = new RecordingMetrics();
    const store = new MemoryDeliveryStore();
    store.put(stored);
    const evt = event({ received_at: T0.toISOString() });
    const dispatch = new DispatchDelivery({
      deliveries: store,
      webhooks: { get: async () => webhook() },
      events: { get: async () => evt },
      credentials: { get: async () => ({ signing_secrets: ['whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='], auth: { type: 'none' } }) },
      outcomes: new LoggedCompletions({ record: async () => {} }, store),
      sender: { send: async () => result },
      retries: { schedule: async () => {} },
      health: { succeeded: async () => {}, exhausted: async () => {}, gone: async () => {} },
      slots: new DeliverySlots({ perWebhook: 4, perTenant: 8 }),
      metrics,
      clock: new FakeClock(new Date(T0.getTime() + RECEIVED_MS)).clock,
      settings: {
        signatureHeader: 'x-sig',
        requestTimeoutMs: 10_000,
        version: '1.0.0',
        deploymentHost: 'hooks.example.net',
        catalogue: new Catalogue(),
        retryDelaysSeconds: [0, 30],
      },
    });
    const outcome = await dispatch.execute(message(overrides));
    return { outcome, calls: metrics.calls };
  }
  const answer = (statusCode: number): SendResult => ({ kind: 'response', statusCode, headers: {}, bodyPrefix: '', durationMs: 5 });
  const failure = (error: string): SendResult => ({ kind: 'error', error, durationMs: 5 });

  it('counts a 2xx as a delivery, with the time from the event\'s receipt to the answer', async () => {
    const { outcome, calls } = await attempt(answer(204));
    expect(outcome.kind).toBe('succeeded');
    expect(calls).toEqual([['deliverySucceeded', RECEIVED_MS]]);
  });

  it('counts a manual attempt\'s 2xx without a latency (its wait is whoever asked, not the pipeline)', async () => {
    const { calls } = await attempt(answer(200), { trigger: 'manual' });
    expect(calls).toEqual([['deliverySucceeded', undefined]]);
  });

  it.each([
    [answer(500), 'status'],
    [answer(410), 'status'],
    [failure('timeout: no answer within 10000 ms'), 'timeout'],
    [failure('connection refused'), 'refused'],
    [failure('TLS error: CERT_HAS_EXPIRED'), 'tls'],
    [failure('DNS lookup failed'), 'dns'],
    [failure('OAuth2 token endpoint answered HTTP 401'), 'other'],
  ] as const)('counts a failed attempt (%j) by its outcome class %s', async (result, outcome) => {
    const { calls } = await attempt(result);
    expect(calls).toEqual([['attemptFailed', outcome]]);
  });

  it('counts nothing for an attempt it does not make (a delivery already finished)', async () => {
    const { outcome, calls } = await attempt(answer(200), {}, delivery({ state: 'succeeded', attempts_started: 1, attempts_completed: 1 }));
    expect(outcome.kind).toBe('skipped');
    expect(calls).toEqual([]);
  });
});

describe('WebhookHealth metrics', () => {
  /** `mailer` undefined: no sender configured. */
  function setup(w: Webhook, mailer: Mailer | undefined) {
    const metrics = new RecordingMetrics();
    const health = new WebhookHealth({
      webhooks: new MemoryEmailWindowStore(w),
      tenants: new MemoryTenantOwners({ [TENANT]: 'tenant-owner@example.com' }),
      quota: new MemoryEmailQuota(EMAILS_PER_TENANT_PER_HOUR),
      mailer,
      clock: new FakeClock().clock,
      log: new RecordingLogger(),
      publicUrl: '',
      metrics,
    });
    return { health, metrics };
  }
  const input = (w: Webhook, cause: string) => ({ webhook: w, event: event(), attempts: [], cause });

  it('counts a webhook turning failing once, and the email sent about it', async () => {
    const w = webhook({ owner_email_verified: true });
    const h = setup(w, new RecordingMailer());
    await h.health.exhausted(input(w, 'dlv_1'));
    // Another delivery's exhaustion finds it failing already: no change, nothing counted.
    await h.health.exhausted(input(w, 'dlv_2'));
    expect(h.metrics.calls).toEqual([['webhookTurned', 'failing'], ['emailSent']]);
  });

  it('counts a webhook disabled by a 410, and the email sent about it', async () => {
    const w = webhook({ owner_email_verified: true, status: 'failing' });
    const h = setup(w, new RecordingMailer());
    await h.health.gone(input(w, 'dlv_1'));
    expect(h.metrics.calls).toEqual([['webhookTurned', 'disabled'], ['emailSent']]);
  });

  it('counts the change but no email when none could be sent (no sender, or the mailer failed)', async () => {
    for (const mailer of [undefined, failingMailer]) {
      const w = webhook({ owner_email_verified: true });
      const h = setup(w, mailer);
      await h.health.exhausted(input(w, 'dlv_1'));
      expect(h.metrics.calls).toEqual([['webhookTurned', 'failing']]);
    }
  });

  it('counts nothing when a failing webhook recovers', async () => {
    const w = webhook({ status: 'failing' });
    const h = setup(w, new RecordingMailer());
    await h.health.succeeded(w, 'dlv_1');
    expect(h.metrics.calls).toEqual([]);
  });
});

describe('OwnerEmailVerification metrics', () => {
  function setup(mailer: Mailer) {
    const metrics = new RecordingMetrics();
    const owners = new OwnerEmailVerification({
      webhooks: { get: async () => undefined, confirmOwnerEmail: async () => undefined },
      tenants: new MemoryTenantOwners({ [TENANT]: 'tenant-owner@example.com' }),
      quota: new MemoryEmailQuota(EMAILS_PER_TENANT_PER_HOUR),
      mailer,
      clock: new FakeClock().clock,
      log: new RecordingLogger(),
      publicUrl: '',
      metrics,
    });
    return { owners, metrics };
  }

  it('counts a verification email sent, and none for the tenant\'s own (trusted) address', async () => {
    const mailer = new RecordingMailer();
    const h = setup(mailer);
    await h.owners.sendVerification(await h.owners.initial(TENANT, 'wh_1', 'tenant-owner@example.com'), 'wh_1');
    expect(h.metrics.calls).toEqual([]);
    await h.owners.sendVerification(await h.owners.initial(TENANT, 'wh_2', 'someone@example.com'), 'wh_2');
    expect(mailer.sent.map((e: Email) => e.to)).toEqual(['someone@example.com']);
    expect(h.metrics.calls).toEqual([['emailSent']]);
  });

  it('counts no email when the mailer fails', async () => {
    const h = setup(failingMailer);
    await h.owners.sendVerification(await h.owners.initial(TENANT, 'wh_1', 'someone@example.com'), 'wh_1');
    expect(h.metrics.calls).toEqual([]);
  });
});
