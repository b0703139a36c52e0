import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { logEntriesOf, type Attempt, type Delivery, type DeliveryRef } from '../../domain/deliveries.ts';
import { ulidTime } from '../../domain/ids.ts';
import type { AttemptLog, AttemptPageRequest, ListPage } from '../../usecases/manage-webhooks.ts';
import type { FailedAttempts, ReopenableDeliveries } from '../../usecases/recover-deliveries.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { attemptOf, deliveryOf, logKey, logKeys, tableOfLogKey } from './delivery-log-items.ts';
import { DynamoTable } from './dynamo-table.ts';
import { StoreError } from './errors.ts';
import { decodeCursor, encodeCursor, type CursorList } from '../cursors.ts';

/** The calls of the reader's methods, which DynamoDeliveryLog inherits and declares too. */
export const DELIVERY_LOG_READER_CALLS: AwsCalls<DynamoDeliveryLogReader> = {
  get: [dynamoCall('attempts', 'Query')],
  reopen: [dynamoCall('attempts', 'Query')],
  list: [dynamoCall('attempts', 'Query')],
  failedDeliveriesSince: [dynamoCall('attempts', 'Query')],
};

/** How late a ladder's next rung must be before a manual retry may take its place (see reopen). */
export const LOST_RUNG_MS = 3_600_000;

/**
 * How far before `since` a recover looks for deliveries: one whose event arrived earlier can
 * still have failed after `since`, on a later rung. Two days holds any ladder the settings allow.
 */
const LADDER_SPAN_MS = 2 * 86_400_000;

/**
 * The delivery log as the webhooks API reads it: a webhook's attempts newest first (its
 * LOG_SHARDS partitions merged), a delivery's state from its attempts, and manual attempts.
 * DynamoDeliveryLog extends it with what the dispatcher writes.
 */
