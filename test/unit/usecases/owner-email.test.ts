import { EMAILS_PER_TENANT_PER_HOUR } from '../../../shared/domain/notifications.ts';
import { hashToken, newVerificationToken, VERIFICATION_TTL_MS } from '../../../shared/domain/owner-email.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import { HooklineError } from '../../../shared/errors.ts';
import { OwnerEmailVerification, type OwnerEmailChange, type OwnerEmailStore } from '../../../shared/usecases/owner-email.ts';
import { MemoryEmailQuota, MemoryTenantOwners } from './email-fakes.ts';
import { FakeClock, RecordingLogger, RecordingMailer, TENANT, webhook } from './fakes.ts';

const OWN = 'Ops@Tenant.example';
const STRANGER = 'stranger@victim.example';
const LINK_BASE = 'https://hooks.example/api/v1/email-verifications/';

/** Webhook rows with DynamoWebhookStore.confirmOwnerEmail's condition; `apply` is what update() would write. */
class MemoryOwnerEmailStore implements OwnerEmailStore {
  readonly rows = new Map<string, Webhook>();
  put(w: Webhook): void {
    this.rows.set(`${w.tenant_id}/${w.id}`, w);
  }
  apply(w: Webhook, change: OwnerEmailChange | undefined): Webhook {
    const row: Record<string, unknown> = { ...this.rows.get(`${w.tenant_id}/${w.id}`)!, ...change?.fields };
    for (const field of change?.remove ?? []) delete row[field];
    this.put(row as unknown as Webhook);
    return row as unknown as Webhook;
  }
  async get(tenantId: string, webhookId: string) {
    return this.rows.get(`${tenantId}/${webhookId}`);
  }
  async confirmOwnerEmail(tenantId: string, webhookId: string, tokenHash: string, now: Date) {
    const w = this.rows.get(`${tenantId}/${webhookId}`);
    if (!w || w.owner_email_token_hash !== tokenHash || !(w.owner_email_token_expires_at! > now.toISOString())) return undefined;
    const { owner_email_token_hash: _h, owner_email_token_expires_at: _e, ...rest } = w;
    const verified = { ...rest, owner_email_verified: true };
    this.put(verified);
    return verified;
  }
}

function setup(options: { mailer?: boolean } = {}) {
  const store = new MemoryOwnerEmailStore();
  const mailer = new RecordingMailer();
  const quota = new MemoryEmailQuota(EMAILS_PER_TENANT_PER_HOUR);
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const owners = new OwnerEmailVerification({
    webhooks: store,
    tenants: new MemoryTenantOwners({ [TENANT]: OWN }),
    quota,
    mailer: options.mailer === false ? undefined : mailer,
    clock: clock.clock,
    log,
    publicUrl: 'https://hooks.example',
  });
  /** A webhook created with `requested` as its owner_email, stored, its verification sent. */
  const create = async (requested: string | undefined, description = 'Reset your password at https://evil.example/reset') => {
    const w = webhook({ description });
    const change = await owners.initial(TENANT, w.id, requested);
    store.put({ ...w, ...change.fields });
    await owners.sendVerification(change, w.id);
    return { webhook: store.rows.get(`${TENANT}/${w.id}`)!, change };
  };
  const tokenOf = (i: number) => mailer.sent[i]!.text.match(/https:\/\/hooks\.example\/api\/v1\/email-verifications\/(\S+)/)![1]!;
  return { store, mailer, quota, clock, log, owners, create, tokenOf };
}

const status = (err: unknown) => (err instanceof HooklineError ? err.statusCode : err);

describe('a new webhook\'s owner address', () => {
  it('absent: the tenant\'s own address, trusted at once, no email', async () => {
    const h = setup();
    const { webhook: w } = await h.create(undefined);
    expect(w).toMatchObject({ owner_email: OWN, owner_email_verified: true });
    expect(w.owner_email_token_hash).toBeUndefined();
    expect(h.mailer.sent).toHaveLength(0);
    expect(h.quota.counts.size).toBe(0);
  });

  it('the tenant\'s own address in another spelling: trusted, no email', async () => {
    const h = setup();
    const { webhook: w } = await h.create('ops@tenant.EXAMPLE');
    expect(w.owner_email_verified).toBe(true);
    expect(h.mailer.sent).toHaveLength(0);
  });

  it('another address: stored unverified with the token\'s hash only, and one verification email with nothing the tenant wrote', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    expect(w).toMatchObject({ owner_email: STRANGER, owner_email_verified: false });
    expect(h.mailer.sent).toHaveLength(1);
    const email = h.mailer.sent[0]!;
    expect(email.to).toBe(STRANGER);
    const token = h.tokenOf(0);
    expect(w.owner_email_token_hash).toBe(hashToken(token));
    expect(JSON.stringify(w)).not.toContain(token);
    expect(Date.parse(w.owner_email_token_expires_at!) - h.clock.now.getTime()).toBe(VERIFICATION_TTL_MS);
    // Only Hookline's words, the webhook's id and the link: no description, URL, tenant or event.
    for (const tenantText of ['Reset your password', 'evil.example', w.url, 'receiver.example.com', TENANT, OWN]) {
      expect(email.subject + email.text).not.toContain(tenantText);
    }
    expect(email.text).toContain(`${LINK_BASE}${token}`);
  });

  it('counts against the tenant\'s email budget: past it, 429 before anything is written', async () => {
    const h = setup();
    for (let i = 0; i < EMAILS_PER_TENANT_PER_HOUR; i++) await h.create(`someone-${i}@example.com`);
    expect(h.mailer.sent).toHaveLength(EMAILS_PER_TENANT_PER_HOUR);
    const err = await h.owners.initial(TENANT, webhook().id, 'one-more@example.com').catch((e: unknown) => e);
    expect(status(err)).toBe(429);
    expect((err as Error).message).toMatch(/nothing was changed/);
    expect(h.mailer.sent).toHaveLength(EMAILS_PER_TENANT_PER_HOUR);
    // The tenant's own address needs no email and still works; the next hour the budget is back.
    await expect(h.owners.initial(TENANT, webhook().id, undefined)).resolves.toMatchObject({ fields: { owner_email_verified: true } });
    h.clock.advance(3_600_000);
    await expect(h.owners.initial(TENANT, webhook().id, 'one-more@example.com')).resolves.toMatchObject({ fields: { owner_email_verified: false } });
  });

  it('without a sender configured: stored unverified, a warning, no token', async () => {
    const h = setup({ mailer: false });
    const { webhook: w } = await h.create(STRANGER);
    expect(w).toMatchObject({ owner_email: STRANGER, owner_email_verified: false });
    expect(w.owner_email_token_hash).toBeUndefined();
    expect(h.log.warnings).toHaveLength(1);
  });
});

