import { chmodSync, closeSync, openSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { AsyncTransactionError, DatabaseOpenError, DatabaseVersionError } from './errors.ts';
import { EXPIRING_TABLES, SCHEMA, SCHEMA_VERSION } from './schema.ts';
import { BOUND_INT } from './sqlite-table.ts';

/**
 * The one-machine runtime's database: one SQLite file (node:sqlite, no dependency) holding every
 * store and the durable queue.
 *
 * Durability: WAL with `synchronous=NORMAL`. A commit is appended to the WAL without an fsync, so
 * a killed process (SIGKILL, what `npm run chaos` does) loses nothing committed: the WAL is in
 * the OS's page cache and the next open replays it. Only a power cut or kernel crash can lose
 * the last commits before the background flush (BackgroundWalFlush: about 50 ms) or a
 * checkpoint, never corrupt the file; that is the trade for commits that cost microseconds.
 *
 * The rule every adapter here keeps, and that makes transactions across adapters possible:
 * a method does all its SQL synchronously, before it returns its promise (there is no `await`
 * before the last statement). So a caller may run several adapter calls inside one
 * `db.transaction(() => ...)`, and they commit or roll back together. A statement that fails in
 * a port method becomes a rejected promise, which the transaction cannot see: for all-or-nothing
 * work use the adapters' `...Sync` methods (e.g. SqliteAttemptLog.recordSync with
 * SqliteDeliveryStore.completeSync), whose throws roll the transaction back.
 */
export class HooklineDatabase {
  /** The node:sqlite connection, for code that manages its own statements (the queue). */
  readonly connection: DatabaseSync;
  readonly file: string;
  private readonly statements = new Map<string, StatementSync>();
  private savepoints = 0;
  /** Per savepoint depth (the index), its SAVEPOINT and RELEASE statements, prepared once. */
  private readonly levels: { begin: StatementSync; end: StatementSync }[] = [];

  constructor(connection: DatabaseSync, file: string) {
    this.connection = connection;
    this.file = file;
  }

  exec(sql: string): void {
    this.connection.exec(sql);
  }

  /** A prepared statement, compiled once per SQL text and reused. */
  prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * A statement of its own whose rows come as arrays, in the order of its columns: node:sqlite
   * names every column of a row object anew, which was half of what a claim cost (12 us against
   * 5 without RETURNING, 8 as an array). For the statements a delivery runs once per attempt.
   */
  prepareRowsAsArrays(sql: string): StatementSync {
    const statement = this.connection.prepare(sql);
    statement.setReturnArrays(true);
    return statement;
  }

  /**
   * Runs `fn` in a transaction: BEGIN IMMEDIATE (the write lock is taken at once, so a
   * read-then-write inside cannot be overtaken), COMMIT when `fn` returns, ROLLBACK when it
   * throws. Inside another transaction (this helper's or one begun on `connection`) it is a
   * SAVEPOINT: a throw rolls back the inner part only, and the outer one decides. `fn` must be
   * synchronous: a returned promise is refused (its work would run after the COMMIT).
   */
  transaction<T>(fn: () => T): T {
    const nested = this.connection.isTransaction;
    const depth = ++this.savepoints;
    const level = this.level(nested, depth);
    level.begin.run();
    try {
      const result = fn();
      if (isThenable(result)) {
        result.then(undefined, () => undefined);
        throw new AsyncTransactionError('a transaction callback must be synchronous: it returned a promise, whose work would run after the commit');
      }
      level.end.run();
      return result;
    } catch (err) {
      // Some failures (a full disk) end the whole transaction in SQLite already: then there is nothing left to undo.
      if (this.connection.isTransaction) {
        try {
          this.exec(nested ? `ROLLBACK TO hookline_${depth}; RELEASE hookline_${depth}` : 'ROLLBACK');
        } catch {
          // The savepoint went with the transaction: GroupCommit finds its transaction gone.
        }
      }
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  /**
   * The statements that open and close a transaction at this depth, prepared once: under the
   * runtime's group commit every adapter transaction is a savepoint, several per delivery, and
   * parsing them (then naming them, a string built and looked up each time) showed.
   */
  private level(nested: boolean, depth: number): { begin: StatementSync; end: StatementSync } {
    if (!nested) return { begin: this.prepare('BEGIN IMMEDIATE'), end: this.prepare('COMMIT') };
    let level = this.levels[depth];
    if (!level) {
      level = { begin: this.connection.prepare(`SAVEPOINT hookline_${depth}`), end: this.connection.prepare(`RELEASE hookline_${depth}`) };
      this.levels[depth] = level;
    }
    return level;
  }

  /**
   * Deletes rows past their `expires_at` (DynamoDB's TTL, which reads already honour), in
   * batches of `batchSize`, each its own short transaction so that writers are never held up
   * for long. Deletes at most `limit` rows a call and returns how many it deleted: when that is
   * `limit`, more may be left for the next call.
   */
  purgeExpired(now: Date, limit = 10_000, batchSize = 500): number {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    let deleted = 0;
    for (const table of EXPIRING_TABLES) {
      const purge = this.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at <= ? LIMIT ${BOUND_INT})`);
      while (deleted < limit) {
        const batch = Math.min(batchSize, limit - deleted);
        const changes = Number(this.transaction(() => purge.run(nowSeconds, batch).changes));
        deleted += changes;
        if (changes < batch) break;
      }
    }
    return deleted;
  }

  close(): void {
    this.statements.clear();
    this.levels.length = 0;
    if (this.connection.isOpen) this.connection.close();
  }
}

export interface OpenOptions {
  /** How long a statement waits for another connection's write lock before it fails. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the database file and brings its tables to SCHEMA_VERSION. Refuses,
 * with a DatabaseOpenError that says what to do, a file that is not a SQLite database, one that
 * cannot be put in WAL mode, and one written by a newer version (DatabaseVersionError).
 */
export function openHooklineDatabase(file: string, options: OpenOptions = {}): HooklineDatabase {
  createPrivate(file);
  let connection: DatabaseSync;
  try {
    connection = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 5_000, enableForeignKeyConstraints: true });
  } catch (err) {
    throw new DatabaseOpenError(`cannot open the database ${file}: ${message(err)}`, { cause: err });
  }
  const db = new HooklineDatabase(connection, file);
  try {
    refuseForeign(db);
    makePrivate(file);
    configure(db);
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof DatabaseOpenError) throw err;
    throw new DatabaseOpenError(`cannot use ${file} as Hookline's database (${message(err)}): move it away or point HOOKLINE_DATA_DIR elsewhere`, { cause: err });
  }
  return db;
}

/**
 * Every tenant's data is in these files: their owner's only, whatever the umask or the data
 * dir's mode. SQLite gives the WAL and shared-memory files the database file's mode, so a new
 * database is created 0600 before SQLite opens it (createPrivate), and one left readable is made
 * private (makePrivate). What fails here (a directory in its place, no permission) is left for
 * SQLite's open to report.
 */
function createPrivate(file: string): void {
  if (file === ':memory:' || file === '') return;
  try {
    closeSync(openSync(file, 'ax', 0o600));
  } catch {
    // There already (or not creatable: SQLite's open says why).
  }
}

function makePrivate(file: string): void {
  if (file === ':memory:' || file === '') return;
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, 0o600);
    } catch {
      // Not there yet (SQLite makes it with the database's mode), or not ours to change.
    }
  }
}

