import type { EmailQuota } from '../../usecases/owner-email.ts';
import type { HooklineDatabase } from './database.ts';
import { SqliteTable } from './sqlite-table.ts';

const HOUR_MS = 3_600_000;

/**
 * The tenant's email budget (DynamoEmailQuota's semantics): a counter per tenant and clock hour,
 * incremented only while under the limit, deleted by the purge a day after its hour.
 */
export class SqliteEmailQuota extends SqliteTable implements EmailQuota {
  private readonly perHour: number;
  constructor(db: HooklineDatabase, perHour: number) {
    super(db);
    this.perHour = perHour;
  }

  async take(tenantId: string, now: Date): Promise<boolean> {
    const hourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const { changes } = this.run('count a tenant email', () =>
      this.statement(
        'INSERT INTO email_counts (tenant_id, hour, sent, expires_at) VALUES (?1, ?2, 1, ?3) ON CONFLICT DO UPDATE SET sent = sent + 1 WHERE sent < ?4',
      ).run(tenantId, new Date(hourStart).toISOString().slice(0, 13), Math.floor((hourStart + 25 * HOUR_MS) / 1000), this.perHour),
    );
    return Number(changes) === 1;
  }
}
