import type { EmailQuota, EmailQuotaRefund } from '../../usecases/owner-email.ts';
import type { HooklineDatabase } from './database.ts';
import { SqliteTable } from './sqlite-table.ts';

const HOUR_MS = 3_600_000;

/**
 * The tenant's email budget (DynamoEmailQuota's semantics): a counter per tenant and clock hour,
 * incremented only while under the limit, deleted by the purge a day after its hour.
 */
export class SqliteEmailQuota extends SqliteTable implements EmailQuota, EmailQuotaRefund {
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

  async giveBack(tenantId: string, takenAt: Date): Promise<void> {
    const hourStart = Math.floor(takenAt.getTime() / HOUR_MS) * HOUR_MS;
    this.run('give back a tenant email', () =>
      this.statement('UPDATE email_counts SET sent = sent - 1 WHERE tenant_id = ? AND hour = ? AND sent > 0').run(tenantId, new Date(hourStart).toISOString().slice(0, 13)),
    );
  }
}
