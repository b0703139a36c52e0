import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { DynamoTable } from './dynamo-table.ts';
import type { PublishedEvent } from '../../domain/events.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { EventReader } from '../../usecases/dispatch.ts';
import type { EventStore } from '../../usecases/publish-events.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

export type PutOutcome = 'created' | 'duplicate-pending' | 'duplicate-done';

/**
 * How long a duplicate is queued again. A publisher that got no 202 (ingest stored the event,
 * then could not queue it) sends the same id again within minutes; an id sent again later is
 * one whose first copy was queued, and queueing it again would reach webhooks made since.
 */
const REQUEUE_DUPLICATES_MS = 15 * 60_000;

/**
 * Published events, written once each (the dispatcher gets the event in its message, and nothing
 * updates it). The conditional put on `<tenant>#<id>` is the idempotency check. The data is kept
 * Brotli-compressed: a write unit is a kilobyte, and JSON of a kilobyte compresses to well under
 * half, so a 1 KB event costs one write unit, not two.
 */
export class DynamoEventStore extends DynamoTable implements EventStore, EventReader, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoEventStore> = {
    putIfAbsent: [dynamoCall('events', 'PutItem', 'GetItem')],
    get: [dynamoCall('events', 'GetItem')],
    forget: [dynamoCall('events', 'DeleteItem')],
  };

  async forget(events: readonly Pick<PublishedEvent, 'tenant_id' | 'id' | 'received_at'>[]): Promise<void> {
    try {
      await Promise.all(
        events.map((e) =>
          this.doc
            .send(
              new DeleteCommand({
                TableName: this.table,
                Key: { pk: `${e.tenant_id}#${e.id}` },
                ConditionExpression: 'received_at = :at',
                ExpressionAttributeValues: { ':at': e.received_at },
              }),
            )
            .catch((err: unknown) => {
              if (!isConditionalCheckFailed(err)) throw err;
            }),
        ),
      );
    } catch (err) {
      throw new StoreError('could not remove events', { cause: err });
    }
  }

  async putIfAbsent(event: PublishedEvent): Promise<PutOutcome> {
    const { id, data, ...rest } = event;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...rest,
            pk: `${event.tenant_id}#${id}`,
            event_id: id,
            data_br: compress(JSON.stringify(data)),
            expires_at: this.expiresAt(new Date(event.received_at)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          // The stored copy comes back with the refusal, at no cost: no second read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'created';
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreError('could not store event', { cause: err });
      // (Marshalled: the document client leaves errors as they are. A stand-in may not send it.)
      const returned = (err as { Item?: { received_at?: { S?: string } } }).Item?.received_at?.S;
      const receivedAt = returned ?? (await this.get(event.tenant_id, id, true))?.received_at;
      return Date.parse(event.received_at) - Date.parse(receivedAt ?? '') < REQUEUE_DUPLICATES_MS ? 'duplicate-pending' : 'duplicate-done';
    }
  }

  /** `consistent`: where a miss is acted on for good (a delivery cancelled). */
  async get(tenantId: string, eventId: string, consistent = false): Promise<PublishedEvent | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `${tenantId}#${eventId}` }, ConsistentRead: consistent }));
      item = out.Item;
    } catch (err) {
      throw new StoreError('could not read event', { cause: err });
    }
    if (!item || (typeof item['expires_at'] === 'number' && item['expires_at'] * 1000 < Date.now())) return undefined;
    return {
      tenant_id: item['tenant_id'] as string,
      id: item['event_id'] as string,
      event: item['event'] as string,
      timestamp: item['timestamp'] as string,
      data: JSON.parse(decompress(item['data_br'] as Uint8Array)) as Record<string, unknown>,
      received_at: item['received_at'] as string,
    };
  }
}

/** Brotli at a middle quality: most of the gain on small JSON, at a fraction of the top quality's time. */
const compress = (json: string): Uint8Array =>
  brotliCompressSync(Buffer.from(json, 'utf8'), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
  });
const decompress = (bytes: Uint8Array): string => brotliDecompressSync(bytes).toString('utf8');
