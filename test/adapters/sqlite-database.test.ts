/**
 * The one-machine database itself (what the port contracts in test/contract do not cover): the
 * file's format and version, transactions across adapters, retention, and that what was
 * committed survives a SIGKILL.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Attempt } from '../../shared/domain/deliveries.ts';
import { HooklineDatabase, openHooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { AsyncTransactionError, DatabaseOpenError, DatabaseVersionError, StoreError } from '../../shared/adapters/sqlite/errors.ts';
import { SCHEMA_VERSION } from '../../shared/adapters/sqlite/schema.ts';
import { SqliteAttemptLog } from '../../shared/adapters/sqlite/sqlite-attempt-log.ts';
import { SqliteDeliveryStore } from '../../shared/adapters/sqlite/sqlite-delivery-store.ts';
import { SqliteEventStore } from '../../shared/adapters/sqlite/sqlite-event-store.ts';
import { SqliteRequestWindows } from '../../shared/adapters/sqlite/sqlite-request-windows.ts';
import { SqliteWebhookStore } from '../../shared/adapters/sqlite/sqlite-webhook-store.ts';
import { webhook } from '../unit/usecases/fakes.ts';
import { rejection } from '../support/rejection.ts';

const RETENTION_DAYS = 30;
const DAY = 86_400_000;
let dir: string;
let db: HooklineDatabase;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookline-sqlite-'));
  file = join(dir, 'hookline.db');
  db = openHooklineDatabase(file);
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const delivery = (id: string) => ({ delivery_id: id, tenant_id: 'ten_1', webhook_id: 'wh_1', event_id: `evt_${id}`, event_type: 'scan.completed' });
const attempt = (deliveryId: string, n: number, at: Date): Attempt => ({
  id: `att_${deliveryId}_${n}`,
  tenant_id: 'ten_1',
  webhook_id: 'wh_1',
  delivery_id: deliveryId,
  event_id: `evt_${deliveryId}`,
  event: 'scan.completed',
  attempt: n,
  trigger: 'scheduled',
  success: true,
  status_code: 200,
  response_time_ms: 3,
  attempted_at: at.toISOString(),
});
const count = (table: string) => Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()!['n']);

describe('openHooklineDatabase', () => {
  it('creates the file in WAL mode at the current schema version, and opens it again with its data', async () => {
    expect(db.prepare('PRAGMA journal_mode').get()!['journal_mode']).toBe('wal');
    expect(db.prepare('PRAGMA user_version').get()!['user_version']).toBe(SCHEMA_VERSION);
    await new SqliteWebhookStore(db).create(webhook());
    db.close();
    db = openHooklineDatabase(file);
    await expect(new SqliteWebhookStore(db).get(webhook().tenant_id, webhook().id)).resolves.toEqual(webhook());
  });

  it("refuses another program's database (tables, no schema version) and writes nothing into it; an empty file is a new database", () => {
    db.close();
    const foreign = join(dir, 'foreign.db');
    const other = new DatabaseSync(foreign);
    other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)');
    other.close();
    let err: unknown;
    try {
      openHooklineDatabase(foreign).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseOpenError);
    expect((err as Error).message).toBe(`${foreign} holds another program's tables, not Hookline's: point HOOKLINE_DATA_DIR at a directory of Hookline's own, or an empty one`);
    const after = new DatabaseSync(foreign);
    expect(after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all().map((r) => r['name'])).toEqual(['notes']);
    expect(after.prepare('PRAGMA journal_mode').get()!['journal_mode']).toBe('delete');
    after.close();
    db = openHooklineDatabase(join(dir, 'empty.db'));
    expect(db.prepare('PRAGMA user_version').get()!['user_version']).toBe(SCHEMA_VERSION);
  });

  it('refuses a database written by a newer version, saying which file and what to do', () => {
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let err: unknown;
    try {
      db = openHooklineDatabase(file);
    } catch (e) {
      err = e;
      db = new HooklineDatabase(new DatabaseSync(':memory:'), ':memory:');
    }
    expect(err).toBeInstanceOf(DatabaseVersionError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });

  it('refuses a file that is not a database', async () => {
    const other = join(dir, 'not-a-db');
    await writeFile(other, 'LevelDB stand-in data, not SQLite '.repeat(200));
    expect(() => openHooklineDatabase(other)).toThrow(DatabaseOpenError);
  });
});

describe('HooklineDatabase.transaction', () => {
  const windows = () => new SqliteRequestWindows(db);
  const window = { startMs: 0, endMs: 1000, max: 100 };

  it('commits what the callback did, and rolls all of it back when it throws', async () => {
    db.transaction(() => void windows().take('ten_a', window));
    expect(count('request_windows')).toBe(1);
    expect(() =>
      db.transaction(() => {
        void windows().take('ten_b', window);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(count('request_windows')).toBe(1);
  });

  it('nested, an inner failure rolls back the inner part only', () => {
    db.transaction(() => {
      void windows().take('ten_outer', window);
      expect(() =>
        db.transaction(() => {
          void windows().take('ten_inner', window);
          throw new Error('inner');
        }),
      ).toThrow('inner');
    });
    expect(db.prepare('SELECT tenant_id FROM request_windows').all().map((r) => r['tenant_id'])).toEqual(['ten_outer']);
  });

  it('savepoints at every depth work again and again (their statements are prepared once per depth)', () => {
    for (let round = 0; round < 3; round++) {
      db.transaction(() => {
        db.transaction(() => {
          void windows().take(`ten_kept_${round}`, window);
          expect(() =>
            db.transaction(() => {
              void windows().take(`ten_dropped_${round}`, window);
              throw new Error('inner');
            }),
          ).toThrow('inner');
        });
      });
    }
    expect(db.prepare('SELECT tenant_id FROM request_windows ORDER BY tenant_id').all().map((r) => r['tenant_id'])).toEqual(['ten_kept_0', 'ten_kept_1', 'ten_kept_2']);
  });

  it('refuses an async callback and keeps nothing it did before its first await', () => {
    expect(() =>
      db.transaction(async () => {
        void windows().take('ten_async', window);
      }),
    ).toThrow(AsyncTransactionError);
    expect(count('request_windows')).toBe(0);
  });

  it("writes an attempt and its delivery's completion together, or neither", async () => {
    const deliveries = new SqliteDeliveryStore(db, RETENTION_DAYS);
    const log = new SqliteAttemptLog(db, RETENTION_DAYS);
    const now = new Date();
    await deliveries.createMany([delivery('dlv_1'), delivery('dlv_2')], now);
    await deliveries.claim({ ...delivery('dlv_1'), attempt: 1 }, now, now);
    await deliveries.claim({ ...delivery('dlv_2'), attempt: 1 }, now, now);

    const done = db.transaction(() => {
      log.recordSync(attempt('dlv_1', 1, now));
      return deliveries.completeSync('dlv_1', 1, { kind: 'succeeded' }, now);
    });
    expect(done).toBe(true);
    await expect(deliveries.get(delivery('dlv_1'))).resolves.toMatchObject({ state: 'succeeded', attempts_completed: 1 });
    expect(() =>
      db.transaction(() => {
        log.recordSync(attempt('dlv_2', 1, now));
        deliveries.completeSync('dlv_2', 1, { kind: 'succeeded' }, now);
        throw new Error('killed between the two');
      }),
    ).toThrow();
    await expect(deliveries.get(delivery('dlv_2'))).resolves.toMatchObject({ state: 'pending', attempts_completed: 0 });
    expect((await log.list('ten_1', 'wh_1', { page: 1, perPage: 10 })).items.map((a) => a.delivery_id)).toEqual(['dlv_1']);
  });

  it('a failing statement is a StoreError with its cause', async () => {
    const events = new SqliteEventStore(db, RETENTION_DAYS);
    db.exec('DROP TABLE events');
    const err = await rejection(events.get('ten_1', 'evt_1'));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toBe('could not read event');
    expect(err.cause).toHaveProperty('message', expect.stringContaining('no such table: events'));
  });
});

describe('retention', () => {
  it('a delivery past its retention is gone for reads, the due index and claims at once; its id can be used again', async () => {
    const deliveries = new SqliteDeliveryStore(db, RETENTION_DAYS);
    const old = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY);
    await deliveries.createMany([delivery('dlv_old')], old);
    await expect(deliveries.get(delivery('dlv_old'))).resolves.toBeUndefined();
    await expect(deliveries.listDue(new Date(), 100)).resolves.toEqual([]);
    await expect(deliveries.claim({ ...delivery('dlv_old'), attempt: 1 }, new Date(), new Date())).resolves.toBeUndefined();
    const now = new Date();
    await expect(deliveries.createMany([delivery('dlv_old')], now)).resolves.toHaveLength(1);
    await expect(deliveries.get(delivery('dlv_old'))).resolves.toMatchObject({ state: 'pending', created_at: now.toISOString() });
  });

  it('an event id past its retention can be published again', async () => {
    const events = new SqliteEventStore(db, RETENTION_DAYS);
    const e = { tenant_id: 'ten_1', id: 'evt_1', event: 'a.b', timestamp: 't', data: {}, received_at: new Date(Date.now() - (RETENTION_DAYS + 1) * DAY).toISOString() };
    await expect(events.putIfAbsent(e)).resolves.toBe('created');
    const again = { ...e, received_at: new Date().toISOString() };
    await expect(events.putIfAbsent(again)).resolves.toBe('created');
    await expect(events.get('ten_1', 'evt_1')).resolves.toEqual(again);
  });

  it('purgeExpired deletes what expired, in every table, up to its limit a call, and keeps the rest', async () => {
    const deliveries = new SqliteDeliveryStore(db, RETENTION_DAYS);
    const log = new SqliteAttemptLog(db, RETENTION_DAYS);
    const old = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY);
    await deliveries.createMany(Array.from({ length: 7 }, (_, i) => delivery(`dlv_old_${i}`)), old);
    await deliveries.createMany([delivery('dlv_new')], new Date());
    for (let i = 0; i < 5; i++) await log.record(attempt(`dlv_old_${i}`, 1, old));
    await log.record(attempt('dlv_new', 1, new Date()));

    expect(db.purgeExpired(new Date(), 4, 2)).toBe(4);
    expect(db.purgeExpired(new Date(), 100, 2)).toBe(8);
    expect(db.purgeExpired(new Date())).toBe(0);
    expect(count('deliveries')).toBe(1);
    expect(count('attempts')).toBe(1);
    await expect(deliveries.get(delivery('dlv_new'))).resolves.toBeDefined();
  });
});

describe('SqliteWebhookStore.pages', () => {
  it('yields a tenant of more webhooks than a page holds in several pages, each webhook once', async () => {
    const store = new SqliteWebhookStore(db);
    const ids = Array.from({ length: 1_201 }, (_, i) => `wh_${String(i).padStart(5, '0')}`);
    db.transaction(() => ids.forEach((id) => void store.create(webhook({ tenant_id: 'ten_big', id }))));
    const pages: string[][] = [];
    for await (const page of store.pages('ten_big')) pages.push(page.map((w) => w.id));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual(ids);
  });
});

describe('crash safety', () => {
  it('what a killed process committed is there after it, with synchronous=NORMAL', async () => {
    db.close();
    const moduleUrl = new URL('../../shared/adapters/sqlite/sqlite-request-windows.ts', import.meta.url).href;
    const databaseUrl = new URL('../../shared/adapters/sqlite/database.ts', import.meta.url).href;
    // Takes request slots one commit at a time and reports each after its commit, until killed.
    const script = `
      const { openHooklineDatabase } = await import(${JSON.stringify(databaseUrl)});
      const { SqliteRequestWindows } = await import(${JSON.stringify(moduleUrl)});
      const windows = new SqliteRequestWindows(openHooklineDatabase(${JSON.stringify(file)}));
      for (let i = 1; ; i++) {
        await windows.take('ten_crash', { startMs: 0, endMs: 1000, max: 1e9 });
        process.stdout.write(i + '\\n');
        // Let the event loop flush stdout (a socket: its writes wait for the loop when the buffer is full).
        await new Promise((resolve) => setImmediate(resolve));
      }`;
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    let output = '';
    const reported = await new Promise<number>((resolve, reject) => {
      const last = () => Number(output.split('\n').at(-2) ?? 0);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (last() >= 500 && child.kill('SIGKILL')) resolve(last());
      });
      child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(last()) : reject(new Error(`the writer exited (${code}): ${errors}`))));
    });
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));

    db = openHooklineDatabase(file);
    const stored = Number(db.prepare("SELECT requests FROM request_windows WHERE tenant_id = 'ten_crash'").get()!['requests']);
    expect(stored).toBeGreaterThanOrEqual(reported);
  });
});
