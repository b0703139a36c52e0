/**
 * The owner email is no spam or phishing relay (issue 8, CONTRACT.md section 6), on the
 * one-machine runtime: a stranger's address gets only a verification email with nothing the
 * tenant wrote; failure emails go to the tenant's own address until the link is opened, at most
 * one an hour per webhook, with the description bounded and quoted and no URL path.
 */
import { EMAILS_PER_TENANT_PER_HOUR } from '../../shared/domain/notifications.ts';
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import { createWebhook, publish, waitForStatus } from '../support/ladder.ts';
import { readOutbox, type OutboxEmail } from '../support/outbox.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, eventually, startRuntime, type Runtime } from '../support/runtime.ts';

const STRANGER = 'stranger@victim.example';
const PHISHING_PATH = '/reset-your-password/account-locked';
const PHISHING =
  'URGENT: your bank account is locked.\r\nCall +1-555-0100 or log in at https://evil.example/login\n\n' + 'Act now before it is too late. '.repeat(40);

let rt: Runtime;
const receivers: Receiver[] = [];

async function receiver(status: number): Promise<Receiver> {
  const r = await startReceiver({ status });
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  // One attempt: a failed delivery makes its webhook failing at once.
  rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: '0' } });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

/** The first email to `to` whose subject or text mentions `needle`, once it is in the outbox. */
const emailTo = (to: string, needle: string): Promise<OutboxEmail> =>
  eventually(
    `an email to ${to} about ${needle}`,
    async () => (await readOutbox(rt.dataDir)).find((e) => e.to === to && (e.subject + e.text).includes(needle)),
    15_000,
  );

/** The verification link of an email, as the path to GET on the runtime. */
function linkPath(email: OutboxEmail): string {
  const link = /(http:\/\/\S+\/api\/v1\/email-verifications\/\S+)/.exec(email.text)?.[1];
  if (!link) throw new Error(`no verification link in:\n${email.text}`);
  expect(link.startsWith(rt.baseUrl)).toBe(true);
  return new URL(link).pathname;
}

