import type { AttemptSummary } from '../../../shared/domain/deliveries.ts';
import { EMAIL_WINDOW_MS, EMAILS_PER_TENANT_PER_HOUR, MAX_UNSENT_CHANGES } from '../../../shared/domain/notifications.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import type { Email, Mailer } from '../../../shared/usecases/ports.ts';
import { WebhookHealth } from '../../../shared/usecases/webhook-health.ts';
import { MemoryEmailQuota, MemoryEmailWindowStore, MemoryTenantOwners } from './email-fakes.ts';
import { event, FakeClock, RecordingLogger, RecordingMailer, T0, TENANT, webhook } from './fakes.ts';

const SECRET_URL = 'https://alice:pa55w0rd@receiver.example.com/in/hooks?token=s3cr3t-t0ken&tenant=acme';
/** The tenant's own address, set by the platform team (trusted). */
const TENANT_OWNER = 'tenant-owner@example.com';
const OTHER_TENANT = 'ten_B';
const HOUR = EMAIL_WINDOW_MS;

const attempts: AttemptSummary[] = [
  { attempt: 1, status_code: 500, error: 'receiver answered HTTP 500', attempted_at: '2025-06-01T12:00:00.000Z' },
  { attempt: 2, status_code: null, error: 'connection refused', attempted_at: '2025-06-01T12:00:30.000Z' },
  { attempt: 3, status_code: 503, error: 'receiver answered HTTP 503', attempted_at: '2025-06-01T12:02:30.000Z' },
];

/** A webhook whose owner address is verified (the default of these tests). */
const verified = (overrides: Partial<Webhook> = {}) => webhook({ owner_email_verified: true, ...overrides });

function setup(hooks: Webhook | Webhook[], ...maybeMailer: [Mailer | undefined] | []) {
  // No argument: a recording mailer; an explicit undefined: no mailer configured.
  const mailer = maybeMailer.length === 0 ? new RecordingMailer() : maybeMailer[0];
  const store = new MemoryEmailWindowStore(...[hooks].flat());
  const log = new RecordingLogger();
  const clock = new FakeClock();
  const quota = new MemoryEmailQuota(EMAILS_PER_TENANT_PER_HOUR);
  const tenants = new MemoryTenantOwners({ [TENANT]: TENANT_OWNER, [OTHER_TENANT]: 'b-owner@example.com' });
  const health = new WebhookHealth({ webhooks: store, tenants, quota, mailer, clock: clock.clock, log, publicUrl: 'https://api.hookline.example' });
  return { health, store, log, mailer, clock, quota };
}

// Each call is another delivery's outcome unless a test names the cause.
let deliveries = 0;
const input = (w: Webhook, cause = `dlv_${++deliveries}`) => ({ webhook: w, event: event({ id: 'evt_42', event: 'alert.created' }), attempts, cause });
const sentOf = (mailer: Mailer | undefined) => (mailer as RecordingMailer).sent;

