import type { AttemptSummary } from '../../../shared/domain/deliveries.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import type { Email, Mailer } from '../../../shared/usecases/ports.ts';
import { WebhookHealth } from '../../../shared/usecases/webhook-health.ts';
import { event, FakeClock, MemoryWebhookStatusStore, RecordingLogger, RecordingMailer, T0, webhook } from './fakes.ts';

const SECRET_URL = 'https://alice:pa55w0rd@receiver.example.com/in/hooks?token=s3cr3t-t0ken&tenant=acme';

const attempts: AttemptSummary[] = [
  { attempt: 1, status_code: 500, error: 'receiver answered HTTP 500', attempted_at: '2025-06-01T12:00:00.000Z' },
  { attempt: 2, status_code: null, error: 'connection refused', attempted_at: '2025-06-01T12:00:30.000Z' },
  { attempt: 3, status_code: 503, error: 'receiver answered HTTP 503', attempted_at: '2025-06-01T12:02:30.000Z' },
];

function setup(hook: Webhook, ...maybeMailer: [Mailer | undefined] | []) {
  // No argument: a recording mailer; an explicit undefined: no mailer configured.
  const mailer = maybeMailer.length === 0 ? new RecordingMailer() : maybeMailer[0];
  const store = new MemoryWebhookStatusStore(hook);
  const log = new RecordingLogger();
  const clock = new FakeClock();
  const health = new WebhookHealth({ webhooks: store, mailer, clock: clock.clock, log, publicUrl: 'https://api.hookline.example' });
  return { health, store, log, mailer };
}

const input = (w: Webhook) => ({ webhook: w, event: event({ id: 'evt_42', event: 'alert.created' }), attempts });

