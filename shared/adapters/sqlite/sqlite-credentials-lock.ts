import type { CredentialsLock } from '../../usecases/credentials-writer.ts';
import { SqliteTable } from './sqlite-table.ts';

/** A lock left behind by a writer that died is purged a day after it expired. */
const KEEP_SECONDS = 86_400;

/**
 * Each tenant's credentials lock (DynamoCredentialsLock's semantics): taken when absent or
 * expired, given back only by its holder.
 */
export class SqliteCredentialsLock extends SqliteTable implements CredentialsLock {
  async acquire(tenantId: string, holder: string, now: Date, until: Date): Promise<boolean> {
    const { changes } = this.run("take a tenant's credentials lock", () =>
      this.statement(
        `INSERT INTO credential_locks (tenant_id, holder, held_until, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until, expires_at = excluded.expires_at WHERE held_until < ?5`,
      ).run(tenantId, holder, until.getTime(), Math.ceil(until.getTime() / 1000) + KEEP_SECONDS, now.getTime()),
    );
    return Number(changes) === 1;
  }

  async release(tenantId: string, holder: string): Promise<void> {
    // Expired and taken by another writer: not ours to delete.
    this.run("release a tenant's credentials lock", () => this.statement('DELETE FROM credential_locks WHERE tenant_id = ? AND holder = ?').run(tenantId, holder));
  }
}
