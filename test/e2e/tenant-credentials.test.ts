/**
 * End to end through the one-machine runtime: a tenant's webhook credentials are one secret (one
 * 0600 file here, as one Secrets Manager secret on AWS). Changes of many webhooks of the tenant
 * at once, several of them to one webhook, all land, and the next delivery of each webhook
 * signs and authenticates with its own newest credentials.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTenant, createWebhook, publish, verifyHex, WEBHOOKS } from '../support/hookline.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';
import { startRuntime, type Runtime } from '../support/runtime.ts';

let rt: Runtime;
let r: Receiver;

beforeAll(async () => {
  rt = await startRuntime();
  r = await startReceiver();
});

afterAll(async () => {
  await r?.close();
  await rt?.cleanup();
});

const HOOKS = 12;

describe("a tenant's credentials secret under concurrent changes", () => {
  it('twelve webhooks created at once, then rotated and re-authenticated at once, each sign with their own newest credentials', async () => {
    const t = await createTenant(rt);
    const hooks = await Promise.all(
      Array.from({ length: HOOKS }, (_, i) => createWebhook(t.api, { url: `${r.url}/hook-${i}`, events: ['scan.completed'] })),
    );
    const secretFile = join(rt.dataDir, 'secrets', `${encodeURIComponent(`hookline/tenants/${t.id}`)}.secret`);
    const stored = async () => JSON.parse(await readFile(secretFile, 'utf8')) as Record<string, { tenant_id: string; credentials_version: number }>;
    // One secret for the tenant, holding all twelve, each sealed with its tenant.
    expect(Object.keys(await stored()).sort()).toEqual(hooks.map((h) => h.id).sort());
    expect(Object.values(await stored()).every((e) => e.tenant_id === t.id)).toBe(true);
    expect((await readdir(join(rt.dataDir, 'secrets'))).filter((f) => f.includes(t.id))).toEqual([`${encodeURIComponent(`hookline/tenants/${t.id}`)}.secret`]);

    const byHook = (requests: readonly ReceivedRequest[], from: number) =>
      new Map(requests.slice(from).map((q) => [Number(q.path.split('-')[1]), q] as const));
    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const first = byHook(await r.waitFor(HOOKS), 0);
    hooks.forEach((h, i) => expect({ i, verified: verifyHex(first.get(i)!, h.secret) }).toEqual({ i, verified: true }));

    // Every webhook rotated (grace 0: the old secret stops at once), half of them re-authenticated
    // at the same time: 18 read-modify-writes of the one secret, two at once on six webhooks.
    const answers = await Promise.all([
      ...hooks.map((h) => t.api.post(`${WEBHOOKS}/${h.id}/rotate-secret`, { grace_period_seconds: 0 })),
      ...hooks.slice(0, HOOKS / 2).map((h, i) => t.api.patch(`${WEBHOOKS}/${h.id}`, { auth: { type: 'bearer', token: `token-${i}-abcdefgh` } })),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array(HOOKS + HOOKS / 2).fill(200));
    const rotated = answers.slice(0, HOOKS).map((a) => a.json.secret as string);

    await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    const second = byHook(await r.waitFor(2 * HOOKS), HOOKS);
    hooks.forEach((h, i) => {
      const req = second.get(i)!;
      expect({ i, newest: verifyHex(req, rotated[i]!), old: verifyHex(req, h.secret) }).toEqual({ i, newest: true, old: false });
      expect({ i, auth: req.headers['authorization'] }).toEqual({ i, auth: i < HOOKS / 2 ? `Bearer token-${i}-abcdefgh` : undefined });
    });
    // Two changes of one webhook got distinct versions, and the row agrees with its entry.
    const entries = await stored();
    hooks.forEach((h, i) => expect({ i, version: entries[h.id]!.credentials_version }).toEqual({ i, version: i < HOOKS / 2 ? 3 : 2 }));

    // Deleting half at once removes exactly their entries.
    const deleted = hooks.slice(0, HOOKS / 2);
    expect((await Promise.all(deleted.map((h) => t.api.del(`${WEBHOOKS}/${h.id}`)))).map((a) => a.status)).toEqual(Array(HOOKS / 2).fill(204));
    expect(Object.keys(await stored()).sort()).toEqual(hooks.slice(HOOKS / 2).map((h) => h.id).sort());
  });
});

describe('credentials in a webhook URL', () => {
  it('are kept when a client sends back the URL as the API showed it (masked), and replaced by a new URL', async () => {
    const t = await createTenant(rt);
    const hook = await createWebhook(t.api, { url: `${r.url}/url-auth?token=s3cr3t-value`, events: ['scan.completed'] });
    expect(hook.url).toBe(`${r.url}/url-auth?token=****`);
    // What the portal's edit form sends: every field as read, the description changed.
    const edited = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: hook.url, description: 'renamed', events: ['scan.completed'] });
    expect(edited.status).toBe(200);
    expect(edited.json).toMatchObject({ url: `${r.url}/url-auth?token=****`, description: 'renamed' });
    const from = r.requests.length;
    await publish(t.api, { event: 'scan.completed', data: { n: 3 } });
    const [kept] = (await r.waitFor(from + 1)).slice(from);
    expect(kept!.path).toBe('/url-auth?token=s3cr3t-value');

    expect((await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: `${r.url}/url-auth?token=n3w-value` })).status).toBe(200);
    await publish(t.api, { event: 'scan.completed', data: { n: 4 } });
    const [replaced] = (await r.waitFor(from + 2)).slice(from + 1);
    expect(replaced!.path).toBe('/url-auth?token=n3w-value');
  });
});

describe('a new path sent with the query as the API showed it (?token=****)', () => {
  it('keeps the stored query values; a masked value with none stored behind it is a 400 that changes nothing', async () => {
    const t = await createTenant(rt);
    const hook = await createWebhook(t.api, { url: `${r.url}/old?token=s3cret&x=1&flag`, events: ['scan.completed'] });
    expect(hook.url).toBe(`${r.url}/old?token=****&x=****&****`);
    const moved = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: `${r.url}/new?token=****&x=****&****` });
    expect(moved.status).toBe(200);
    expect(moved.json.url).toBe(`${r.url}/new?token=****&x=****&****`);
    const from = r.requests.length;
    await publish(t.api, { event: 'scan.completed', data: { n: 1 } });
    const [got] = (await r.waitFor(from + 1)).slice(from);
    expect(got!.path).toBe('/new?token=s3cret&x=1&flag');

    const refused = await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: `${r.url}/newer?token=****&other=****` });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('masked value');
    expect((await t.api.get(`${WEBHOOKS}/${hook.id}`)).json.url).toBe(`${r.url}/new?token=****&x=****&****`);
    // A value given outright replaces the stored one.
    expect((await t.api.patch(`${WEBHOOKS}/${hook.id}`, { url: `${r.url}/new?token=fresh&x=****&****` })).status).toBe(200);
    await publish(t.api, { event: 'scan.completed', data: { n: 2 } });
    const [again] = (await r.waitFor(from + 2)).slice(from + 1);
    expect(again!.path).toBe('/new?token=fresh&x=1&flag');
  });
});

describe('deleting a webhook whose credentials cannot be removed', () => {
  it('answers 500 and keeps the webhook, so the DELETE sent again removes both (no secret left behind)', async () => {
    const t = await createTenant(rt);
    const hook = await createWebhook(t.api, { url: `${r.url}/undeletable`, events: ['scan.completed'] });
    const secretFile = join(rt.dataDir, 'secrets', `${encodeURIComponent(`hookline/tenants/${t.id}`)}.secret`);
    const kept = await readFile(secretFile, 'utf8');
    // A fault of the secret store: the tenant's secret is unreadable (a directory where its file was).
    await rm(secretFile);
    await mkdir(secretFile);
    const failed = await t.api.del(`${WEBHOOKS}/${hook.id}`);
    expect(failed.status).toBe(500);
    expect((await t.api.get(`${WEBHOOKS}/${hook.id}`)).status).toBe(200);
    await rm(secretFile, { recursive: true });
    await writeFile(secretFile, kept, { mode: 0o600 });
    expect((await t.api.del(`${WEBHOOKS}/${hook.id}`)).status).toBe(204);
    expect((await t.api.get(`${WEBHOOKS}/${hook.id}`)).status).toBe(404);
    expect(Object.keys(JSON.parse(await readFile(secretFile, 'utf8')) as object)).not.toContain(hook.id);
  });
});
