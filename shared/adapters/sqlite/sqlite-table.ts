import type { StatementSync } from 'node:sqlite';
import type { HooklineDatabase } from './database.ts';
import { StoreError } from './errors.ts';

/**
 * What every SQLite adapter holds: the database, and how long its rows live (the `expires_at`
 * its DynamoDB sibling writes for the TTL). Several adapters share one HooklineDatabase, so a
 * caller can put their calls in one transaction (see database.ts).
 */
export abstract class SqliteTable {
  protected readonly db: HooklineDatabase;
  private readonly retentionDays: number;
  constructor(db: HooklineDatabase, retentionDays = 0) {
    this.db = db;
    this.retentionDays = retentionDays;
  }

  /** The TTL column's value: epoch seconds `retentionDays` after `from` (as DynamoTable.expiresAt). */
  protected expiresAt(from: Date): number {
    return Math.floor(from.getTime() / 1000) + this.retentionDays * 86_400;
  }

  /**
   * Runs `sql` with a failure turned into a StoreError (`could not <what>`), as the DynamoDB
   * adapters translate SDK exceptions.
   */
  protected run<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError(`could not ${what}`, { cause: err });
    }
  }

  protected statement(sql: string): StatementSync {
    return this.db.prepare(sql);
  }
}

/**
 * A bound LIMIT or OFFSET value, written `LIMIT ${BOUND_INT}`. A statement whose LIMIT or OFFSET
 * is a bare parameter ran 9 to 11 us slower on every run, about what preparing it costs (SQLite
 * 3.53 apparently plans it again whenever that parameter is bound); through a CAST it runs as if
 * the number were written in (the queue's SELECT of visible messages, none visible: 9.8 -> 1.5
 * us). The steady-rate bench's pollers receive about 800 times a second.
 */
export const BOUND_INT = 'CAST(? AS INTEGER)';

/** Now in epoch seconds: a row is visible while its `expires_at` is after it. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);


/** A column that may be NULL, as an optional property (absent, as DynamoDB leaves it). */
export const optional = <K extends string>(key: K, value: unknown): { [P in K]?: string } =>
  (value === null || value === undefined ? {} : { [key]: value as string }) as { [P in K]?: string };

/**
 * The reconciler reads due work a page per shard (the shape of the DynamoDB index it was first
 * written for); one index here gives a page as wide as this many shards.
 */
export const DUE_SHARDS = 8;
