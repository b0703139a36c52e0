/**
 * The DynamoDB items that let dispatcher containers share what one process knows, against
 * dynalite: the per-webhook attempt leases (a versioned conditional write, so concurrent takes
 * never pass the limit). The queues' lag records are the one-machine runtime's only (SQLite,
 * test/contract/tenants.test.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoWebhookLeases } from '../../shared/adapters/aws/dynamo-webhook-leases.ts';
import { SharedWebhookSlots, SLOW_ATTEMPT_MS } from '../../shared/usecases/webhook-slots.ts';

let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let leases: DynamoWebhookLeases;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-leases-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  leases = new DynamoWebhookLeases(doc, standIns.tables.tenants);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const T0 = new Date('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const newWebhook = () => ({ tenant_id: `ten_${randomUUID().slice(0, 8)}`, webhook_id: `wh_${randomUUID().replaceAll('-', '')}` });
const item = async (pk: string) => (await doc.send(new GetCommand({ TableName: standIns.tables.tenants, Key: { pk }, ConsistentRead: true }))).Item;

describe('DynamoWebhookLeases', () => {
  it('takes up to the limit, then refuses; a dropped lease frees its slot', async () => {
    const w = newWebhook();
    expect(await leases.take(w, 'a.1', at(60_000), T0, 2)).toBe(true);
    expect(await leases.take(w, 'b.1', at(60_000), T0, 2)).toBe(true);
    expect(await leases.take(w, 'b.2', at(60_000), T0, 2)).toBe(false);
    await leases.drop(w, 'a.1');
    expect(await leases.take(w, 'b.2', at(60_000), T0, 2)).toBe(true);
    expect(Object.keys((await item(`SLOTS#${w.tenant_id}#${w.webhook_id}`))!['leases'])).toEqual(expect.arrayContaining(['b.1', 'b.2']));
  });

  it('never passes the limit when many containers take at once', async () => {
    const w = newWebhook();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => leases.take(w, `c${i}.1`, at(60_000), T0, 3)));
    expect(results.filter(Boolean).length).toBeLessThanOrEqual(3);
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const held = Object.keys((await item(`SLOTS#${w.tenant_id}#${w.webhook_id}`))!['leases']);
    expect(held).toHaveLength(results.filter(Boolean).length);
  });

  it("an expired lease (a crashed container's) no longer counts and is removed by the next take", async () => {
    const w = newWebhook();
    expect(await leases.take(w, 'crashed.1', at(60_000), T0, 1)).toBe(true);
    expect(await leases.take(w, 'alive.1', at(120_000), at(59_999), 1)).toBe(false);
    expect(await leases.take(w, 'alive.1', at(120_000), at(60_000), 1)).toBe(true);
    const stored = await item(`SLOTS#${w.tenant_id}#${w.webhook_id}`);
    expect(stored!['leases']).toEqual({ 'alive.1': at(120_000).getTime() });
    // DynamoDB's TTL removes the item a day after its last lease.
    expect(stored!['expires_at']).toBe(Math.ceil(at(120_000 + 86_400_000).getTime() / 1000));
  });

  it('without a limit (an attempt counted because it turned slow) a lease is added even over the limit', async () => {
    const w = newWebhook();
    expect(await leases.take(w, 'a.1', at(60_000), T0, 1)).toBe(true);
    expect(await leases.take(w, 'a.2', at(60_000), T0)).toBe(true);
    expect(await leases.take(w, 'b.1', at(60_000), T0, 1)).toBe(false);
  });

  it('dropping a lease that is gone creates nothing', async () => {
    const w = newWebhook();
    await leases.drop(w, 'never.1');
    expect(await item(`SLOTS#${w.tenant_id}#${w.webhook_id}`)).toBeUndefined();
  });

  it('behind SharedWebhookSlots: two containers (two instances) hold the limit together', async () => {
    const w = newWebhook();
    const clock = () => new Date();
    const options = { perWebhook: 1, perTenant: 10, attemptMaxMs: 10_000, clock, after: () => () => undefined };
    const [a, b] = [new SharedWebhookSlots(leases, options), new SharedWebhookSlots(leases, options)];
    const held = await a.acquire(w);
    expect('release' in held).toBe(true);
    expect(await b.acquire(w)).toEqual({ reason: 'webhook busy', retryInMs: 1000 });
    // An attempt of a second or more: b finds the slot free after the release, with a lease of its own.
    await new Promise((r) => setTimeout(r, SLOW_ATTEMPT_MS));
    await (held as { release(): Promise<void> }).release();
    expect('release' in (await b.acquire(w))).toBe(true);
  });
});