export class DynamoDeliveryLogReader extends DynamoTable implements AttemptLog, FailedAttempts, ReopenableDeliveries, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoDeliveryLogReader> = DELIVERY_LOG_READER_CALLS;
  private readonly tables: readonly string[];

  /** `tables`: the log's tables (Settings.tables.attempts), shard s of a webhook's log in table s mod n. */
  constructor(doc: DynamoDBDocumentClient, tables: string | readonly string[], retentionDays = 0) {
    const list = typeof tables === 'string' ? [tables] : tables;
    if (list.length === 0) throw new RangeError('the delivery log needs a table');
    super(doc, list[0]!, retentionDays);
    this.tables = list;
  }

  /** The table holding log partition `key`. */
  protected tableOf(key: string): string {
    return this.tables[tableOfLogKey(key, this.tables.length)]!;
  }

  /** The delivery as its attempts describe it; undefined before its first attempt is recorded. */
  async get(ref: DeliveryRef): Promise<Delivery | undefined> {
    // Consistent: callers act on a miss (a manual retry's 404) or on a just-written follow_up.
    const items = await this.query('could not read delivery', logKey(ref.webhook_id, ref.delivery_id), {
      KeyConditionExpression: 'log_key = :k AND begins_with(entry, :d)',
      ExpressionAttributeValues: { ':d': `${ref.delivery_id}#` },
      ConsistentRead: true,
    });
    // A test event's attempt is logged but is no delivery (nothing to retry).
    const delivery = deliveryOf(items.filter((i) => visible(Date.now())(i) && i['trigger'] !== 'test'));
    return delivery?.tenant_id === ref.tenant_id ? delivery : undefined;
  }

  /**
   * A finished delivery, open for one more attempt (manual retry, recover); undefined while its
   * ladder goes on. Nothing is written: the manual attempt's own log entry is the record, and of
   * two manual attempts queued at once, the first recorded is the one the log keeps. A ladder
   * whose next rung is over LOST_RUNG_MS late counts as ended: nothing re-queues a rung lost on
   * AWS (Scheduler dropped it, a dead-letter queue was purged), and the delivery would otherwise
   * stay pending for good.
   */
  async reopen(ref: DeliveryRef, now: Date): Promise<Delivery | undefined> {
    const delivery = await this.get(ref);
    if (!delivery) return undefined;
    const lost = delivery.state === 'pending' && Date.parse(delivery.next_attempt_at ?? '') < now.getTime() - LOST_RUNG_MS;
    return delivery.state !== 'pending' || lost ? { ...delivery, state: 'pending' } : undefined;
  }

  /**
   * A page of a webhook's attempts (or of one delivery's, from the one partition holding them),
   * newest first; its cursors work for this tenant, webhook and delivery only.
   */
  async list(tenantId: string, webhookId: string, request: AttemptPageRequest): Promise<ListPage<Attempt>> {
    const { deliveryId } = request;
    const boundTo = `deliveries/${tenantId}/${webhookId}${deliveryId === undefined ? '' : `/${deliveryId}`}`;
    const cursorList: CursorList = { keyNames: { partition: 'webhook_id', sort: 'entry' }, partitionValue: webhookId, boundTo };
    const start = request.cursor === undefined ? undefined : decodeCursor(request.cursor, cursorList);
    const page = start?.p ?? request.page;
    const skip = start ? 0 : (request.page - 1) * request.perPage;
    const wanted = skip + request.perPage + 1;
    const before = start?.k['entry'];
    // Each partition's newest `wanted`, merged: the page is among them.
    const shards =
      deliveryId === undefined
        ? await Promise.all(logKeys(webhookId).map((key) => this.newest(key, wanted, before)))
        : [await this.newestOf(logKey(webhookId, deliveryId), deliveryId, wanted, before)];
    const merged = shards.flat().sort((a, b) => (String(a['entry']) < String(b['entry']) ? 1 : -1));
    const items = merged.slice(skip, skip + request.perPage);
    const hasMore = merged.length > skip + request.perPage;
    const last = items.at(-1);
    return {
      items: items.map(attemptOf),
      page,
      hasMore,
      ...(hasMore && last ? { nextCursor: encodeCursor({ v: 1, of: cursorList.boundTo, p: page + 1, k: { webhook_id: webhookId, entry: String(last['entry']) } }) } : {}),
    };
  }

  /** Ids of deliveries with a failed attempt at or after `since` (oldest first, at most `limit`). */
  async failedDeliveriesSince(webhookId: string, since: Date, limit: number): Promise<string[]> {
    const from = `dlv_${ulidTime(since.getTime() - LADDER_SPAN_MS)}`;
    const shards = await Promise.all(
      logKeys(webhookId).map((key) =>
        this.query('could not read failed attempts', key, {
          KeyConditionExpression: 'log_key = :k AND entry >= :from',
          // A test event's attempt has no ladder to recover; an expired entry is gone.
          FilterExpression: 'success = :false AND attempted_at >= :since AND expires_at > :now AND #trigger <> :test',
          ProjectionExpression: 'delivery_id, attempted_at',
          ExpressionAttributeNames: { '#trigger': 'trigger' },
          ExpressionAttributeValues: { ':from': from, ':false': false, ':since': since.toISOString(), ':now': Math.floor(Date.now() / 1000), ':test': 'test' },
        }),
      ),
    );
    const firstFailure = new Map<string, string>();
    for (const item of shards.flat()) {
      const id = String(item['delivery_id']);
      const at = String(item['attempted_at']);
      if (!firstFailure.has(id) || at < firstFailure.get(id)!) firstFailure.set(id, at);
    }
    return [...firstFailure.entries()].sort((a, b) => (a[1] < b[1] ? -1 : 1)).slice(0, limit).map(([id]) => id);
  }

  /** One partition's items newest first: at least `wanted` live ones (fewer only when it has no more). */
  private async newest(key: string, wanted: number, before: string | undefined): Promise<Record<string, unknown>[]> {
    const now = Math.floor(Date.now() / 1000);
    return this.query('could not list attempts', key, {
      KeyConditionExpression: before === undefined ? 'log_key = :k' : 'log_key = :k AND entry < :before',
      // dynalite never deletes expired items, and DynamoDB deletes them late: hide them.
      FilterExpression: 'expires_at > :now',
      ExpressionAttributeValues: { ':now': now, ...(before === undefined ? {} : { ':before': before }) },
      ScanIndexForward: false,
    }, wanted);
  }

  /** One delivery's items newest first, those before `before` (at least `wanted` live ones, fewer only when it has no more). */
  private async newestOf(key: string, deliveryId: string, wanted: number, before: string | undefined): Promise<Record<string, unknown>[]> {
    const { above, below } = logEntriesOf(deliveryId);
    const items = await this.query('could not list attempts', key, {
      // A key condition has one range: BETWEEN includes `before` itself, dropped below.
      KeyConditionExpression: 'log_key = :k AND entry BETWEEN :above AND :below',
      FilterExpression: 'expires_at > :now',
      ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000), ':above': above, ':below': before === undefined || before > below ? below : before },
      ScanIndexForward: false,
    }, wanted + 1);
    return items.filter((item) => item['entry'] !== before);
  }

  /** Every page of a Query of log partition `key`, bound to `:k` (or until `atLeast` items are in). */
  protected async query(failure: string, key: string, input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>, atLeast = Infinity): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.doc.send(
          new QueryCommand({
            ...input,
            TableName: this.tableOf(key),
            ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':k': key },
            ExclusiveStartKey: startKey, ...(Number.isFinite(atLeast) ? { Limit: Math.min(1000, atLeast - items.length) } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey && items.length < atLeast);
    } catch (err) {
      throw new StoreError(failure, { cause: err });
    }
    return items;
  }
}

const visible = (nowMs: number) => (item: Record<string, unknown>) => typeof item['expires_at'] !== 'number' || item['expires_at'] * 1000 > nowMs;

