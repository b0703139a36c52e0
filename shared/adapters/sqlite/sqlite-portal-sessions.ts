import type { PortalSession, PortalSessionStore } from '../../usecases/portal-sessions.ts';
import { SqliteTable, nowSeconds } from './sqlite-table.ts';

/** A session's row outlives its expiry by this much (as DynamoPortalSessions' TTL). */
const KEEP_SECONDS = 86_400;

/**
 * Portal sessions (DynamoPortalSessions' semantics, PORTAL#<tenant>#<id> items of the tenants table
 * on AWS) in the one-machine database's `portal_sessions` table (schema.ts); rows past
 * `expires_at` are hidden from reads.
 */
export class SqlitePortalSessions extends SqliteTable implements PortalSessionStore {
  async create(session: PortalSession): Promise<void> {
    this.run('store a portal session', () =>
      this.statement('INSERT INTO portal_sessions (tenant_id, session_id, doc, expires_at) VALUES (?, ?, ?, ?)').run(
        session.tenant_id,
        session.id,
        JSON.stringify(session),
        Math.ceil(Date.parse(session.expires_at) / 1000) + KEEP_SECONDS,
      ),
    );
  }

  async get(tenantId: string, sessionId: string): Promise<PortalSession | undefined> {
    const row = this.run('read a portal session', () =>
      this.statement('SELECT doc, revoked_at FROM portal_sessions WHERE tenant_id = ? AND session_id = ? AND expires_at > ?').get(tenantId, sessionId, nowSeconds()),
    );
    if (!row) return undefined;
    const session = JSON.parse(String(row['doc'])) as PortalSession;
    return row['revoked_at'] === null ? session : { ...session, revoked_at: String(row['revoked_at']) };
  }

  async revoke(tenantId: string, sessionId: string, at: string): Promise<boolean> {
    const { changes } = this.run('revoke a portal session', () =>
      this.statement('UPDATE portal_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE tenant_id = ? AND session_id = ?').run(at, tenantId, sessionId),
    );
    return Number(changes) === 1;
  }
}