describe('the attack of issue 8: a stranger as owner_email, a phishing description, 410 and PATCH active:true in a loop', () => {
  it('the stranger gets only a verification email; the tenant gets one failure email, bounded and without the URL path', async () => {
    const name = `relay-${Date.now()}`;
    const tenant = await createTenant(rt, name);
    const own = `${name}@example.com`;
    const gone = await receiver(410);
    const created = await tenant.api.post(WEBHOOKS, {
      url: `${gone.url}${PHISHING_PATH}?user=victim`,
      events: ['scan.completed'],
      owner_email: STRANGER,
      description: PHISHING.slice(0, 1000),
    });
    expect(created.status).toBe(201);
    const hook = created.json;
    expect(hook).toMatchObject({ owner_email: STRANGER, owner_email_verified: false });

    // The stranger's verification email: Hookline's words and the link, nothing the tenant wrote.
    const verification = await emailTo(STRANGER, hook.id);
    // Hookline's own random and numeric parts (the link's token, ids, times) may hold '555' or
    // the port's digits by chance: they are taken out before looking for the tenant's text.
    const hooklineParts = [/http:\/\/\S+\/api\/v1\/email-verifications\/\S+/g, /\b(wh|ten|evt|dlv)_\w+/g, /\d{4}-\d{2}-\d{2}T[\d:.]+Z/g];
    const scanned = hooklineParts.reduce((text, part) => text.replace(part, '<hookline>'), verification.subject + '\n' + verification.text);
    for (const tenantText of ['URGENT', 'bank', 'evil.example', '555', 'Act now', PHISHING_PATH, 'victim', String(new URL(gone.url).port)]) {
      expect({ tenantText, found: scanned.includes(tenantText) }).toEqual({ tenantText, found: false });
    }
    linkPath(verification);

    // The loop: every event is answered 410 (webhook disabled), then re-enabled.
    const rounds = 4;
    for (let i = 1; i <= rounds; i++) {
      await publish(tenant.api, { event: 'scan.completed', data: { round: i } });
      await gone.waitFor(i, 15_000);
      await waitForStatus(tenant.api, hook.id, 'disabled');
      const patched = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { active: true });
      expect(patched.status).toBe(200);
      expect(patched.json.status).toBe('healthy');
    }

    // A positive signal that the runtime has emailed everything it was going to: a second webhook
    // of the same tenant fails after the loop, and its email arrives.
    const control = await createWebhook(tenant.api, { url: `${(await receiver(500)).url}/control`, events: ['scan.failed'] });
    await publish(tenant.api, { event: 'scan.failed', data: {} });
    await emailTo(own, control.id);

    const outbox = await readOutbox(rt.dataDir);
    expect(outbox.filter((e) => e.to === STRANGER)).toEqual([verification]);
    const failureEmails = outbox.filter((e) => e.to === own && e.subject.includes(hook.id));
    expect(failureEmails).toHaveLength(1); // one an hour per webhook, however many changes
    const [email] = failureEmails;
    expect(email!.subject).toBe(`Hookline: webhook ${hook.id} was disabled (410 Gone)`);
    expect(email!.text).toMatch(/owner address set on this webhook has not been verified yet/);

    // No URL path or query in subject or body; the receiver shows as its origin.
    for (const part of [email!.subject, email!.text]) {
      expect(part).not.toContain('reset-your-password');
      expect(part).not.toContain('user=');
    }
    expect(email!.text).toContain(`Receiver:    ${new URL(gone.url).origin} (path not shown)`);
    // The description: one quoted line of at most 200 characters, links defanged; nothing else of it.
    const mentions = email!.text.split('\n').filter((l) => /URGENT|Call \+1|Act now/.test(l));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toMatch(/^Description: "URGENT: your bank account is locked\. Call \+1-555-0100 or log in at https\[:\]\/\/evil\.example\/login Act now/);
    expect([...JSON.parse(/^Description: (".*") \(as written in the webhook\)$/.exec(mentions[0]!)![1]!)]).toHaveLength(200);
    expect(email!.text).not.toContain('https://evil.example');
  });
});

