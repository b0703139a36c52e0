import type { HooklineDatabase } from './database.ts';
import { GroupCommitLostError } from './errors.ts';
import { BackgroundWalFlush } from './wal-flush.ts';

/** How long the database must go unwritten before the WAL is checkpointed in the quiet (see the class comment). */
export const IDLE_BEFORE_CHECKPOINT_MS = 1_000;

/**
 * Group commit for the one-machine runtime: the database stays in a transaction, and what every
 * handler wrote meanwhile is committed together at most `intervalMs` later, or at once by
 * `commitNow()`. A commit writes every page it changed to the WAL, and each table and index a
 * delivery touches (a dozen) changes its last page whatever the commit holds, so the fewer the
 * commits, the fewer pages a delivery costs. Once per delivery step (claim, outcome, queue
 * delete...) was most of the runtime's time. Measured with 20,000 deliveries as fast as they go:
 * every 2 ms, about 15 deliveries a commit and 2.9 WAL pages a delivery; every 10 ms, about 55
 * and 1.3, half the time in COMMIT, and a checkpoint (with its fsyncs, the longest stall of the
 * main thread) less than half as often. A commit still cost about 1.5 ms of the main thread,
 * nearly all of it whatever it held: with the bench's 10,000 deliveries (2 CPUs), the COMMITs
 * took 500 ms in all every 10 ms, 194 ms every 50 ms, 87 ms every 100 ms and 60 ms every
 * 200 ms. Every 100 ms: past it the saving is a few us a delivery, while a kill redoes more.
 * Nothing waits for a commit but an API answer: the runtime's one connection reads what it wrote.
 *
 * What it changes for durability: a write is durable once committed, not once its statement ran.
 * Whatever must not be acknowledged before it is committed commits first: the HTTP server calls
 * `commitNow()` before it answers (a `202` means the event is stored), and the queue pollers'
 * work needs no such promise (a crash before the commit redoes it: at-least-once, as SQS).
 * Adapter transactions (HooklineDatabase.transaction) become savepoints inside it, so they stay
 * all-or-nothing. After a commit the WAL's new pages go to disk in the background (at most
 * every 50 ms, BackgroundWalFlush, which says why answers do not wait for it), so that a
 * checkpoint does not stall the main thread on its fsync.
 *
 * When SQLite rolls the shared transaction back itself (some failures do: a full disk, an I/O
 * error, whichever handler's statement met it), every write since the last commit is gone, and no
 * one can tell whose. `commitNow()` finds its transaction missing and throws GroupCommitLostError
 * instead of letting an answer promise what is gone; so does every later call, and `onLost` is told
 * once (the runtime stops: its queues' memory no longer matches the database, and a restart resumes
 * from the last commit, as after a kill).
 *
 * Checkpoints: SQLite runs one inside the COMMIT that takes the WAL past `wal_autocheckpoint`.
 * After a burst the WAL is left long, and the first request after it paid for copying it (a
 * 55 to 60 ms COMMIT in the bench's steady run, which follows its pipeline). So once nothing has
 * been written for IDLE_BEFORE_CHECKPOINT_MS after a commit, the WAL is checkpointed then.
 */
export class GroupCommit {
  private readonly db: HooklineDatabase;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private changesAtCommit = 0;
  private readonly totalChanges: () => number;
  private readonly walFlush: BackgroundWalFlush;
  /** When something was last committed (0: nothing since the last checkpoint). */
  private committedAt = 0;
  /** Whether the shared transaction was begun here and not committed since. */
  private open = false;
  private lost: GroupCommitLostError | undefined;
  private readonly onLost: ((error: GroupCommitLostError) => void) | undefined;
  private readonly committedListeners: (() => void)[] = [];

  constructor(db: HooklineDatabase, intervalMs = 100, walFlush = new BackgroundWalFlush(db.file), onLost?: (error: GroupCommitLostError) => void) {
    this.db = db;
    this.intervalMs = intervalMs;
    this.walFlush = walFlush;
    this.onLost = onLost;
    const statement = db.connection.prepare('SELECT total_changes() AS n');
    this.totalChanges = () => Number((statement.get() as { n: number }).n);
  }

  /**
   * Calls `listener` right after each commit, before anything else runs: what it reads was
   * committed (the outbox writes the files of committed emails, see SqliteOutbox).
   */
  afterEachCommit(listener: () => void): void {
    this.committedListeners.push(listener);
  }

  /** Opens the shared transaction and commits it every `intervalMs` when something was written. */
  start(): void {
    this.begin();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Commits what was written so far (nothing to do if nothing was) and opens the next transaction.
   * Throws GroupCommitLostError when SQLite has rolled the shared transaction back (see the class comment).
   */
  commitNow(): void {
    if (this.lost) throw this.lost;
    if (this.open && !this.db.connection.isTransaction) this.fail();
    const changes = this.totalChanges();
    if (changes === this.changesAtCommit && this.db.connection.isTransaction) return;
    if (this.db.connection.isTransaction) this.commit();
    this.changesAtCommit = changes;
    this.committedAt = Date.now();
    this.walFlush.request();
    if (this.timer) this.begin();
    for (const listener of this.committedListeners) {
      try {
        listener();
      } catch {
        // What is committed stays committed; a listener that failed is called again next time.
      }
    }
  }

  /** The interval's work: a commit, or in a quiet spell after one, a checkpoint. */
  private tick(): void {
    try {
      this.commitNow();
    } catch {
      // The transaction was lost (fail() stopped this interval and told onLost), or the COMMIT
      // failed and the next tick or answer tries again.
      return;
    }
    if (this.committedAt === 0 || Date.now() - this.committedAt < IDLE_BEFORE_CHECKPOINT_MS) return;
    this.committedAt = 0;
    try {
      // Outside the (empty) shared transaction: a checkpoint cannot run inside one.
      if (this.db.connection.isTransaction) this.commit();
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // Nothing lost: the next COMMIT past wal_autocheckpoint checkpoints, as without this.
    } finally {
      this.begin();
    }
  }

  /** Commits and leaves the database in autocommit mode (after a loss, only stops). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      if (!this.lost) this.commitNow();
    } finally {
      this.walFlush.close();
    }
  }

  private begin(): void {
    // Deferred: the process is the database's only writer, so no lock is worth taking early.
    if (!this.db.connection.isTransaction) this.db.exec('BEGIN');
    this.open = true;
  }

  private commit(): void {
    this.db.exec('COMMIT');
    this.open = false;
  }

  private fail(): never {
    this.lost = new GroupCommitLostError(
      'SQLite rolled back the shared transaction (a full disk, an I/O error or a damaged database file: see the error a handler met just before): ' +
        'what was written since the last commit is gone, and whose cannot be told',
    );
    this.open = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.onLost?.(this.lost);
    throw this.lost;
  }
}
