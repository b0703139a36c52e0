import { LAG_WINDOW_MS, type LagFront, type LagRecords } from '../../usecases/queue-lag.ts';
import { nowSeconds, SqliteTable } from './sqlite-table.ts';

const DAY_S = 86_400;

/**
 * The consumers' lag records: one row per queue and per slow
 * webhook, keeping the oldest front of each window, read by the reconciler.
 */
export class SqliteQueueLag extends SqliteTable implements LagRecords {
  async record(key: string, dueAt: Date, now: Date): Promise<void> {
    // Older work was recorded within the window: that front stands (the update does nothing).
    this.run('record a queue lag', () =>
      this.statement(
        `INSERT INTO queue_lag (lag_key, due_at, observed_at, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET due_at = excluded.due_at, observed_at = excluded.observed_at, expires_at = excluded.expires_at
         WHERE observed_at < ?5 OR due_at > excluded.due_at`,
      ).run(key, dueAt.toISOString(), now.toISOString(), Math.floor(now.getTime() / 1000) + DAY_S, new Date(now.getTime() - LAG_WINDOW_MS).toISOString()),
    );
  }

  async read(keys: readonly string[]): Promise<Map<string, LagFront>> {
    const out = new Map<string, LagFront>();
    const unique = [...new Set(keys)];
    if (unique.length === 0) return out;
    const rows = this.run('read the queue lag records', () =>
      this.statement('SELECT lag_key, due_at, observed_at FROM queue_lag WHERE lag_key IN (SELECT value FROM json_each(?)) AND expires_at > ?').all(
        JSON.stringify(unique),
        nowSeconds(),
      ),
    );
    for (const row of rows) out.set(row['lag_key'] as string, { dueAt: new Date(row['due_at'] as string), observedAt: new Date(row['observed_at'] as string) });
    return out;
  }
}
