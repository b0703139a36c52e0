/**
 * The conditional writes behind the email guards, against dynalite (the one-machine runtime's
 * DynamoDB): the webhook's email window, the tenant's hourly email counter, the single-use
 * verification of an owner address.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoEmailQuota } from '../../shared/adapters/aws/dynamo-email-quota.ts';
import { DynamoWebhookStore } from '../../shared/adapters/aws/dynamo-webhook-store.ts';
import { EMAIL_WINDOW_MS, EMAILS_PER_TENANT_PER_HOUR, MAX_UNSENT_CHANGES } from '../../shared/domain/notifications.ts';
import type { StatusChange, Webhook } from '../../shared/domain/webhooks.ts';
import { T0, webhook } from '../unit/usecases/fakes.ts';

let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let webhooks: DynamoWebhookStore;
let quota: DynamoEmailQuota;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-email-guards-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  webhooks = new DynamoWebhookStore(doc, standIns.tables.webhooks);
  quota = new DynamoEmailQuota(doc, standIns.tables.tenants, EMAILS_PER_TENANT_PER_HOUR);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const uid = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;
const at = (ms: number) => new Date(T0.getTime() + ms);
const change = (ms: number, status: StatusChange['status'] = 'failing'): StatusChange => ({ status, at: at(ms).toISOString() });
const windowStart = (now: Date) => new Date(now.getTime() - EMAIL_WINDOW_MS);

async function newWebhook(overrides: Partial<Webhook> = {}): Promise<Webhook> {
  const w = webhook({ tenant_id: uid('ten'), id: uid('wh'), description: '', ...overrides });
  await webhooks.create(w);
  return w;
}

describe('DynamoWebhookStore email window', () => {
  it('of 10 concurrent claims on a fresh window exactly one sends; the others are kept for the summary', async () => {
    const w = await newWebhook();
    const now = at(0);
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => webhooks.claimEmail(w.tenant_id, w.id, change(i), now, windowStart(now))));
    expect(claims.filter((c) => c.kind === 'send')).toEqual([{ kind: 'send', unsent: [], unsentCount: 0 }]);
    const row = await webhooks.get(w.tenant_id, w.id);
    expect(row!.last_email_at).toBe(now.toISOString());
    expect(row!.unsent_count).toBe(9);
    expect(row!.unsent_changes).toHaveLength(9);
  });

  it('holds changes within the hour (the list bounded, the rest counted) and hands them to the first claim after it', async () => {
    const w = await newWebhook();
    expect((await webhooks.claimEmail(w.tenant_id, w.id, change(0), at(0), windowStart(at(0)))).kind).toBe('send');
    for (let i = 1; i <= MAX_UNSENT_CHANGES + 3; i++) {
      const now = at(i * 60_000);
      expect(await webhooks.claimEmail(w.tenant_id, w.id, change(i * 60_000), now, windowStart(now))).toEqual({ kind: 'held' });
    }
    const afterHour = at(EMAIL_WINDOW_MS);
    const claim = await webhooks.claimEmail(w.tenant_id, w.id, change(EMAIL_WINDOW_MS), afterHour, windowStart(afterHour));
    expect(claim).toEqual({
      kind: 'send',
      unsent: Array.from({ length: MAX_UNSENT_CHANGES }, (_, i) => change((i + 1) * 60_000)),
      unsentCount: MAX_UNSENT_CHANGES + 3,
    });
    const row = await webhooks.get(w.tenant_id, w.id);
    expect(row!.unsent_changes).toBeUndefined();
    expect(row!.unsent_count).toBeUndefined();
    expect(row!.last_email_at).toBe(afterHour.toISOString());
  });

  it("a disabled change claims a window of its own, under the same conditions", async () => {
    const w = await newWebhook();
    expect((await webhooks.claimEmail(w.tenant_id, w.id, change(0), at(0), windowStart(at(0)))).kind).toBe('send');
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => webhooks.claimEmail(w.tenant_id, w.id, change(60_000 + i, 'disabled'), at(60_000), windowStart(at(60_000)))));
    expect(claims.filter((c) => c.kind === 'send')).toHaveLength(1);
    expect(await webhooks.get(w.tenant_id, w.id)).toMatchObject({ last_email_at: at(0).toISOString(), last_disabled_email_at: at(60_000).toISOString(), unsent_count: 4 });
  });

  it('keepUnsent records changes whatever the window; a deleted webhook claims nothing', async () => {
    const w = await newWebhook();
    await webhooks.keepUnsent(w.tenant_id, w.id, [change(1), change(2, 'failing')], 2);
    const claim = await webhooks.claimEmail(w.tenant_id, w.id, change(3), at(3), windowStart(at(3)));
    expect(claim).toEqual({ kind: 'send', unsent: [change(1), change(2, 'failing')], unsentCount: 2 });
    await webhooks.delete(w.tenant_id, w.id);
    const later = at(2 * EMAIL_WINDOW_MS);
    expect(await webhooks.claimEmail(w.tenant_id, w.id, change(4), later, windowStart(later))).toEqual({ kind: 'held' });
    expect(await webhooks.get(w.tenant_id, w.id)).toBeUndefined();
  });
});

describe('DynamoWebhookStore.confirmOwnerEmail', () => {
  it('verifies once with the right hash before expiry, and removes the token', async () => {
    const w = await newWebhook({ owner_email_verified: false, owner_email_token_hash: 'ab'.repeat(32), owner_email_token_expires_at: at(1000).toISOString() });
    expect(await webhooks.confirmOwnerEmail(w.tenant_id, w.id, 'cd'.repeat(32), at(0))).toBeUndefined();
    expect(await webhooks.confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(1000))).toBeUndefined(); // expired
    expect((await webhooks.get(w.tenant_id, w.id))!.owner_email_verified).toBe(false);

    const confirmed = await webhooks.confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(999));
    expect(confirmed).toMatchObject({ id: w.id, owner_email_verified: true });
    expect(confirmed!.owner_email_token_hash).toBeUndefined();
    expect(confirmed!.owner_email_token_expires_at).toBeUndefined();
    expect(await webhooks.confirmOwnerEmail(w.tenant_id, w.id, 'ab'.repeat(32), at(0))).toBeUndefined();
  });
});

describe('DynamoEmailQuota', () => {
  it(`lets ${EMAILS_PER_TENANT_PER_HOUR} of 30 concurrent emails of one tenant through in one hour, per tenant, and starts again the next hour`, async () => {
    const tenant = uid('ten');
    const now = at(5 * 60_000);
    const taken = await Promise.all(Array.from({ length: 30 }, () => quota.take(tenant, now)));
    expect(taken.filter(Boolean)).toHaveLength(EMAILS_PER_TENANT_PER_HOUR);
    expect(await quota.take(tenant, at(59 * 60_000))).toBe(false);
    expect(await quota.take(uid('ten'), now)).toBe(true);
    expect(await quota.take(tenant, at(60 * 60_000))).toBe(true);

    const item = (await doc.send(new GetCommand({ TableName: standIns.tables.tenants, Key: { pk: `EMAILS#${tenant}#2025-06-01T12` } }))).Item;
    expect(item).toMatchObject({ sent: EMAILS_PER_TENANT_PER_HOUR });
    // Deleted by DynamoDB's TTL a day after its hour ends.
    expect(item!['expires_at']).toBe(Date.parse('2025-06-02T13:00:00.000Z') / 1000);
  });
});
