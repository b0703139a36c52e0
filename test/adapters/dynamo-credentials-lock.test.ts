/**
 * Each tenant's credentials lock in the tenants table (dynalite, the one-machine runtime's
 * stand-in), and the writer on top of it with the file secret store: several containers
 * changing one tenant's webhooks at once lose none of the changes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIns, type StandIns } from '../../infra/local/standins.ts';
import { DynamoCredentialsLock } from '../../shared/adapters/aws/dynamo-credentials-lock.ts';
import { FileSecretStore } from '../../shared/adapters/local/file-secret-store.ts';
import { systemClock } from '../../shared/usecases/ports.ts';
import { CredentialsCache } from '../../shared/usecases/credentials.ts';
import { CredentialsWriter } from '../../shared/usecases/credentials-writer.ts';

let dataDir: string;
let standIns: StandIns;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let lock: DynamoCredentialsLock;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookline-credentials-lock-'));
  standIns = await startStandIns(dataDir);
  raw = new DynamoDBClient({ endpoint: standIns.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  lock = new DynamoCredentialsLock(doc, standIns.tables.tenants);
});

afterAll(async () => {
  raw?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const tenantId = () => `ten_${randomUUID().replaceAll('-', '')}`;
const NOW = new Date('2025-06-01T12:00:00.000Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe('DynamoCredentialsLock', () => {
  it('one holder at a time; an expired lock is taken over; only its holder releases it', async () => {
    const tenant = tenantId();
    expect(await lock.acquire(tenant, 'a', NOW, later(30_000))).toBe(true);
    expect(await lock.acquire(tenant, 'b', later(10_000), later(40_000))).toBe(false);
    // Another tenant is not held up.
    expect(await lock.acquire(tenantId(), 'b', later(10_000), later(40_000))).toBe(true);
    // A release by someone else leaves it held.
    await lock.release(tenant, 'b');
    expect(await lock.acquire(tenant, 'c', later(20_000), later(50_000))).toBe(false);
    // Past its time a dead holder's lock is taken over, and the dead holder's late release does not free it.
    expect(await lock.acquire(tenant, 'c', later(30_001), later(60_001))).toBe(true);
    await lock.release(tenant, 'a');
    expect(await lock.acquire(tenant, 'd', later(30_002), later(60_002))).toBe(false);
    const item = (await doc.send(new GetCommand({ TableName: standIns.tables.tenants, Key: { pk: `CREDLOCK#${tenant}` } }))).Item;
    expect(item).toMatchObject({ holder: 'c', held_until: later(60_001).getTime() });
    // DynamoDB's TTL removes a forgotten lock: it carries an expiry in epoch seconds.
    expect(item!['expires_at']).toBeGreaterThan(later(60_001).getTime() / 1000);
    await lock.release(tenant, 'c');
    expect(await lock.acquire(tenant, 'd', later(30_003), later(60_003))).toBe(true);
  });
});

describe('CredentialsWriter on DynamoDB and files', () => {
  it('four containers creating and rotating 24 webhooks of one tenant at once keep every change, in one file', async () => {
    const secretsDir = join(dataDir, `secrets-${randomUUID()}`);
    const tenant = tenantId();
    // Each container has its own store and writer; they share the table and the directory.
    const containers = Array.from({ length: 4 }, () => {
      const secrets = new FileSecretStore(secretsDir);
      return new CredentialsWriter({ secrets, lock: new DynamoCredentialsLock(doc, standIns.tables.tenants), clock: systemClock, secretPrefix: 'hookline/' });
    });
    const ids = Array.from({ length: 24 }, (_, i) => `wh_${i}`);
    await Promise.all(ids.map((id, i) => containers[i % 4]!.change(tenant, id, 0, () => ({ signing_secrets: [`${id}-0`], auth: { type: 'none' } }), async () => undefined)));
    const versions = await Promise.all(
      ids.map((id, i) =>
        containers[(i + 1) % 4]!.change(tenant, id, 1, (current) => ({ ...current!, signing_secrets: [`${id}-1`], previous_secrets: [{ secret: current!.signing_secrets[0]!, expires_at: later(86_400_000).toISOString() }] }), async (v) => v),
      ),
    );
    expect(versions).toEqual(Array(24).fill(2));
    const reader = new CredentialsCache(new FileSecretStore(secretsDir), 'hookline/');
    for (const id of ids) {
      expect(await reader.get({ tenant_id: tenant, id, credentials_version: 2 })).toMatchObject({ signing_secrets: [`${id}-1`], previous_secrets: [{ secret: `${id}-0` }] });
    }
    expect((await readdir(secretsDir)).filter((f) => !f.endsWith('.tmp'))).toEqual([`${encodeURIComponent(`hookline/tenants/${tenant}`)}.secret`]);
  });
});
