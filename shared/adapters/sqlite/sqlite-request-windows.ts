import type { RateWindow } from '../../domain/rate-limits.ts';
import type { RequestWindows } from '../../usecases/rate-limits.ts';
import { SqliteTable } from './sqlite-table.ts';

/** Counters outlive their window by this much before the purge deletes them. */
const KEEP_SECONDS = 3600;

/**
 * Each tenant's request counter per rate window (DynamoRequestWindows' semantics): incremented
 * only while under the window's limit.
 */
export class SqliteRequestWindows extends SqliteTable implements RequestWindows {
  async take(tenantId: string, window: RateWindow): Promise<boolean> {
    const { changes } = this.run('count a tenant request', () =>
      this.statement(
        'INSERT INTO request_windows (tenant_id, window_start_ms, requests, expires_at) VALUES (?1, ?2, 1, ?3) ON CONFLICT DO UPDATE SET requests = requests + 1 WHERE requests < ?4',
      ).run(tenantId, window.startMs, Math.ceil(window.endMs / 1000) + KEEP_SECONDS, window.max),
    );
    return Number(changes) === 1;
  }
}
