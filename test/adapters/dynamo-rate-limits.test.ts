/**
 * Per-tenant rate limits in DynamoDB (dynalite, the one-machine runtime's stand-in): the counter
 * of a window takes no more than its limit however many containers write to it at once, and a
 * tenant's own limit lives on its item.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoRequestWindows } from '../../shared/adapters/aws/dynamo-request-windows.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import { rateWindow } from '../../shared/domain/rate-limits.ts';
import { SharedWindowAllowance } from '../../shared/usecases/rate-limits.ts';

let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tenants: DynamoTenantStore;
let windows: DynamoRequestWindows;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-rate-limits-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  tenants = new DynamoTenantStore(doc, standIns.tables.tenants);
  windows = new DynamoRequestWindows(doc, standIns.tables.tenants);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const tenantId = () => `ten_${randomUUID().replaceAll('-', '')}`;
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

describe('DynamoRequestWindows', () => {
  it('ten containers writing at once get exactly the window\'s limit, and the counter expires after its window', async () => {
    const tenant = tenantId();
    const limit = { requestsPerSecond: 4, burst: 8 };
    const containers = Array.from({ length: 10 }, () => new SharedWindowAllowance(windows));
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => containers[i % 10]!.take(tenant, limit, NOW + 100)));
    expect(answers.filter((a) => a === undefined)).toHaveLength(8);
    expect(answers.filter((a) => a !== undefined)).toEqual(Array(22).fill(2));

    const window = rateWindow(limit, NOW + 100);
    const item = (await doc.send(new GetCommand({ TableName: standIns.tables.tenants, Key: { pk: `RATE#${tenant}#${window.startMs}` } }))).Item;
    expect(item).toMatchObject({ requests: 8 });
    expect(item!['expires_at']).toBeGreaterThanOrEqual(window.endMs / 1000);
    // The next window, and another tenant, count from zero.
    expect(await windows.take(tenant, rateWindow(limit, window.endMs))).toBe(true);
    expect(await windows.take(tenantId(), window)).toBe(true);
  });
});

describe("a tenant's own limit", () => {
  it('is stored on its item, read back, and refused for a tenant that does not exist', async () => {
    const id = tenantId();
    await tenants.createIfAbsent({ id, name: 'n', owner_email: 'o@example.com', created_at: '2025-06-01T12:00:00.000Z' });
    await expect(tenants.rateLimitOf(id)).resolves.toEqual({});
    await expect(tenants.setRateLimit(id, { requestsPerSecond: 20, burst: 40 })).resolves.toBe(true);
    await expect(tenants.rateLimitOf(id)).resolves.toEqual({ limit: { requestsPerSecond: 20, burst: 40 } });
    await expect(tenants.get(id)).resolves.toMatchObject({ id, name: 'n' });

    const nobody = tenantId();
    await expect(tenants.rateLimitOf(nobody)).resolves.toBeUndefined();
    await expect(tenants.setRateLimit(nobody, { requestsPerSecond: 20, burst: 40 })).resolves.toBe(false);
    await expect(tenants.rateLimitOf(nobody)).resolves.toBeUndefined();
  });
});
