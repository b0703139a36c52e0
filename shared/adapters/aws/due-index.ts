import { QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DUE_INDEX, DUE_SHARDS } from './tables.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';

/**
 * The sparse, sharded `due` index that events and deliveries share: reading it, moving an
 * item's deadline, and (one machine only) the table scan that stands in for it after a kill.
 */

/** A whole-table Scan with a filter (start-up recovery on one machine only: never a request path). */
export async function scanAll<T>(
  doc: DynamoDBDocumentClient,
  table: string,
  filter: string,
  values: Record<string, unknown>,
  map: (item: Record<string, unknown>) => T,
  names?: Record<string, string>,
): Promise<T[]> {
  const out: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  try {
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: filter,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(page.Items ?? []).map(map));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } catch (err) {
    throw new StoreError('could not scan for unfinished work', { cause: err });
  }
  return out;
}

/** Reads every shard of the sparse `due` index up to `before`, oldest first. */
export async function queryDue<T>(
  doc: DynamoDBDocumentClient,
  table: string,
  before: Date,
  limitPerShard: number,
  map: (item: Record<string, unknown>) => T,
): Promise<T[]> {
  const shards = Array.from({ length: DUE_SHARDS }, (_, i) => `due#${i}`);
  try {
    const pages = await Promise.all(
      shards.map((shard) =>
        doc.send(
          new QueryCommand({
            TableName: table,
            IndexName: DUE_INDEX,
            KeyConditionExpression: 'due_shard = :s AND due_at < :b',
            ExpressionAttributeValues: { ':s': shard, ':b': before.toISOString() },
            Limit: limitPerShard,
          }),
        ),
      ),
    );
    return pages.flatMap((p) => (p.Items ?? []).map(map));
  } catch (err) {
    throw new StoreError('could not read the due index', { cause: err });
  }
}

/**
 * Sets a due item's deadline if it is still `expectedDueAt` ('' = the item lost its deadline, a
 * torn local write: then the index entry is restored too).
 */
export async function postponeDue(
  doc: DynamoDBDocumentClient,
  table: string,
  key: Record<string, string>,
  expectedDueAt: string,
  until: Date,
  shard: string,
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET due_at = :until, due_shard = :shard',
        ConditionExpression: expectedDueAt === '' ? 'attribute_exists(#pk) AND attribute_not_exists(due_at)' : 'due_at = :expected',
        ...(expectedDueAt === '' ? { ExpressionAttributeNames: { '#pk': Object.keys(key)[0]! } } : {}),
        ExpressionAttributeValues: {
          ':until': until.toISOString(),
          ':shard': shard,
          ...(expectedDueAt === '' ? {} : { ':expected': expectedDueAt }),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw new StoreError('could not postpone due item', { cause: err });
  }
}
