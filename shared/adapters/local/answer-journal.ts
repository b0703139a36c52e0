import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What a replayed answer keeps: the status and how long it took (no headers or body, which may echo credentials). */
export interface JournaledAnswer {
  readonly statusCode: number;
  readonly durationMs: number;
}

/** A journal file is replaced after this long; the one before it is kept, older ones deleted. */
const ROTATE_MS = 60_000;
const FILE = /^answers\.(\d+)\.log$/;

/**
 * One machine: the 2xx answers the sender thread received, by attempt key, appended as they
 * come (one `write` a line, no fsync: a killed process's writes are in the OS's page cache, as
 * the database's are). An answer reaches the database some milliseconds later, in the main
 * thread's next turn; a kill in between used to send that attempt again after the restart. The
 * next start reads the journal (`takeOver`), and the sender gives the journaled answer to a
 * claim of the same attempt instead of POSTing it again.
 *
 * Only the status and the duration are kept (a receiver's headers and body may echo a
 * credential), and only for about two minutes (two files of a minute): an outcome is committed
 * within milliseconds of its answer, so nothing older is ever needed.
 */
export class AnswerJournal {
  private readonly dir: string;
  private readonly now: () => number;
  private fd: number | undefined;
  private openedAt = 0;

  constructor(dir: string, now: () => number = Date.now) {
    this.dir = dir;
    this.now = now;
  }

  /**
   * The answers an earlier process journaled, by attempt key, and their files deleted. A line
   * cut short by a kill is skipped.
   */
  takeOver(): Map<string, JournaledAnswer> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const answers = new Map<string, JournaledAnswer>();
    for (const name of this.files()) {
      const path = join(this.dir, name);
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const [key, status, duration] = line.split('\t');
        const statusCode = Number(status);
        const durationMs = Number(duration);
        if (key && Number.isInteger(statusCode) && Number.isFinite(durationMs)) answers.set(key, { statusCode, durationMs });
      }
      rmSync(path, { force: true });
    }
    return answers;
  }

  /** Appends a 2xx answer to attempt `key`. */
  record(key: string, answer: JournaledAnswer): void {
    if (this.fd === undefined || this.now() - this.openedAt >= ROTATE_MS) this.rotate();
    writeSync(this.fd!, `${key}\t${answer.statusCode}\t${answer.durationMs}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A new file; of the earlier ones only the last stays. */
  private rotate(): void {
    this.close();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of this.files().slice(0, -1)) rmSync(join(this.dir, name), { force: true });
    this.openedAt = this.now();
    this.fd = openSync(join(this.dir, `answers.${this.openedAt}.log`), 'a', 0o600);
  }

  /** The journal's files, oldest first. */
  private files(): string[] {
    return readdirSync(this.dir)
      .map((name) => FILE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => m[0]);
  }
}
