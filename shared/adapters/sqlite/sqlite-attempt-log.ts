import { logEntriesOf, logEntryOf, type Attempt } from '../../domain/deliveries.ts';
import type { AttemptRecorder } from '../../usecases/dispatch.ts';
import type { AttemptLog, AttemptPageRequest, ListPage } from '../../usecases/manage-webhooks.ts';
import type { FailedAttempts } from '../../usecases/recover-deliveries.ts';
import type { HooklineDatabase } from './database.ts';
import { readPage } from './paging.ts';
import { BOUND_INT, nowSeconds, SqliteTable } from './sqlite-table.ts';

/**
 * The delivery log: attempts keyed by webhook and `<delivery_id>#<attempt>` (logEntryOf, the
 * DynamoDB log's key), listed newest delivery first, its attempts newest first; an attempt past
 * its retention is never listed.
 */
export class SqliteAttemptLog extends SqliteTable implements AttemptLog, AttemptRecorder, FailedAttempts {
  /** `retentionDays`: how long rows live (`expires_at`), as the DynamoDB sibling's; required, since 0 would hide every row at once. */
  constructor(db: HooklineDatabase, retentionDays: number) {
    super(db, retentionDays);
  }

  async record(attempt: Attempt): Promise<void> {
    this.recordSync(attempt);
  }

  /** record, synchronously: see SqliteDeliveryStore.completeSync. */
  recordSync(attempt: Attempt): void {
    const key = logEntryOf(attempt.delivery_id, attempt.attempt);
    this.run('record attempt', () =>
      this.statement('INSERT OR REPLACE INTO attempts (webhook_id, attempt_key, delivery_id, success, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?)').run(
        attempt.webhook_id,
        key,
        attempt.delivery_id,
        attempt.success ? 1 : 0,
        this.expiresAt(new Date(attempt.attempted_at)),
        JSON.stringify(attempt),
      ),
    );
  }

  /**
   * Ids of deliveries with a failed attempt at or after `since` (in the order of their first such
   * attempt, at most `limit`); a test event's attempt has no ladder to recover.
   */
  async failedDeliveriesSince(webhookId: string, since: Date, limit: number): Promise<string[]> {
    const rows = this.run('read failed attempts', () =>
      this.statement(
        `SELECT delivery_id, MIN(doc ->> '$.attempted_at') AS first FROM attempts
         WHERE webhook_id = ? AND success = 0 AND expires_at > ? AND doc ->> '$.attempted_at' >= ? AND doc ->> '$.trigger' <> 'test'
         GROUP BY delivery_id ORDER BY first LIMIT ${BOUND_INT}`,
      ).all(webhookId, nowSeconds(), since.toISOString(), limit),
    );
    return rows.map((row) => row['delivery_id'] as string);
  }

  /**
   * A page of a webhook's attempts (or of one delivery's: a range of the log's keys), newest
   * first; its cursors work for this tenant, webhook and delivery only.
   */
  async list(tenantId: string, webhookId: string, request: AttemptPageRequest): Promise<ListPage<Attempt>> {
    const only = request.deliveryId === undefined ? undefined : logEntriesOf(request.deliveryId);
    // Without a delivery, every key: the log's keys are ASCII, below U+10FFFF's UTF-8 bytes.
    const [above, below] = only ? [only.above, only.below] : ['', '\u{10FFFF}'];
    const boundTo = `deliveries/${tenantId}/${webhookId}${request.deliveryId === undefined ? '' : `/${request.deliveryId}`}`;
    const page = readPage(
      request,
      { keyNames: { partition: 'webhook_id', sort: 'attempt_key' }, partitionValue: webhookId, boundTo },
      (after, skip, count) =>
        this.run('list attempts', () =>
          this.statement(`SELECT attempt_key, doc FROM attempts WHERE webhook_id = ? AND attempt_key > ? AND attempt_key < ? AND expires_at > ? ORDER BY attempt_key DESC LIMIT ${BOUND_INT} OFFSET ${BOUND_INT}`)
            .all(webhookId, above, after === undefined || after > below ? below : after, nowSeconds(), count, after === undefined ? skip : 0)
            .map((row) => ({ key: row['attempt_key'] as string, attempt: JSON.parse(row['doc'] as string) as Attempt })),
        ),
      (item) => item.key,
    );
    return { ...page, items: page.items.map((item) => item.attempt) };
  }
}
