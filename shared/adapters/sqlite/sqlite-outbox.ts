import { OUTBOX_FROM, outboxEmail, writeOutboxFile } from '../local/outbox-files.ts';
import type { Email, Mailer } from '../../usecases/ports.ts';
import type { HooklineDatabase } from './database.ts';
import { SqliteTable } from './sqlite-table.ts';

/**
 * The one-machine runtime's mailer: an email is a row written with the writes that made it
 * (a webhook's claim of its email window, a verification token), and its file goes into the
 * outbox only once they are committed (deliverCommitted, after each group commit and at start).
 * Written at once instead, a file and the claim it goes with were two writes: a kill after the
 * file, before the commit, sent the email again after the restart; a kill after the commit,
 * before the file, lost it (the window was claimed, so the redone step held it back). Now
 * either both are kept or neither, and a row whose file was written but not yet forgotten is
 * written once (by its name).
 */
export class SqliteOutbox extends SqliteTable implements Mailer {
  private readonly dir: string;
  private readonly from: string;
  /** Rows written since the last delivery (or at start: the last process's, maybe). */
  private pending = true;

  constructor(db: HooklineDatabase, dir: string, from = OUTBOX_FROM) {
    super(db);
    this.dir = dir;
    this.from = from;
  }

  async send(email: Email): Promise<void> {
    const { file, message } = outboxEmail(email, this.from, new Date());
    this.run('queue an email', () => this.statement('INSERT INTO outbox_emails (file, message) VALUES (?, ?)').run(file, message));
    this.pending = true;
  }

  /**
   * Writes the files of the emails committed so far, then forgets them (in the transaction that
   * follows: a kill before that commits writes nothing twice, the files being there by name).
   * Call it right after a commit, before anything else writes: every row it sees is committed.
   * A file that cannot be written (a full disk) keeps its row for the next call.
   */
  deliverCommitted(): void {
    if (!this.pending) return;
    const rows = this.run('read the outbox', () => this.statement('SELECT file, message FROM outbox_emails').all());
    this.pending = false;
    for (const row of rows) {
      const file = row['file'] as string;
      try {
        writeOutboxFile(this.dir, file, row['message'] as string);
      } catch {
        this.pending = true;
        continue;
      }
      this.run('forget a written email', () => this.statement('DELETE FROM outbox_emails WHERE file = ?').run(file));
    }
  }
}