describe('WebhookHealth.exhausted', () => {
  it('marks a healthy webhook failing and emails its owner once', async () => {
    const w = verified();
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(h.store.status(w)).toBe('failing');
    expect(sentOf(h.mailer)).toHaveLength(1);
    expect(sentOf(h.mailer)[0]!.to).toBe('owner@example.com');
    expect(sentOf(h.mailer)[0]!.subject).toBe(`Hookline: webhook ${w.id} is failing`);
  });

  it('10 concurrent exhausted calls send exactly one email', async () => {
    const w = verified();
    const h = setup(w);
    await Promise.all(Array.from({ length: 10 }, () => h.health.exhausted(input(w))));
    expect(h.store.attempts).toBe(10);
    expect(h.store.writes).toBe(1);
    expect(h.store.status(w)).toBe('failing');
    expect(sentOf(h.mailer)).toHaveLength(1);
  });

  it('a webhook already failing is not emailed again', async () => {
    const w = verified({ status: 'failing' });
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(sentOf(h.mailer)).toHaveLength(0);
    expect(h.store.status(w)).toBe('failing');
  });

  it('a disabled webhook does not become failing', async () => {
    const w = verified({ status: 'disabled' });
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(h.store.status(w)).toBe('disabled');
    expect(sentOf(h.mailer)).toHaveLength(0);
  });

  it('decides on the stored status, not on the (stale) copy it was given', async () => {
    const stored = verified({ status: 'failing' });
    const h = setup(stored);
    await h.health.exhausted(input(verified({ status: 'healthy' })));
    expect(sentOf(h.mailer)).toHaveLength(0);
  });

  it('the email shows the receiver by its origin only, never its path, query or credentials', async () => {
    const w = verified({ id: 'wh_77', url: SECRET_URL, description: 'Splunk HEC' });
    const h = setup(w);
    await h.health.exhausted(input(w));
    const { subject, text } = sentOf(h.mailer)[0]!;
    const all = subject + '\n' + text;

    for (const hidden of ['pa55w0rd', 's3cr3t-t0ken', 'alice', 'acme', '/in/hooks', 'token=']) expect(all).not.toContain(hidden);
    expect(subject).toBe('Hookline: webhook wh_77 is failing');
    expect(text).toContain('https://receiver.example.com (path not shown)');
    expect(text).toContain('wh_77');
    expect(text).toContain('"Splunk HEC"');
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

  it('without a mailer: logs a warning, changes the status, touches no email window, does not throw', async () => {
    const w = verified();
    const h = setup(w, undefined);
    await expect(h.health.exhausted(input(w))).resolves.toBeUndefined();
    expect(h.store.status(w)).toBe('failing');
    expect(h.store.row(w)!.last_email_at).toBeUndefined();
    expect(h.log.warnings).toHaveLength(1);
    expect(h.log.warnings[0]!.extra).toMatchObject({ webhook_id: w.id, status: 'failing' });
    expect(h.log.errors).toHaveLength(0);
  });

  it('a webhook of a tenant without any owner address: logs a warning, sends nothing', async () => {
    const w = webhook({ tenant_id: 'ten_unknown', owner_email: '' });
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(sentOf(h.mailer)).toHaveLength(0);
    expect(h.log.warnings).toHaveLength(1);
  });

  it('a mailer that throws: the error is logged, not thrown, and the status stays changed', async () => {
    const w = verified();
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
    const w = verified();
    const h = setup(w);
    h.store.transitionStatus = async () => {
      throw new Error('DynamoDB down');
    };
    await expect(h.health.exhausted(input(w))).rejects.toThrow('DynamoDB down');
  });
});

describe('who is emailed (double opt-in)', () => {
  it('an unverified owner address gets nothing: the email goes to the tenant\'s own address, saying why', async () => {
    const w = webhook({ owner_email: 'stranger@victim.example', owner_email_verified: false });
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(sentOf(h.mailer).map((e) => e.to)).toEqual([TENANT_OWNER]);
    expect(sentOf(h.mailer)[0]!.text).toMatch(/has not been verified yet/);
  });

  it('a row of before verification (no flag) counts as unverified', async () => {
    const w = webhook({ owner_email: 'stranger@victim.example' });
    const h = setup(w);
    await h.health.gone(input(w));
    expect(sentOf(h.mailer).map((e) => e.to)).toEqual([TENANT_OWNER]);
  });

  it('a verified owner address receives the email, without the note', async () => {
    const w = verified({ owner_email: 'team@customer.example' });
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(sentOf(h.mailer).map((e) => e.to)).toEqual(['team@customer.example']);
    expect(sentOf(h.mailer)[0]!.text).not.toMatch(/not been verified/);
  });
});

describe('one email an hour per webhook', () => {
  it('the first change is emailed at once; a second change within the hour is kept and summed up in the next email after it', async () => {
    const w = verified();
    const h = setup(w);
    await h.health.exhausted(input(w));
    expect(sentOf(h.mailer)).toHaveLength(1);

    // 10 minutes later: healthy again, then failing again. Not emailed, but recorded.
    h.clock.advance(10 * 60_000);
    await h.health.succeeded(verified({ status: 'failing' }), `dlv_${++deliveries}`);
    await h.health.exhausted(input(w));
    expect(h.store.status(w)).toBe('failing');
    expect(sentOf(h.mailer)).toHaveLength(1);
    const heldAt = h.clock.now.toISOString();
    expect(h.store.row(w)!.unsent_changes).toEqual([{ status: 'failing', at: heldAt }]);

    // Past the hour, the next change is emailed and names the one held back.
    h.clock.advance(HOUR);
    await h.health.gone(input(w));
    expect(sentOf(h.mailer)).toHaveLength(2);
    const next = sentOf(h.mailer)[1]!;
    expect(next.subject).toBe(`Hookline: webhook ${w.id} was disabled (410 Gone)`);
    expect(next.text).toContain('Since the last email: 1 more status change(s)');
    expect(next.text).toContain(`  - failing at ${heldAt}`);
    expect(h.store.row(w)!.unsent_changes).toBeUndefined();
    expect(h.store.row(w)!.unsent_count).toBeUndefined();
  });

  it('the 410 / PATCH active:true loop sends one email an hour, the rest bounded in the summary', async () => {
    const w = verified();
    const h = setup(w);
    for (let i = 0; i < 3 + MAX_UNSENT_CHANGES; i++) {
      await h.health.gone(input(w));
      // PATCH {"active": true} sets the status back to healthy (ManageWebhooks.update).
      h.store.items.set(`${w.tenant_id}/${w.id}`, { ...h.store.row(w)!, status: 'healthy' });
      h.clock.advance(1_000);
    }
    expect(sentOf(h.mailer)).toHaveLength(1);
    expect(h.store.row(w)!.unsent_count).toBe(2 + MAX_UNSENT_CHANGES);
    expect(h.store.row(w)!.unsent_changes).toHaveLength(MAX_UNSENT_CHANGES);

    h.clock.advance(HOUR);
    await h.health.gone(input(w));
    expect(sentOf(h.mailer)).toHaveLength(2);
    const summary = sentOf(h.mailer)[1]!.text;
    expect(summary).toContain(`Since the last email: ${2 + MAX_UNSENT_CHANGES} more status change(s)`);
    expect(summary.split('\n').filter((l) => l.startsWith('  - disabled at '))).toHaveLength(MAX_UNSENT_CHANGES);
    expect(summary).toContain('  - and 2 more');
  });

  it('concurrent changes of one webhook in a fresh window: exactly one is emailed, the other kept', async () => {
    const w = verified();
    const h = setup(w);
    h.store.transitionStatus = async (_t, _id, _from, to, at) => ({ ...verified(), status: to, updated_at: at.toISOString() });
    await Promise.all([h.health.exhausted(input(w)), h.health.exhausted(input(w))]);
    expect(sentOf(h.mailer)).toHaveLength(1);
    expect(h.store.row(w)!.unsent_count).toBe(1);
  });

  it('disabled within the hour of a failing email is emailed too (it is final: no later email would tell); a second one in the hour is kept', async () => {
    const w = verified();
    const h = setup(w);
    h.store.transitionStatus = async (_t, _id, _from, to, at) => ({ ...verified(), status: to, updated_at: at.toISOString() });
    await h.health.exhausted(input(w));
    h.clock.advance(600_000);
    await h.health.gone(input(w));
    expect(sentOf(h.mailer).map((e) => e.subject)).toEqual([expect.stringMatching(/is failing/), expect.stringMatching(/disabled/)]);
    h.clock.advance(600_000);
    await h.health.gone(input(w));
    expect(sentOf(h.mailer)).toHaveLength(2);
    expect(h.store.row(w)!.unsent_count).toBe(1);
  });
});

describe('20 emails an hour per tenant', () => {
  const many = (n: number, tenant = TENANT) =>
    Array.from({ length: n }, (_, i) => verified({ tenant_id: tenant, id: `wh_${String(i).padStart(26, '0')}` }));

  it('25 webhooks of one tenant failing in one hour: 20 emails, the other 5 changes kept for later; another tenant is not affected', async () => {
    const hooks = many(25);
    const other = verified({ tenant_id: OTHER_TENANT, owner_email: 'b-owner@example.com' });
    const h = setup([...hooks, other]);
    await Promise.all(hooks.map((w) => h.health.exhausted(input(w))));
    expect(hooks.every((w) => h.store.status(w) === 'failing')).toBe(true);
    expect(sentOf(h.mailer)).toHaveLength(EMAILS_PER_TENANT_PER_HOUR);
    const unsent = hooks.filter((w) => h.store.row(w)!.unsent_count === 1);
    expect(unsent).toHaveLength(25 - EMAILS_PER_TENANT_PER_HOUR);
    expect(h.log.warnings.filter((w) => /emails of this hour are spent/.test(w.message))).toHaveLength(5);

    await h.health.exhausted(input(other));
    expect(sentOf(h.mailer).filter((e) => e.to === 'b-owner@example.com')).toHaveLength(1);

    // The next hour: one of the 5 changes again; its email sums up the one that was not sent.
    h.clock.advance(HOUR);
    const late = unsent[0]!;
    h.store.items.set(`${late.tenant_id}/${late.id}`, { ...h.store.row(late)!, status: 'healthy' });
    await h.health.gone(input(late));
    expect(sentOf(h.mailer)).toHaveLength(EMAILS_PER_TENANT_PER_HOUR + 2);
    expect(sentOf(h.mailer).at(-1)!.text).toContain('Since the last email: 1 more status change(s)');
  });
});

describe('WebhookHealth.succeeded', () => {
  it('sets a failing webhook healthy again, without email', async () => {
    const w = verified({ status: 'failing' });
    const h = setup(w);
    await h.health.succeeded(w, `dlv_${++deliveries}`);
    expect(h.store.status(w)).toBe('healthy');
    expect(h.store.writes).toBe(1);
    expect(sentOf(h.mailer)).toHaveLength(0);
  });

  it('writes nothing for a healthy webhook', async () => {
    const w = verified({ status: 'healthy' });
    const h = setup(w);
    await h.health.succeeded(w, `dlv_${++deliveries}`);
    expect(h.store.attempts).toBe(0);
    expect(h.store.writes).toBe(0);
  });

  it('does not re-enable a disabled webhook', async () => {
    const w = verified({ status: 'disabled' });
    const h = setup(w);
    await h.health.succeeded(verified({ status: 'failing' }), `dlv_${++deliveries}`);
    expect(h.store.status(w)).toBe('disabled');
  });
});

describe('WebhookHealth, a step redone for the same cause', () => {
  it('counts its own change as made and owes its email; another cause does not', async () => {
    const w = verified();
    const h = setup(w);
    const claim = h.store.claimEmail.bind(h.store);
    let failOnce = true;
    // The store fails after the status changed, before the email was claimed: the step throws.
    h.store.claimEmail = async (...args) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('ProvisionedThroughputExceeded');
      }
      return claim(...args);
    };
    await expect(h.health.exhausted(input(w, 'dlv_A'))).rejects.toThrow('ProvisionedThroughputExceeded');
    expect(h.store.status(w)).toBe('failing');
    expect(sentOf(h.mailer)).toHaveLength(0);
    // Another delivery exhausting now is no change: no email.
    await h.health.exhausted(input(w, 'dlv_B'));
    expect(sentOf(h.mailer)).toHaveLength(0);
    // The first one's step, redone (its message came back), is: the email goes out once.
    await h.health.exhausted(input(w, 'dlv_A'));
    await h.health.exhausted(input(w, 'dlv_A'));
    expect(sentOf(h.mailer)).toHaveLength(1);
    expect(sentOf(h.mailer)[0]!.subject).toBe(`Hookline: webhook ${w.id} is failing`);
  });
});

