import { closeSync, fdatasync, openSync } from 'node:fs';

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
 * Durability is SQLite's, unchanged: this only makes pages durable sooner than the checkpoint
 * would. A flush that fails is left to SQLite's own fsync, which reports it.
 */
export class BackgroundWalFlush {
  private readonly walFile: string;
  private readonly sync: DataSync;
  private fd: number | undefined;
  private inFlight = false;
  private closed = false;

  /** `databaseFile`: the database's path; its WAL is `<databaseFile>-wal`. */
  constructor(databaseFile: string, sync: DataSync = fdatasync) {
    this.walFile = `${databaseFile}-wal`;
    this.sync = sync;
  }

  /**
   * Starts a flush unless one is running (what this commit wrote is then left to the next
   * request). The WAL is opened at the first request that finds it: SQLite makes it at the first write.
   */
  request(): void {
    if (this.inFlight || this.closed) return;
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walFile, 'r');
      } catch {
        return;
      }
    }
    this.inFlight = true;
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
