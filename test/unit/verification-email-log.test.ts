/**
 * The log line that counts a verification email in `EmailsSent` on AWS (the webhooks API has no
 * EMF recorder; a metric filter on its log group counts this line, see test/infra/log-metrics.test.ts):
 * written once for each email sent, through the functions' own JSON logger, and never otherwise.
 */
import { EMAILS_PER_TENANT_PER_HOUR } from '../../shared/domain/notifications.ts';
import { JsonLogger } from '../../shared/logging.ts';
import { OwnerEmailVerification, VERIFICATION_SENT_MESSAGE } from '../../shared/usecases/owner-email.ts';
import type { Mailer } from '../../shared/usecases/ports.ts';
import { MemoryEmailQuota, MemoryTenantOwners } from './usecases/email-fakes.ts';
import { FakeClock, RecordingMailer, TENANT } from './usecases/fakes.ts';

const OWN = 'ops@tenant.example';

function setup(mailer: Mailer | undefined) {
  const lines: Record<string, unknown>[] = [];
  const log = new JsonLogger({ service: 'hookline-webhooks-api', env: {}, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const owners = new OwnerEmailVerification({
    webhooks: { get: async () => undefined, confirmOwnerEmail: async () => undefined },
    tenants: new MemoryTenantOwners({ [TENANT]: OWN }),
    quota: new MemoryEmailQuota(EMAILS_PER_TENANT_PER_HOUR),
    mailer,
    clock: new FakeClock().clock,
    log,
    publicUrl: 'https://hooks.example',
  });
  const setOwner = async (webhookId: string, address: string) => owners.sendVerification(await owners.initial(TENANT, webhookId, address), webhookId);
  const counted = () => lines.filter((l) => l['message'] === VERIFICATION_SENT_MESSAGE);
  return { lines, setOwner, counted };
}

describe('the log line of a verification email sent', () => {
  it('is one INFO line per email, naming the webhook', async () => {
    const mailer = new RecordingMailer();
    const h = setup(mailer);
    await h.setOwner('wh_1', 'someone@example.com');
    await h.setOwner('wh_2', 'someone-else@example.com');
    expect(mailer.sent.map((e) => e.to)).toEqual(['someone@example.com', 'someone-else@example.com']);
    expect(h.counted()).toEqual([
      expect.objectContaining({ level: 'INFO', message: VERIFICATION_SENT_MESSAGE, service: 'hookline-webhooks-api', webhook_id: 'wh_1' }),
      expect.objectContaining({ level: 'INFO', message: VERIFICATION_SENT_MESSAGE, webhook_id: 'wh_2' }),
    ]);
  });

  it('is not written for the tenant\'s own (trusted) address, which gets no email', async () => {
    const mailer = new RecordingMailer();
    const h = setup(mailer);
    await h.setOwner('wh_1', 'OPS@tenant.example');
    expect(mailer.sent).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('is not written when SES refuses the email: an ERROR line instead', async () => {
    const h = setup({
      send: async () => {
        throw new Error('SES throttled');
      },
    });
    await h.setOwner('wh_1', 'someone@example.com');
    expect(h.counted()).toEqual([]);
    expect(h.lines).toEqual([expect.objectContaining({ level: 'ERROR', message: 'could not send the owner email verification', webhook_id: 'wh_1' })]);
  });

  it('is not written when no sender is configured: a WARN line instead', async () => {
    const h = setup(undefined);
    await h.setOwner('wh_1', 'someone@example.com');
    expect(h.counted()).toEqual([]);
    expect(h.lines).toEqual([expect.objectContaining({ level: 'WARN', webhook_id: 'wh_1' })]);
  });
});
