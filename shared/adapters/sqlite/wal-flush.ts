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
 * milliseconds more of pages to sync.
 *
 * Durability is SQLite's, unchanged: this only makes pages durable sooner than the checkpoint
 * would. A flush that fails is left to SQLite's own fsync, which reports it.
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

  /** `databaseFile`: the database's path; its WAL is `<databaseFile>-wal`. */
  constructor(databaseFile: string, sync: DataSync = fdatasync, minIntervalMs = MIN_FLUSH_INTERVAL_MS, now: () => number = () => performance.now()) {
    this.walFile = `${databaseFile}-wal`;
    this.sync = sync;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  /**
   * Starts a flush unless one is running or one started less than `minIntervalMs` ago (what this
   * commit wrote is then left to a later request). The WAL is opened at the first request that
   * finds it: SQLite makes it at the first write.
   */
  request(): void {
    if (this.inFlight || this.closed) return;
    const now = this.now();
    if (now - this.startedAt < this.minIntervalMs) return;
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walFile, 'r');
      } catch {
        return;
      }
    }
    this.inFlight = true;
    this.startedAt = now;
    this.sync(this.fd, () => {
      this.inFlight = false;
      if (this.closed) this.closeFile();
    });
  }

  /** No more flushes; the file is closed now, or when the flush in flight ends (its fd must stay open until then). */
  close(): void {
    this.closed = true;
    if (!this.inFlight) this.closeFile();
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
