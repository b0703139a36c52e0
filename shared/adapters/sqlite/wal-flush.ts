import { closeSync, fdatasync, openSync } from 'node:fs';
import { StoreError } from './errors.ts';

/** The shortest time between the starts of two flushes. */
export const MIN_FLUSH_INTERVAL_MS = 50;

/** How the flush reaches the disk (node:fs's `fdatasync`, on libuv's thread pool); a test gives its own. */
export type DataSync = (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;

/**
 * Writes the WAL's new pages to disk in the background, so that SQLite's checkpoint finds little
 * left to write, and so that an API answer can wait until what it promises is on disk.
 *
 * With `synchronous=NORMAL` a commit only appends to the WAL (a killed process loses nothing: the
 * pages are in the OS's cache; a power cut could), and the checkpoint (run inside a COMMIT on the
 * main thread whenever the WAL reaches `wal_autocheckpoint` pages) first fsyncs the WAL: every
 * page written since the last one. On this 2-CPU VM that fsync was a 90 ms stall of the main
 * thread every 1.5 s at 200 events/s, and the steady run's p99 from publish to receipt was that
 * stall (104 to 156 ms). An `fdatasync` of the WAL after group commits, on libuv's thread pool
 * while the main thread goes on, leaves the checkpoint's fsync a few pages: those commits took 10
 * to 15 ms.
 *
 * `request()` (after every commit) starts at most one flush every MIN_FLUSH_INTERVAL_MS: a flush
 * per commit cost the main thread about 2 % in waking libuv's pool (a CPU profile of the steady
 * bench at 200 events/s). `durable()` (before an answer that promises its writes are stored)
 * starts one at once, or right after the one running, which may have begun before the commit:
 * here an `fdatasync` takes about 0.5 ms, and the answers that wait meanwhile share the next one.
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
  /** A commit was made since the last flush started. */
  private dirty = false;
  /** Waiting for the flush in flight. */
  private current: Waiter[] = [];
  /** Waiting for a flush that starts after the one in flight (their commits came after it started). */
  private next: Waiter[] = [];

  /** `databaseFile`: the database's path; its WAL is `<databaseFile>-wal`. */
  constructor(databaseFile: string, sync: DataSync = fdatasync, minIntervalMs = MIN_FLUSH_INTERVAL_MS, now: () => number = () => performance.now()) {
    this.walFile = `${databaseFile}-wal`;
    this.sync = sync;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  /**
   * After a commit: starts a flush unless one is running or one started less than `minIntervalMs`
   * ago (what this commit wrote is then left to a later flush).
   */
  request(): void {
    if (this.closed) return;
    this.dirty = true;
    if (!this.inFlight && this.now() - this.startedAt >= this.minIntervalMs) this.flush();
  }

  /**
   * Resolves once every commit made so far is on disk (rejects when the flush fails): at once
   * when they are already, else after the flush in flight or the next one, started for it now.
   */
  durable(): Promise<void> {
    if (!this.dirty) return this.inFlight ? new Promise((resolve, reject) => this.current.push({ resolve, reject })) : Promise.resolve();
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  /** No more flushes but those owed to `durable()`; the file is closed once the last has ended (its fd must stay open until then). */
  close(): void {
    this.closed = true;
    if (!this.inFlight) this.closeFile();
  }

  private flush(): void {
    // The WAL is opened at the first flush that finds it: SQLite makes it at the first write.
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walFile, 'r');
      } catch {
        // No WAL: nothing was ever written, so nothing is owed.
        this.dirty = false;
        return this.settle(this.next.splice(0), null);
      }
    }
    this.inFlight = true;
    this.dirty = false;
    this.startedAt = this.now();
    this.current = this.next;
    this.next = [];
    this.sync(this.fd, (error) => {
      this.inFlight = false;
      this.settle(this.current.splice(0), error);
      if (this.next.length > 0) this.flush();
      else if (this.closed) this.closeFile();
    });
  }

  private settle(waiters: readonly Waiter[], error: NodeJS.ErrnoException | null): void {
    for (const w of waiters) {
      if (error) w.reject(new StoreError(`could not write the database's log to disk: ${error.message}`, { cause: error }));
      else w.resolve();
    }
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}
