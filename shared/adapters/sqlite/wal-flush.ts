import { closeSync, fdatasync, openSync } from 'node:fs';

/** The shortest time between the starts of two flushes. */
export const MIN_FLUSH_INTERVAL_MS = 50;

/** How the flush reaches the disk (node:fs's `fdatasync`, on libuv's thread pool); a test gives its own. */
export type DataSync = (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;

/**
 * Writes the WAL's new pages to disk in the background, so that SQLite's checkpoint finds little
 * left to write. With `synchronous=NORMAL` a commit only appends to the WAL, and the checkpoint
 * (run inside a COMMIT on the main thread whenever the WAL reaches `wal_autocheckpoint` pages)
 * first fsyncs the WAL: every page written since the last one. On this 2-CPU VM that fsync was a
 * 90 ms stall of the main thread every 1.5 s at 200 events/s, and the steady run's p99 from
 * publish to receipt was that stall (104 to 156 ms). An `fdatasync` of the WAL after each group
 * commit, on libuv's thread pool while the main thread goes on, leaves the checkpoint's fsync a
 * few pages: those commits took 10 to 15 ms.
 *
 * At most one flush starts every MIN_FLUSH_INTERVAL_MS: at a steady 200 events/s each event's
 * answer commits (GroupCommit.commitNow), and a flush per commit cost the main thread about 2 % in
 * waking libuv's pool (a CPU profile of the steady bench) for a checkpoint that finds a few
 * milliseconds more of pages to sync. A commit the interval holds back is flushed when it ends.
 *
 * Durability: a commit survives a killed process at once (its pages are in the OS's cache), and
 * a power cut once flushed, about MIN_FLUSH_INTERVAL_MS later at most. An answer does not wait for
 * the flush: waiting (an fdatasync started after each answer's commit, shared by the answers
 * meanwhile) cost the bench's ingest 60 % of its rate (4,032 events/s against 9,624) and tripled
 * the steady run's p99 (98 ms against 46), one bench run each way.
 * A flush that fails is left to SQLite's own fsync, which reports it.
 */
export class BackgroundWalFlush {
  private readonly walFile: string;
  private readonly sync: DataSync;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private fd: number | undefined;
  private inFlight = false;
  private closed = false;
  private startedAt = -Infinity;
  /** A commit came while a flush ran: another follows it. */
  private pending = false;
  /** The flush owed to commits the interval held back, at its end. */
  private trailing: NodeJS.Timeout | undefined;

  /** `databaseFile`: the database's path; its WAL is `<databaseFile>-wal`. */
  constructor(databaseFile: string, sync: DataSync = fdatasync, minIntervalMs = MIN_FLUSH_INTERVAL_MS, now: () => number = () => performance.now()) {
    this.walFile = `${databaseFile}-wal`;
    this.sync = sync;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  /**
   * After a commit: starts a flush, or, while one runs or less than `minIntervalMs` after the
   * last one started, makes sure one starts once that is over. So every commit's pages are on
   * disk within about `minIntervalMs` and an fdatasync, whether or not another commit follows.
   */
  request(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    const wait = this.minIntervalMs - (this.now() - this.startedAt);
    if (wait > 0) {
      this.trailing ??= setTimeout(() => {
        this.trailing = undefined;
        this.request();
      }, wait).unref();
      return;
    }
    this.start();
  }

  /** No more flushes; the file is closed now, or when the flush in flight ends (its fd must stay open until then). */
  close(): void {
    this.closed = true;
    clearTimeout(this.trailing);
    this.trailing = undefined;
    if (!this.inFlight) this.closeFile();
  }

  private start(): void {
    // The WAL is opened at the first flush that finds it: SQLite makes it at the first write.
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walFile, 'r');
      } catch {
        return;
      }
    }
    this.inFlight = true;
    this.pending = false;
    this.startedAt = this.now();
    this.sync(this.fd, () => {
      this.inFlight = false;
      if (this.closed) this.closeFile();
      else if (this.pending) this.request();
    });
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
