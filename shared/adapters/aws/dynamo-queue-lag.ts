import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LAG_WINDOW_MS, type LagFront, type LagRecords } from '../../usecases/queue-lag.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';

const DAY_S = 86_400;
/** BatchGetItem reads at most 100 keys a call. */
const BATCH_GET = 100;

/**
 * The consumers' lag records: one small item per queue and per slow webhook in the tenants table
 * (`LAG#<key>`), written only while a consumer takes late work (at most twice a minute per
 * container and key), read by the reconciler. The conditional write keeps the oldest front of
 * each window; DynamoDB's TTL deletes a record a day after its last write.
 */
export class DynamoQueueLag extends DynamoTable implements LagRecords, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoQueueLag> = {
    record: [dynamoCall('tenants', 'UpdateItem')],
    read: [dynamoCall('tenants', 'BatchGetItem')],
  };

  async record(key: string, dueAt: Date, now: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `LAG#${key}` },
          UpdateExpression: 'SET due_at = :due, observed_at = :now, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(observed_at) OR observed_at < :windowStart OR due_at > :due',
          ExpressionAttributeValues: {
            ':due': dueAt.toISOString(),
            ':now': now.toISOString(),
            ':windowStart': new Date(now.getTime() - LAG_WINDOW_MS).toISOString(),
            ':expires': Math.floor(now.getTime() / 1000) + DAY_S,
          },
        }),
      );
    } catch (err) {
      // Older work was recorded within the window: that front stands.
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError('could not record a queue lag', { cause: err });
    }
  }

  async read(keys: readonly string[]): Promise<Map<string, LagFront>> {
    const out = new Map<string, LagFront>();
    const unique = [...new Set(keys)];
    try {
      for (let i = 0; i < unique.length; i += BATCH_GET) {
        let pending: Record<string, unknown>[] = unique.slice(i, i + BATCH_GET).map((key) => ({ pk: `LAG#${key}` }));
        for (let round = 0; pending.length > 0; round++) {
          if (round > 8) throw new Error('DynamoDB kept lag records unprocessed');
          if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** round)));
          const page = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending } } }));
          for (const item of page.Responses?.[this.table] ?? []) {
            if (typeof item['due_at'] !== 'string' || typeof item['observed_at'] !== 'string') continue;
            out.set(String(item['pk']).slice('LAG#'.length), { dueAt: new Date(item['due_at']), observedAt: new Date(item['observed_at']) });
          }
          pending = page.UnprocessedKeys?.[this.table]?.Keys ?? [];
        }
      }
    } catch (err) {
      throw new StoreError('could not read the queue lag records', { cause: err });
    }
    return out;
  }
}
