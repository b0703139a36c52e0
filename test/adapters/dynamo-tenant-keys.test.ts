/**
 * A tenant's API keys in DynamoDB (dynalite, the one-machine runtime's stand-in): listed on the
 * tenant's item, counted under a limit, looked up by hash, revoked lookup first.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoTenantStore } from '../../shared/adapters/aws/dynamo-tenant-store.ts';
import type { ApiKeyRecord } from '../../shared/usecases/tenants.ts';

let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tenants: DynamoTenantStore;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-tenant-keys-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  tenants = new DynamoTenantStore(doc, standIns.tables.tenants);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const uid = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;
const key = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: uid('key'),
  hash: uid('hash'),
  prefix: 'hk_abcd',
  created_at: '2025-06-01T12:00:00.000Z',
  ...overrides,
});
async function newTenant(): Promise<string> {
  const id = uid('ten');
  await tenants.createIfAbsent({ id, name: 'n', owner_email: 'o@example.com', created_at: '2025-06-01T12:00:00.000Z' });
  return id;
}

describe('DynamoTenantStore keys', () => {
  it('addKey lists the key and makes it work; the tenant record is unchanged', async () => {
    const tenantId = await newTenant();
    const k = key({ bootstrap: true });
    await expect(tenants.addKey(tenantId, k, 10)).resolves.toBe('added');
    await expect(tenants.listKeys(tenantId)).resolves.toEqual([k]);
    await expect(tenants.tenantIdForKey(k.hash)).resolves.toBe(tenantId);
    await expect(tenants.get(tenantId)).resolves.toMatchObject({ id: tenantId, name: 'n' });
  });

  it('a tenant that does not exist gets no key', async () => {
    const k = key();
    await expect(tenants.addKey(uid('ten'), k, 10)).resolves.toBe('full');
    await expect(tenants.tenantIdForKey(k.hash)).resolves.toBeUndefined();
  });

  it('at most maxKeys, also when added concurrently', async () => {
    const tenantId = await newTenant();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => tenants.addKey(tenantId, key(), 3)));
    expect(outcomes.filter((o) => o === 'added')).toHaveLength(3);
    expect(await tenants.listKeys(tenantId)).toHaveLength(3);
  });

  it("a key hash of another tenant is 'taken': not listed, not moved", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const shared = key();
    await tenants.addKey(a, shared, 10);
    await expect(tenants.addKey(b, { ...shared, id: uid('key') }, 10)).resolves.toBe('taken');
    await expect(tenants.tenantIdForKey(shared.hash)).resolves.toBe(a);
    await expect(tenants.listKeys(b)).resolves.toEqual([]);
  });

  it('revokeKey deletes the lookup and the listing, frees a slot, and never touches another tenant', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const keep = key();
    const gone = key();
    await tenants.addKey(a, keep, 2);
    await tenants.addKey(a, gone, 2);
    await expect(tenants.addKey(a, key(), 2)).resolves.toBe('full');
    // B cannot revoke A's key by naming it.
    await tenants.revokeKey(b, gone.hash, gone.id);
    await expect(tenants.tenantIdForKey(gone.hash)).resolves.toBe(a);
    await tenants.revokeKey(a, gone.hash, gone.id);
    await expect(tenants.tenantIdForKey(gone.hash)).resolves.toBeUndefined();
    await expect(tenants.listKeys(a)).resolves.toEqual([keep]);
    await expect(tenants.addKey(a, key(), 2)).resolves.toBe('added');
    // Revoking again is harmless.
    await tenants.revokeKey(a, gone.hash, gone.id);
    const item = (await doc.send(new GetCommand({ TableName: standIns.tables.tenants, Key: { pk: `TENANT#${a}` } }))).Item;
    expect(item?.['key_count']).toBe(2);
  });

  it('an unlisted key (stored before keys were listed) is revoked by its hash', async () => {
    const tenantId = await newTenant();
    const hash = uid('hash');
    await tenants.putKey(hash, tenantId);
    await expect(tenants.tenantIdForKey(hash)).resolves.toBe(tenantId);
    await tenants.revokeKey(tenantId, hash);
    await expect(tenants.tenantIdForKey(hash)).resolves.toBeUndefined();
  });
});
