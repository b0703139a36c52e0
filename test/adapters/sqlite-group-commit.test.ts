import { fdatasync, fstatSync, realpathSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHooklineDatabase, type HooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { GroupCommitLostError } from '../../shared/adapters/sqlite/errors.ts';
import { GroupCommit, IDLE_BEFORE_CHECKPOINT_MS } from '../../shared/adapters/sqlite/group-commit.ts';
import { SqliteQueues } from '../../shared/adapters/sqlite/sqlite-queue.ts';
import { BackgroundWalFlush, type DataSync } from '../../shared/adapters/sqlite/wal-flush.ts';

const SETTINGS = { visibilityMs: 1000, maxReceiveCount: 5 };
let dir: string;
let db: HooklineDatabase;
let reader: DatabaseSync;
let commits: GroupCommit;
let queues: SqliteQueues;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookline-group-commit-'));
  db = openHooklineDatabase(join(dir, 'hookline.db'));
  queues = new SqliteQueues(db, { events: SETTINGS, deliveries: SETTINGS }, () => new Date());
  // Another connection: what it sees is what a restarted process would find on disk.
  reader = new DatabaseSync(join(dir, 'hookline.db'), { readOnly: true });
});
afterEach(async () => {
  commits.stop();
  reader.close();
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const onDisk = () => Number((reader.prepare('SELECT COUNT(*) AS n FROM queue_messages').get() as { n: number }).n);

describe('GroupCommit', () => {
  it('holds writes in one transaction until commitNow, then they are on disk together', () => {
    commits = new GroupCommit(db, 60_000);
    commits.start();
    queues.send('events', [{ body: 'a' }]);
    queues.send('deliveries', [{ body: 'b' }, { body: 'c' }]);
    expect(onDisk()).toBe(0);
    commits.commitNow();
    expect(onDisk()).toBe(3);
  });

  it('commits on its own within its interval', async () => {
    commits = new GroupCommit(db, 5);
    commits.start();
    queues.send('events', [{ body: 'a' }]);
    const deadline = Date.now() + 5_000;
    while (onDisk() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(onDisk()).toBe(1);
  });

  it('keeps an adapter transaction all-or-nothing inside it (a savepoint)', () => {
    commits = new GroupCommit(db, 60_000);
    commits.start();
    queues.send('events', [{ body: 'kept' }]);
    expect(() =>
      db.transaction(() => {
        queues.send('events', [{ body: 'rolled back' }]);
        throw new Error('fails half way');
      }),
    ).toThrow('fails half way');
    commits.commitNow();
    expect((reader.prepare('SELECT body FROM queue_messages').all() as { body: string }[]).map((r) => r.body)).toEqual(['kept']);
  });

  it('fails commitNow, and every later one, when SQLite rolled the shared transaction back itself (a full disk)', () => {
    const lost: Error[] = [];
    commits = new GroupCommit(db, 60_000, undefined, (error) => lost.push(error));
    commits.start();
    // An accepted event's message, waiting for its answer's commit.
    queues.send('events', [{ body: 'accepted' }]);
    // Another handler's write meets a full disk: SQLite ends the whole transaction, not only its savepoint.
    db.exec('CREATE TABLE filler (x BLOB)');
    const pages = Number((db.connection.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    db.exec(`PRAGMA max_page_count = ${pages + 20}`);
    expect(() => db.transaction(() => db.connection.prepare('INSERT INTO filler VALUES (zeroblob(1000000))').run())).toThrow(/full/);
    expect(db.connection.isTransaction).toBe(false);

    // The answer's commit must not succeed: the event is gone.
    expect(() => commits.commitNow()).toThrow(GroupCommitLostError);
    expect(() => commits.commitNow()).toThrow(GroupCommitLostError);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(GroupCommitLostError);
    expect(onDisk()).toBe(0);
    commits.stop();
  });

  it('stop() commits what is left and returns the database to autocommit', () => {
    commits = new GroupCommit(db, 60_000);
    commits.start();
    queues.send('events', [{ body: 'a' }]);
    commits.stop();
    expect(onDisk()).toBe(1);
    expect(db.connection.isTransaction).toBe(false);
    queues.send('events', [{ body: 'b' }]);
    expect(onDisk()).toBe(2);
  });
});

describe('GroupCommit checkpoints', () => {
  it('checkpoints the WAL into the database file once nothing has been written for a while after a commit', async () => {
    const dbFile = () => statSync(db.file).size;
    commits = new GroupCommit(db, 20);
    commits.start();
    queues.send('deliveries', Array.from({ length: 300 }, (_, i) => ({ body: `${i}`.padEnd(1_000, '.') })));
    commits.commitNow();
    const committedAt = Date.now();
    // What was committed is in the WAL only, until a checkpoint copies it into the file.
    const before = dbFile();
    const deadline = Date.now() + 5_000;
    while (dbFile() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(dbFile()).toBeGreaterThan(before + 300_000);
    expect(Date.now() - committedAt).toBeGreaterThanOrEqual(IDLE_BEFORE_CHECKPOINT_MS - 50);
    expect(onDisk()).toBe(300);
  });
});

describe('BackgroundWalFlush (after each group commit)', () => {
  /** A stand-in for fdatasync that holds each flush until the test ends it. */
  function heldSync() {
    const calls: { fd: number; done: () => void }[] = [];
    const sync: DataSync = (fd, done) => void calls.push({ fd, done: () => done(null) });
    return { calls, sync };
  }
  const isOpen = (fd: number) => {
    try {
      fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  };

  it("flushes the database's WAL after a commit, one flush at a time, and closes it once the last flush has ended", () => {
    const { calls, sync } = heldSync();
    let now = 0;
    commits = new GroupCommit(db, 60_000, new BackgroundWalFlush(db.file, sync, 50, () => now));
    commits.start();
    queues.send('events', [{ body: 'a' }]);
    commits.commitNow();
    expect(calls).toHaveLength(1);
    const [first] = calls;
    expect(realpathSync(`/proc/self/fd/${first!.fd}`)).toBe(realpathSync(`${db.file}-wal`));

    // A commit while a flush runs leaves its pages to the next flush.
    queues.send('events', [{ body: 'b' }]);
    commits.commitNow();
    expect(calls).toHaveLength(1);
    first!.done();
    // So does one less than the interval after the last flush started, though none runs.
    now = 49;
    queues.send('events', [{ body: 'c' }]);
    commits.commitNow();
    expect(calls).toHaveLength(1);
    now = 50;
    queues.send('events', [{ body: 'd' }]);
    commits.commitNow();
    expect(calls).toHaveLength(2);

    // Stopped with a flush in flight: its file stays open until it ends.
    commits.stop();
    expect(isOpen(first!.fd)).toBe(true);
    calls[1]!.done();
    expect(isOpen(first!.fd)).toBe(false);
    expect(onDisk()).toBe(4);
  });

  it('flushes what a commit the interval held back wrote once the interval ends, though no commit follows', async () => {
    const { calls, sync } = heldSync();
    commits = new GroupCommit(db, 60_000, new BackgroundWalFlush(db.file, sync, 30));
    commits.start();
    queues.send('events', [{ body: 'a' }]);
    commits.commitNow();
    calls[0]!.done();
    // Within the interval of the first flush: held back, and nothing else is ever committed.
    queues.send('events', [{ body: 'b' }]);
    commits.commitNow();
    expect(calls).toHaveLength(1);
    const deadline = Date.now() + 5_000;
    while (calls.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(calls).toHaveLength(2);
    calls[1]!.done();
  });

  it('flushes with the real fdatasync, which accepts the WAL opened read-only', async () => {
    const results: (NodeJS.ErrnoException | null)[] = [];
    let started = 0;
    const sync: DataSync = (fd, done) => {
      started++;
      fdatasync(fd, (error) => {
        results.push(error);
        done(error);
      });
    };
    commits = new GroupCommit(db, 60_000, new BackgroundWalFlush(db.file, sync, 0));
    commits.start();
    for (let i = 0; i < 50; i++) {
      queues.send('events', [{ body: `e${i}` }]);
      commits.commitNow();
    }
    commits.stop();
    const deadline = Date.now() + 5_000;
    while (results.length < started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(started).toBeGreaterThan(0);
    expect(results).toEqual(Array(started).fill(null));
    expect(onDisk()).toBe(50);
  });
});