describe('WebhookHealth.exhausted', () => {
  it('marks a healthy webhook failing and emails its owner once', async () => {
    const w = webhook();
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    expect(h.store.status(w)).toBe('failing');
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.to).toBe('owner@example.com');
    expect(mailer.sent[0]!.subject).toMatch(/failing/);
    expect(mailer.sent[0]!.subject).toContain(w.id);
  });

  it('10 concurrent exhausted calls send exactly one email', async () => {
    const w = webhook();
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await Promise.all(Array.from({ length: 10 }, () => h.health.exhausted(input(w))));
    expect(h.store.attempts).toBe(10);
    expect(h.store.writes).toBe(1);
    expect(h.store.status(w)).toBe('failing');
    expect(mailer.sent).toHaveLength(1);
  });

  it('a webhook already failing is not emailed again', async () => {
    const w = webhook({ status: 'failing' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    expect(mailer.sent).toHaveLength(0);
    expect(h.store.status(w)).toBe('failing');
  });

  it('a disabled webhook does not become failing', async () => {
    const w = webhook({ status: 'disabled' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    expect(h.store.status(w)).toBe('disabled');
    expect(mailer.sent).toHaveLength(0);
  });

  it('decides on the stored status, not on the (stale) copy it was given', async () => {
    const stored = webhook({ status: 'failing' });
    const mailer = new RecordingMailer();
    const h = setup(stored, mailer);
    await h.health.exhausted(input(webhook({ status: 'healthy' })));
    expect(mailer.sent).toHaveLength(0);
  });

  it('healthy -> failing -> healthy -> failing sends one email per change to failing', async () => {
    const w = webhook();
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    await h.health.succeeded(webhook({ status: 'failing' }));
    expect(h.store.status(w)).toBe('healthy');
    await h.health.exhausted(input(w));
    expect(mailer.sent).toHaveLength(2);
  });

  it('the email names the webhook, the masked URL, the event and one line per attempt', async () => {
    const w = webhook({ id: 'wh_77', url: SECRET_URL, description: 'Splunk HEC' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    const { subject, text } = mailer.sent[0]!;
    const all = subject + '\n' + text;

    for (const secret of ['pa55w0rd', 's3cr3t-t0ken', 'alice', 'acme']) expect(all).not.toContain(secret);
    expect(text).toContain('https://****@receiver.example.com/in/hooks?token=****&tenant=****');
    expect(subject).toContain('https://****@receiver.example.com/in/hooks?token=****&tenant=****');
    expect(text).toContain('wh_77');
    expect(text).toContain('Splunk HEC');
    expect(text).toContain('evt_42');
    expect(text).toContain('alert.created');
    expect(text).toContain('https://api.hookline.example/api/v1/integrations/webhooks/wh_77/deliveries');

    const lines = text.split('\n').filter((l) => /^\s+#\d+\s/.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('#1');
    expect(lines[0]).toContain('2025-06-01T12:00:00.000Z');
    expect(lines[0]).toContain('HTTP 500');
    expect(lines[1]).toContain('#2');
    expect(lines[1]).toContain('connection refused');
    expect(lines[2]).toContain('HTTP 503');
  });

  it('without a mailer: logs a warning, changes the status, does not throw', async () => {
    const w = webhook();
    const h = setup(w, undefined);
    await expect(h.health.exhausted(input(w))).resolves.toBeUndefined();
    expect(h.store.status(w)).toBe('failing');
    expect(h.log.warnings).toHaveLength(1);
    expect(h.log.warnings[0]!.extra).toMatchObject({ webhook_id: w.id, status: 'failing' });
    expect(h.log.errors).toHaveLength(0);
  });

  it('a webhook with no owner email: logs a warning, sends nothing', async () => {
    const w = webhook({ owner_email: '' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.exhausted(input(w));
    expect(mailer.sent).toHaveLength(0);
    expect(h.log.warnings).toHaveLength(1);
  });

  it('a mailer that throws: the error is logged, not thrown, and the status stays changed', async () => {
    const w = webhook();
    const broken: Mailer = {
      async send(_email: Email): Promise<void> {
        throw new Error('SES throttled');
      },
    };
    const h = setup(w, broken);
    await expect(h.health.exhausted(input(w))).resolves.toBeUndefined();
    expect(h.store.status(w)).toBe('failing');
    expect(h.log.errors).toHaveLength(1);
    expect(h.log.errors[0]!.extra).toMatchObject({ webhook_id: w.id, error: 'SES throttled' });
  });

  it('a store failure is not swallowed (the message is retried)', async () => {
    const w = webhook();
    const h = setup(w);
    h.store.transitionStatus = async () => {
      throw new Error('DynamoDB down');
    };
    await expect(h.health.exhausted(input(w))).rejects.toThrow('DynamoDB down');
  });
});

describe('WebhookHealth.succeeded', () => {
  it('sets a failing webhook healthy again, without email', async () => {
    const w = webhook({ status: 'failing' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.succeeded(w);
    expect(h.store.status(w)).toBe('healthy');
    expect(h.store.writes).toBe(1);
    expect(mailer.sent).toHaveLength(0);
  });

  it('writes nothing for a healthy webhook', async () => {
    const w = webhook({ status: 'healthy' });
    const h = setup(w);
    await h.health.succeeded(w);
    expect(h.store.attempts).toBe(0);
    expect(h.store.writes).toBe(0);
  });

  it('does not re-enable a disabled webhook', async () => {
    const w = webhook({ status: 'disabled' });
    const h = setup(w);
    await h.health.succeeded(webhook({ status: 'failing' }));
    expect(h.store.status(w)).toBe('disabled');
  });
});

describe('WebhookHealth.gone', () => {
  it('disables the webhook and sends one email with "disabled" in the subject', async () => {
    const w = webhook({ url: SECRET_URL });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    const gone = [{ attempt: 1, status_code: 410, error: 'receiver answered HTTP 410', attempted_at: T0.toISOString() }];
    await h.health.gone({ webhook: w, event: event(), attempts: gone });
    expect(h.store.status(w)).toBe('disabled');
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.subject).toMatch(/disabled/);
    expect(mailer.sent[0]!.subject).toContain('410');
    expect(mailer.sent[0]!.to).toBe('owner@example.com');
    expect(mailer.sent[0]!.subject + mailer.sent[0]!.text).not.toContain('s3cr3t-t0ken');
  });

  it('disables a failing webhook too', async () => {
    const w = webhook({ status: 'failing' });
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await h.health.gone(input(w));
    expect(h.store.status(w)).toBe('disabled');
    expect(mailer.sent).toHaveLength(1);
  });

  it('concurrent gone calls email once; an already disabled webhook is not emailed', async () => {
    const w = webhook();
    const mailer = new RecordingMailer();
    const h = setup(w, mailer);
    await Promise.all(Array.from({ length: 5 }, () => h.health.gone(input(w))));
    await h.health.gone(input(webhook({ status: 'disabled' })));
    expect(mailer.sent).toHaveLength(1);
  });

  it('without a mailer: a warning, no throw', async () => {
    const w = webhook();
    const h = setup(w, undefined);
    await expect(h.health.gone(input(w))).resolves.toBeUndefined();
    expect(h.store.status(w)).toBe('disabled');
    expect(h.log.warnings).toHaveLength(1);
  });
});
