import type { PublishedEvent } from '../../domain/events.ts';
import type { HooklineDatabase } from './database.ts';
import { DUE_SHARDS } from './sqlite-table.ts';
import type { EventReader } from '../../usecases/dispatch.ts';
import type { FanoutProgress } from '../../usecases/fan-out.ts';
import type { EventStore } from '../../usecases/publish-events.ts';
import type { DueEventRef, DueEvents } from '../../usecases/reconcile.ts';
import { BOUND_INT, nowSeconds, SqliteTable } from './sqlite-table.ts';

export type PutOutcome = 'created' | 'duplicate-pending' | 'duplicate-done';

const INSERT = `
  INSERT INTO events (tenant_id, event_id, event, timestamp, data_json, received_at, due_at, fanned_out_at, expires_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, NULL, ?7)
  ON CONFLICT (tenant_id, event_id) DO UPDATE SET
    event = excluded.event, timestamp = excluded.timestamp, data_json = excluded.data_json, received_at = excluded.received_at,
    due_at = excluded.due_at, fanned_out_at = NULL, expires_at = excluded.expires_at
  WHERE events.expires_at <= ?8`;
const VISIBLE = 'expires_at > ?';

/**
 * Published events (DynamoEventStore's semantics). The primary key (tenant_id, event_id) is the
 * idempotency check; an event keeps a `due_at` (the due index) until its fan-out has finished.
 * An event past its retention is gone for every read, and a new event may take its id (as once
 * DynamoDB's TTL has deleted it).
 */
export class SqliteEventStore extends SqliteTable implements EventStore, FanoutProgress, DueEvents, EventReader {
  /** `retentionDays`: how long rows live (`expires_at`), as the DynamoDB sibling's; required, since 0 would hide every row at once. */
  constructor(db: HooklineDatabase, retentionDays: number) {
    super(db, retentionDays);
  }

  async putIfAbsent(event: PublishedEvent): Promise<PutOutcome> {
    return this.putIfAbsentSync(event);
  }

  /** putIfAbsent, synchronously (for a batch in one of the caller's transactions). */
  putIfAbsentSync(event: PublishedEvent): PutOutcome {
    return this.run('store event', () => {
      const { changes } = this.statement(INSERT).run(
        event.tenant_id,
        event.id,
        event.event,
        event.timestamp,
        JSON.stringify(event.data),
        event.received_at,
        this.expiresAt(new Date(event.received_at)),
        nowSeconds(),
      );
      if (Number(changes) === 1) return 'created';
      const existing = this.statement('SELECT due_at FROM events WHERE tenant_id = ? AND event_id = ?').get(event.tenant_id, event.id);
      return existing?.['due_at'] === null || existing === undefined ? 'duplicate-done' : 'duplicate-pending';
    });
  }

  async forget(events: readonly Pick<PublishedEvent, 'tenant_id' | 'id' | 'received_at'>[]): Promise<void> {
    this.run('remove events', () => {
      for (const e of events) this.statement('DELETE FROM events WHERE tenant_id = ? AND event_id = ? AND received_at = ?').run(e.tenant_id, e.id, e.received_at);
    });
  }

  /** `consistent` is accepted for the port; every read here is. */
  async get(tenantId: string, eventId: string, _consistent = false): Promise<PublishedEvent | undefined> {
    const row = this.run('read event', () =>
      this.statement(`SELECT * FROM events WHERE tenant_id = ? AND event_id = ? AND ${VISIBLE}`).get(tenantId, eventId, nowSeconds()),
    );
    return row ? toEvent(row) : undefined;
  }

  /** Takes the event out of the due index: every delivery exists and was queued. */
  async finishFanout(tenantId: string, eventId: string, at: Date): Promise<void> {
    this.finishFanoutSync(tenantId, eventId, at);
  }

  finishFanoutSync(tenantId: string, eventId: string, at: Date): void {
    this.run('finish fan-out', () =>
      this.statement('UPDATE events SET fanned_out_at = ?, due_at = NULL WHERE tenant_id = ? AND event_id = ?').run(at.toISOString(), tenantId, eventId),
    );
  }

  /**
   * Events whose fan-out should have finished by `before`, oldest first: as many as DynamoDB's
   * DUE_SHARDS shards would give at most (`limitPerShard` each), from one index.
   */
  async listDue(before: Date, limitPerShard: number): Promise<DueEventRef[]> {
    const rows = this.run('read the due index', () =>
      this.statement(`SELECT tenant_id, event_id, due_at FROM events WHERE due_at IS NOT NULL AND due_at < ? AND ${VISIBLE} ORDER BY due_at LIMIT ${BOUND_INT}`).all(
        before.toISOString(),
        nowSeconds(),
        limitPerShard * DUE_SHARDS,
      ),
    );
    return rows.map(dueRef);
  }

  /** Moves a due event's deadline, unless someone else moved or finished it first ('' = it has no deadline). */
  async postpone(ref: DueEventRef, until: Date): Promise<boolean> {
    const { changes } = this.run('postpone due item', () =>
      this.statement(
        `UPDATE events SET due_at = ?1 WHERE tenant_id = ?2 AND event_id = ?3 AND (due_at = ?4 OR (?4 = '' AND due_at IS NULL)) AND expires_at > ?5`,
      ).run(until.toISOString(), ref.tenant_id, ref.id, ref.due_at, nowSeconds()),
    );
    return Number(changes) === 1;
  }

  async refreshDue(ref: DueEventRef): Promise<DueEventRef | undefined> {
    const row = this.run('read event', () =>
      this.statement(`SELECT tenant_id, event_id, due_at, fanned_out_at FROM events WHERE tenant_id = ? AND event_id = ? AND ${VISIBLE}`).get(
        ref.tenant_id,
        ref.id,
        nowSeconds(),
      ),
    );
    return !row || row['fanned_out_at'] !== null ? undefined : dueRef(row);
  }

  /** Every event whose fan-out has not finished (DynamoEventStore.scanUnfinished; here the due index is never torn). */
  async scanUnfinished(): Promise<DueEventRef[]> {
    const rows = this.run('scan for unfinished work', () =>
      this.statement(`SELECT tenant_id, event_id, due_at FROM events WHERE fanned_out_at IS NULL AND ${VISIBLE}`).all(nowSeconds()),
    );
    return rows.map(dueRef);
  }
}

function dueRef(row: Record<string, unknown>): DueEventRef {
  return { tenant_id: row['tenant_id'] as string, id: row['event_id'] as string, due_at: (row['due_at'] as string | null) ?? '' };
}

function toEvent(row: Record<string, unknown>): PublishedEvent {
  return {
    tenant_id: row['tenant_id'] as string,
    id: row['event_id'] as string,
    event: row['event'] as string,
    timestamp: row['timestamp'] as string,
    data: JSON.parse(row['data_json'] as string) as Record<string, unknown>,
    received_at: row['received_at'] as string,
  };
}