describe('the verification link', () => {
  it('verifies the address once: a second use is 404', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    const token = h.tokenOf(0);
    await expect(h.owners.confirm(token)).resolves.toEqual({ webhook_id: w.id, owner_email: STRANGER, owner_email_verified: true });
    const row = h.store.rows.get(`${TENANT}/${w.id}`)!;
    expect(row.owner_email_verified).toBe(true);
    expect(row.owner_email_token_hash).toBeUndefined();
    expect(status(await h.owners.confirm(token).catch((e: unknown) => e))).toBe(404);
  });

  it('forged, malformed or foreign tokens are 404 and change nothing', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    const before = structuredClone(h.store.rows.get(`${TENANT}/${w.id}`));
    const forged = newVerificationToken(TENANT, w.id).token; // right tenant and webhook, wrong random part
    const otherTenant = h.tokenOf(0).replace(/^ev1\.[^.]+\./, `ev1.${Buffer.from('ten_B').toString('base64url')}.`);
    const noWebhook = `ev1.${Buffer.from(TENANT).toString('base64url')}..${'a'.repeat(43)}`;
    for (const token of [forged, otherTenant, noWebhook, 'x', '', 'ev1...', `${h.tokenOf(0)}x`, 'ev1.%%%.wh_1.' + 'a'.repeat(43)]) {
      expect({ token, status: status(await h.owners.confirm(token).catch((e: unknown) => e)) }).toEqual({ token, status: 404 });
    }
    expect(h.store.rows.get(`${TENANT}/${w.id}`)).toEqual(before);
  });

  it('an expired link is 410 and changes nothing', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    h.clock.advance(VERIFICATION_TTL_MS);
    expect(status(await h.owners.confirm(h.tokenOf(0)).catch((e: unknown) => e))).toBe(410);
    expect(h.store.rows.get(`${TENANT}/${w.id}`)!.owner_email_verified).toBe(false);
  });
});

describe('changing the owner address (PATCH)', () => {
  it('a new address resets verification: the old link dies, a new one is sent', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    await h.owners.confirm(h.tokenOf(0));
    const verified = h.store.rows.get(`${TENANT}/${w.id}`)!;

    const change = await h.owners.change(TENANT, verified, 'someone-else@example.com');
    const row = h.store.apply(verified, change);
    await h.owners.sendVerification(change, w.id);
    expect(row).toMatchObject({ owner_email: 'someone-else@example.com', owner_email_verified: false });
    expect(h.mailer.sent.map((e) => e.to)).toEqual([STRANGER, 'someone-else@example.com']);
    expect(status(await h.owners.confirm(h.tokenOf(0)).catch((e: unknown) => e))).toBe(404);
    await expect(h.owners.confirm(h.tokenOf(1))).resolves.toMatchObject({ owner_email: 'someone-else@example.com' });
  });

  it('an unverified address set again sends a new link and retires the old one', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    const change = await h.owners.change(TENANT, w, STRANGER);
    h.store.apply(w, change);
    await h.owners.sendVerification(change, w.id);
    expect(h.mailer.sent).toHaveLength(2);
    expect(status(await h.owners.confirm(h.tokenOf(0)).catch((e: unknown) => e))).toBe(404);
    await expect(h.owners.confirm(h.tokenOf(1))).resolves.toMatchObject({ owner_email_verified: true });
  });

  it('the same verified address again changes nothing and sends nothing', async () => {
    const h = setup();
    const { webhook: w } = await h.create(undefined);
    await expect(h.owners.change(TENANT, w, OWN.toLowerCase())).resolves.toBeUndefined();
    expect(h.mailer.sent).toHaveLength(0);
  });

  it('back to the tenant\'s own address: verified at once, the pending token removed', async () => {
    const h = setup();
    const { webhook: w } = await h.create(STRANGER);
    const change = await h.owners.change(TENANT, w, OWN);
    const row = h.store.apply(w, change);
    expect(row).toMatchObject({ owner_email: OWN, owner_email_verified: true });
    expect(row.owner_email_token_hash).toBeUndefined();
    expect(status(await h.owners.confirm(h.tokenOf(0)).catch((e: unknown) => e))).toBe(404);
    expect(h.mailer.sent).toHaveLength(1);
  });
});
