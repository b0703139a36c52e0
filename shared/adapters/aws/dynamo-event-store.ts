import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import type { PublishedEvent } from '../../domain/events.ts';
import { dueShard } from '../../domain/ids.ts';
import { DUE_INDEX, DUE_SHARDS } from './tables.ts';
import { postponeDue, queryDue, scanAll } from './due-index.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { DueEventRef, DueEvents } from '../../usecases/reconcile.ts';
import type { EventReader } from '../../usecases/dispatch.ts';
import type { FanoutProgress } from '../../usecases/fan-out.ts';
import type { EventStore } from '../../usecases/publish-events.ts';
import { dynamoCall, dynamoIndexCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

export type PutOutcome = 'created' | 'duplicate-pending' | 'duplicate-done';



/**
 * Published events. The conditional put on (tenant_id, event_id) is the idempotency check; an
 * event stays in the sparse `due` index until its fan-out has finished, which is how a lost
 * queue message is found again.
 */
export class DynamoEventStore extends DynamoTable implements EventStore, FanoutProgress, DueEvents, EventReader, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoEventStore> = {
    putIfAbsent: [dynamoCall('events', 'PutItem', 'GetItem')],
    get: [dynamoCall('events', 'GetItem')],
    finishFanout: [dynamoCall('events', 'UpdateItem')],
    listDue: [dynamoIndexCall('events', DUE_INDEX, 'Query')],
    postpone: [dynamoCall('events', 'UpdateItem')],
    refreshDue: [dynamoCall('events', 'GetItem')],
    scanUnfinished: [dynamoCall('events', 'Scan')],
  };

  async putIfAbsent(event: PublishedEvent): Promise<PutOutcome> {
    // `data` is kept as its JSON text: DynamoDB's number type cannot hold every JSON number
    // (beyond 2^53, below 1e-130), and a map cannot hold keys such as `constructor`.
    const { id, data, ...rest } = event;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...rest,
            event_id: id,
            data_json: JSON.stringify(data),
            due_shard: dueShard(`${event.tenant_id}/${id}`, DUE_SHARDS),
            due_at: event.received_at,
            expires_at: this.expiresAt(new Date(event.received_at)),
          },
          ConditionExpression: 'attribute_not_exists(event_id)',
        }),
      );
      return 'created';
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreError('could not store event', { cause: err });
    }
    const existing = await this.getItem(event.tenant_id, id, true);
    return existing?.['due_at'] === undefined ? 'duplicate-done' : 'duplicate-pending';
  }

  /** `consistent`: where a miss is acted on for good (a delivery cancelled). */
  async get(tenantId: string, eventId: string, consistent = false): Promise<PublishedEvent | undefined> {
    const item = await this.getItem(tenantId, eventId, consistent);
    if (!item || (typeof item['expires_at'] === 'number' && item['expires_at'] * 1000 < Date.now())) return undefined;
    return toEvent(item);
  }

  /** Takes the event out of the `due` index: every delivery exists and was queued. */
  async finishFanout(tenantId: string, eventId: string, at: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, event_id: eventId },
          UpdateExpression: 'SET fanned_out_at = :at REMOVE due_shard, due_at',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
    } catch (err) {
      throw new StoreError('could not finish fan-out', { cause: err });
    }
  }

  /** Events whose fan-out should have finished by `before`. */
  async listDue(before: Date, limitPerShard: number): Promise<DueEventRef[]> {
    return queryDue(this.doc, this.table, before, limitPerShard, (item) => ({
      tenant_id: item['tenant_id'] as string,
      id: item['event_id'] as string,
      due_at: item['due_at'] as string,
    }));
  }

  /** Moves a due event's deadline, unless someone else moved or finished it first. */
  async postpone(ref: DueEventRef, until: Date): Promise<boolean> {
    return postponeDue(this.doc, this.table, { tenant_id: ref.tenant_id, event_id: ref.id }, ref.due_at, until, dueShard(`${ref.tenant_id}/${ref.id}`, DUE_SHARDS));
  }

  async refreshDue(ref: DueEventRef): Promise<DueEventRef | undefined> {
    const item = await this.getItem(ref.tenant_id, ref.id, true);
    if (!item || item['fanned_out_at'] !== undefined) return undefined;
    return { tenant_id: ref.tenant_id, id: ref.id, due_at: (item['due_at'] as string | undefined) ?? '' };
  }

  /**
   * Every event whose fan-out has not finished, read from the table itself (a Scan). Only for
   * the one-machine runtime's start-up, where the stand-in's index may have been torn by a kill.
   */
  async scanUnfinished(): Promise<DueEventRef[]> {
    return scanAll(this.doc, this.table, 'attribute_not_exists(fanned_out_at)', {}, (item) => ({
      tenant_id: item['tenant_id'] as string,
      id: item['event_id'] as string,
      due_at: (item['due_at'] as string | undefined) ?? '',
    }));
  }

  private async getItem(tenantId: string, eventId: string, consistent: boolean) {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId, event_id: eventId }, ConsistentRead: consistent }),
      );
      return out.Item;
    } catch (err) {
      throw new StoreError('could not read event', { cause: err });
    }
  }
}

function toEvent(item: Record<string, unknown>): PublishedEvent {
  return {
    tenant_id: item['tenant_id'] as string,
    id: item['event_id'] as string,
    event: item['event'] as string,
    timestamp: item['timestamp'] as string,
    data: JSON.parse(item['data_json'] as string) as Record<string, unknown>,
    received_at: item['received_at'] as string,
  };
}
