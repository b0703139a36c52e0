import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What a replayed answer keeps: the status and how long it took (no headers or body, which may echo credentials). */
export interface JournaledAnswer {
  readonly statusCode: number;
  readonly durationMs: number;
}

/** One journal line: the attempt key, the status, the duration and when it was answered (epoch ms). */
const line = (key: string, answer: JournaledAnswer, answeredAt: number): string => `${key}\t${answer.statusCode}\t${answer.durationMs}\t${answeredAt}\n`;

/** A journal file is replaced after this long; the one before it is kept, older ones deleted. */
const ROTATE_MS = 60_000;
/**
 * How long after its answer a journaled 2xx may still be given to a claim of its attempt. The
 * claims a restart owes come at once (the start makes what the killed process had taken visible
 * again), so this is ample; it also bounds how long answers are carried from start to start.
 */
export const ANSWER_REPLAY_MS = 10 * 60_000;
const FILE = /^answers\.(\d+)\.log$/;

/**
 * One machine: the 2xx answers the sender thread received, by attempt key, appended as they
 * come (one `write` a line, no fsync: a killed process's writes are in the OS's page cache, as
 * the database's are). An answer reaches the database some milliseconds later, in the main
 * thread's next turn; a kill in between used to send that attempt again after the restart. The
 * next start reads the journal (`takeOver`), and the sender gives the journaled answer to a
 * claim of the same attempt instead of POSTing it again.
 *
 * Only the status, the duration and the time are kept (a receiver's headers and body may echo a
 * credential), and only for about two minutes while running (two files of a minute): an outcome
 * is committed within milliseconds of its answer, so nothing older is ever needed. What a start
 * takes over is carried into each of its files while it may still be given (ANSWER_REPLAY_MS), so
 * that a later kill loses none.
 */
export class AnswerJournal {
  private readonly dir: string;
  private readonly now: () => number;
  private fd: number | undefined;
  private openedAt = 0;
  /**
   * What takeOver carried from earlier processes, written again into each new file while within
   * ANSWER_REPLAY_MS: rotation deletes the file it was first written to after two minutes, while
   * the sender may still give it to a claim for ten (a second kill then would resend the attempt).
   */
  private carried: [string, JournaledAnswer & { readonly answeredAt: number }][] = [];

  constructor(dir: string, now: () => number = Date.now) {
    this.dir = dir;
    this.now = now;
  }

  /**
   * The answers earlier processes journaled in the last ANSWER_REPLAY_MS, by attempt key. A line
   * cut short by a kill is skipped. They are written again into this process's first file before
   * the earlier files are deleted: a second kill, before the claims they answer have their
   * outcomes committed, finds them again.
   */
  takeOver(): Map<string, JournaledAnswer> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const earlier = this.files();
    const now = this.now();
    const answers = new Map<string, JournaledAnswer & { readonly answeredAt: number }>();
    for (const name of earlier) {
      for (const line of readFileSync(join(this.dir, name), 'utf8').split('\n')) {
        const [key, status, duration, at] = line.split('\t');
        const statusCode = Number(status);
        const durationMs = Number(duration);
        // Lines of the first format have no time: they count as answered now.
        const answeredAt = at === undefined ? now : Number(at);
        if (key && Number.isInteger(statusCode) && Number.isFinite(durationMs) && now - answeredAt < ANSWER_REPLAY_MS) {
          answers.set(key, { statusCode, durationMs, answeredAt });
        }
      }
    }
    this.carried = [...answers];
    this.open();
    this.writeCarried();
    for (const name of earlier) rmSync(join(this.dir, name), { force: true });
    return new Map([...answers].map(([key, { statusCode, durationMs }]) => [key, { statusCode, durationMs }]));
  }

  /** Appends a 2xx answer to attempt `key`. */
  record(key: string, answer: JournaledAnswer): void {
    if (this.fd === undefined || this.now() - this.openedAt >= ROTATE_MS) this.rotate();
    writeSync(this.fd!, line(key, answer, this.now()));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A new file (with what was carried over and may still be given); of the earlier ones only the last stays. */
  private rotate(): void {
    this.close();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of this.files().slice(0, -1)) rmSync(join(this.dir, name), { force: true });
    this.open();
    this.writeCarried();
  }

  private writeCarried(): void {
    const now = this.now();
    this.carried = this.carried.filter(([, a]) => now - a.answeredAt < ANSWER_REPLAY_MS);
    if (this.carried.length > 0) writeSync(this.fd!, this.carried.map(([key, a]) => line(key, a, a.answeredAt)).join(''));
  }

  private open(): void {
    this.close();
    // Never the name of a file just read: a start within the same millisecond as the last rotation appends to a new one.
    this.openedAt = Math.max(this.now(), ...this.files().map((name) => Number(FILE.exec(name)![1]) + 1));
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