describe('WebhookHealth.gone', () => {
  it('disables the webhook and sends one email with "disabled" and 410 in the subject, no URL', async () => {
    const w = verified({ url: SECRET_URL });
    const h = setup(w);
    const gone = [{ attempt: 1, status_code: 410, error: 'receiver answered HTTP 410', attempted_at: T0.toISOString() }];
    await h.health.gone({ webhook: w, event: event(), attempts: gone, cause: 'dlv_gone' });
    expect(h.store.status(w)).toBe('disabled');
    expect(sentOf(h.mailer)).toHaveLength(1);
    expect(sentOf(h.mailer)[0]!.subject).toBe(`Hookline: webhook ${w.id} was disabled (410 Gone)`);
    expect(sentOf(h.mailer)[0]!.to).toBe('owner@example.com');
    expect(sentOf(h.mailer)[0]!.subject + sentOf(h.mailer)[0]!.text).not.toMatch(/s3cr3t-t0ken|\/in\/hooks/);
  });

  it('disables a failing webhook too', async () => {
    const w = verified({ status: 'failing' });
    const h = setup(w);
    await h.health.gone(input(w));
    expect(h.store.status(w)).toBe('disabled');
    expect(sentOf(h.mailer)).toHaveLength(1);
  });

  it('concurrent gone calls email once; an already disabled webhook is not emailed', async () => {
    const w = verified();
    const h = setup(w);
    await Promise.all(Array.from({ length: 5 }, () => h.health.gone(input(w))));
    await h.health.gone(input(verified({ status: 'disabled' })));
    expect(sentOf(h.mailer)).toHaveLength(1);
  });

  it('without a mailer: a warning, no throw', async () => {
    const w = verified();
    const h = setup(w, undefined);
    await expect(h.health.gone(input(w))).resolves.toBeUndefined();
    expect(h.store.status(w)).toBe('disabled');
    expect(h.log.warnings).toHaveLength(1);
  });
});