describe('the verification link', () => {
  it('verifies the owner address once (no API key): later failure emails go there; reused or forged links are 404 and change nothing', async () => {
    const name = `verify-${Date.now()}`;
    const tenant = await createTenant(rt, name);
    const failing = await receiver(500);
    const team = `team-${Date.now()}@customer.example`;
    const hook = await createWebhook(tenant.api, { url: `${failing.url}/hooks/team`, events: ['scan.failed'], owner_email: team });
    expect(hook.owner_email_verified).toBe(false);
    const path = linkPath(await emailTo(team, hook.id));
    const anonymous = api(rt.baseUrl, undefined);

    // Forged tokens first: nothing changes.
    const forged = path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    for (const bad of [forged, '/api/v1/email-verifications/ev1.x.y.z', '/api/v1/email-verifications/not-a-token']) {
      const res = await anonymous.get(bad);
      expect({ bad, status: res.status, error: typeof res.json?.error }).toEqual({ bad, status: 404, error: 'string' });
    }
    expect((await tenant.api.get(`${WEBHOOKS}/${hook.id}`)).json.owner_email_verified).toBe(false);

    const confirmed = await anonymous.get(path);
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toEqual({ webhook_id: hook.id, owner_email: team, owner_email_verified: true });
    expect((await tenant.api.get(`${WEBHOOKS}/${hook.id}`)).json.owner_email_verified).toBe(true);
    const reused = await anonymous.get(path);
    expect(reused.status).toBe(404);
    expect(reused.json.error).toMatch(/not valid|used/);

    await publish(tenant.api, { event: 'scan.failed', data: {} });
    await waitForStatus(tenant.api, hook.id, 'failing');
    const email = await emailTo(team, 'is failing');
    expect(email.subject).toBe(`Hookline: webhook ${hook.id} is failing`);
    expect(email.text).not.toMatch(/not been verified/);
    expect((await readOutbox(rt.dataDir)).filter((e) => e.to === `${name}@example.com`)).toEqual([]);
  });

  it('changing owner_email again resets verification and retires the old link; the tenant\'s own address needs none', async () => {
    const name = `change-${Date.now()}`;
    const tenant = await createTenant(rt, name);
    const r = await receiver(200);
    const first = `first-${Date.now()}@customer.example`;
    const second = `second-${Date.now()}@customer.example`;
    const hook = await createWebhook(tenant.api, { url: `${r.url}/x`, events: ['scan.failed'], owner_email: first });
    const firstLink = linkPath(await emailTo(first, hook.id));

    const patched = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: second });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ owner_email: second, owner_email_verified: false });
    const secondLink = linkPath(await emailTo(second, hook.id));
    expect((await api(rt.baseUrl, undefined).get(firstLink)).status).toBe(404);
    expect((await api(rt.baseUrl, undefined).get(secondLink)).status).toBe(200);

    const back = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: `${name}@example.com` });
    expect(back.json).toMatchObject({ owner_email: `${name}@example.com`, owner_email_verified: true });
    expect((await readOutbox(rt.dataDir)).filter((e) => e.to === `${name}@example.com`)).toEqual([]);
  });

  it("a request refused for another reason spends none of the tenant's emails of the hour (its failure notices share them); past them, 429 with Retry-After", async () => {
    const tenant = await createTenant(rt, `budget-${Date.now()}`);
    const r = await receiver(200);
    const hook = await createWebhook(tenant.api, { url: `${r.url}/x`, events: ['scan.failed'] });
    // More refused PATCHes with a new address each than the hour allows emails (an auth block with a ':' in its user name is a 400).
    for (let i = 0; i < EMAILS_PER_TENANT_PER_HOUR + 1; i++) {
      const refused = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: `refused-${i}@customer.example`, auth: { type: 'basic', username: 'a:b', password: 'x' } });
      expect(refused.status).toBe(400);
    }
    // And as many refused with 409 after the address was checked: the tenant's credentials,
    // one secret for all its webhooks, are full.
    const bulky = { type: 'header', name: 'X-Api-Key', value: 'k'.repeat(4096) };
    let full = false;
    for (let i = 0; i < 20 && !full; i++) {
      const res = await tenant.api.post(WEBHOOKS, { url: `${r.url}/bulk-${i}`, events: ['scan.failed'], auth: bulky });
      full = res.status === 409;
    }
    expect(full).toBe(true);
    for (let i = 0; i < EMAILS_PER_TENANT_PER_HOUR + 1; i++) {
      const create = await tenant.api.post(WEBHOOKS, { url: `${r.url}/more`, events: ['scan.failed'], auth: bulky, owner_email: `more-${i}@customer.example` });
      expect({ i, status: create.status }).toEqual({ i, status: 409 });
      // Its own credentials grown by more than a new webhook's would take.
      const patch = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: `patch-${i}@customer.example`, auth: bulky, url: `${r.url}/x?token=${'t'.repeat(1900)}` });
      expect({ i, status: patch.status }).toEqual({ i, status: 409 });
    }
    const fine = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: 'kept@customer.example' });
    expect(fine.status).toBe(200);
    await emailTo('kept@customer.example', hook.id);
    // The rest of the hour's emails, then one too many.
    for (let i = 1; i < EMAILS_PER_TENANT_PER_HOUR; i++) expect((await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: `next-${i}@customer.example` })).status).toBe(200);
    const spent = await tenant.api.patch(`${WEBHOOKS}/${hook.id}`, { owner_email: 'one-too-many@customer.example' });
    expect(spent.status).toBe(429);
    const retryAfter = Number(spent.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });
});