function configure(db: HooklineDatabase): void {
  const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'];
  if (mode !== 'wal') throw new DatabaseOpenError(`cannot put ${db.file} in WAL mode (the file system gave "${String(mode)}")`);
  // See the class comment: safe against killed processes, fsyncs only at checkpoints.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA temp_store = MEMORY');
  // 8 MB of page cache: the working set of a busy pipeline (due indexes, recent rows); the OS
  // caches the rest of the file. 16 MB was 8 MB more RSS at the same throughput (npm run bench).
  db.exec('PRAGMA cache_size = -8000');
  // A checkpoint (with the fsync of synchronous=NORMAL) every 8,000 WAL pages (32 MB) instead of
  // 1,000: a busy pipeline commits about every 2 ms, and checkpointing every few dozen commits
  // cost about a tenth of its throughput. The WAL is replayed at the next open after a kill.
  db.exec('PRAGMA wal_autocheckpoint = 8000');
}

/**
 * Schema version 0 with tables in it: another program's database (HOOKLINE_DATA_DIR pointed at
 * the wrong directory). Refused before anything is changed in it: its journal mode, its mode
 * bits, Hookline's tables.
 */
function refuseForeign(db: HooklineDatabase): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  if (version === 0 && db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1").get() !== undefined) {
    throw new DatabaseOpenError(`${db.file} holds another program's tables, not Hookline's: point HOOKLINE_DATA_DIR at a directory of Hookline's own, or an empty one`);
  }
}

function migrate(db: HooklineDatabase): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new DatabaseVersionError(
      `the database ${db.file} was written by a newer Hookline (schema version ${version}; this one knows up to ${SCHEMA_VERSION}): run that version, or start with another HOOKLINE_DATA_DIR`,
    );
  }
  // Every statement is CREATE ... IF NOT EXISTS: run at each open, it also adds a table listed
  // since the file was made at this version (cheap: a no-op per existing table).
  db.transaction(() => {
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
