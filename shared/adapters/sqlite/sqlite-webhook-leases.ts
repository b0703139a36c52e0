import type { SlotHolder } from '../../usecases/dispatch-ports.ts';
import type { WebhookLeases } from '../../usecases/webhook-slots.ts';
import { SqliteTable } from './sqlite-table.ts';

const DAY_MS = 86_400_000;

/**
 * The per-webhook attempt leases (DynamoWebhookLeases' semantics): a map of lease id -> expiry
 * (epoch ms) per webhook. A take counts the unexpired leases, drops the expired ones and adds its
 * own in one transaction, so two takers can never both get the last slot (DynamoDB needs a
 * versioned conditional write and retries for that).
 */
export class SqliteWebhookLeases extends SqliteTable implements WebhookLeases {
  async take(holder: SlotHolder, id: string, until: Date, now: Date, limit?: number): Promise<boolean> {
    return this.run('take a webhook lease', () =>
      this.db.transaction(() => {
        const leases = Object.fromEntries(Object.entries(this.read(holder)).filter(([, expiry]) => expiry > now.getTime()));
        if (limit !== undefined && Object.keys(leases).length >= limit) return false;
        leases[id] = until.getTime();
        this.statement(
          'INSERT INTO webhook_leases (tenant_id, webhook_id, leases, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET leases = excluded.leases, expires_at = excluded.expires_at',
        ).run(holder.tenant_id, holder.webhook_id, JSON.stringify(leases), Math.ceil((until.getTime() + DAY_MS) / 1000));
        return true;
      }),
    );
  }

  /** Gives back lease `id`; a lease that is gone (expired and removed) is already free, and nothing is created. */
  async drop(holder: SlotHolder, id: string): Promise<void> {
    this.run('give back a webhook lease', () =>
      this.db.transaction(() => {
        const leases = this.read(holder);
        if (!Object.hasOwn(leases, id)) return;
        delete leases[id];
        this.statement('UPDATE webhook_leases SET leases = ? WHERE tenant_id = ? AND webhook_id = ?').run(JSON.stringify(leases), holder.tenant_id, holder.webhook_id);
      }),
    );
  }

  private read(holder: SlotHolder): Record<string, number> {
    const row = this.statement('SELECT leases FROM webhook_leases WHERE tenant_id = ? AND webhook_id = ?').get(holder.tenant_id, holder.webhook_id);
    return row ? (JSON.parse(row['leases'] as string) as Record<string, number>) : {};
  }
}
