import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import type { Attempt } from '../../domain/deliveries.ts';
import type { AttemptLog, ListPage, PageRequest } from '../../usecases/manage-webhooks.ts';
import type { AttemptRecorder } from '../../usecases/dispatch.ts';
import type { FailedAttempts } from '../../usecases/recover-deliveries.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import { StoreError } from './errors.ts';
import { queryPage } from './paging.ts';
import { TABLES } from './tables.ts';

/**
 * The delivery log: attempts keyed by webhook and `<attempted_at>#<delivery_id>#<attempt>`, so a
 * Query in reverse key order lists a webhook's attempts newest first.
 */
export class DynamoAttemptLog extends DynamoTable implements AttemptLog, AttemptRecorder, FailedAttempts, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoAttemptLog> = {
    record: [dynamoCall('attempts', 'PutItem')],
    failedDeliveriesSince: [dynamoCall('attempts', 'Query')],
    list: [dynamoCall('attempts', 'Query')],
  };

  async record(attempt: Attempt): Promise<void> {
    const key = `${attempt.attempted_at}#${attempt.delivery_id}#${String(attempt.attempt).padStart(3, '0')}`;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...attempt,
            attempt_key: key,
            expires_at: this.expiresAt(new Date(attempt.attempted_at)),
          },
        }),
      );
    } catch (err) {
      throw new StoreError('could not record attempt', { cause: err });
    }
  }

  /** Ids of deliveries with a failed attempt at or after `since` (oldest first, at most `limit`). */
  async failedDeliveriesSince(webhookId: string, since: Date, limit: number): Promise<string[]> {
    const ids = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'webhook_id = :w AND attempt_key >= :since',
            FilterExpression: 'success = :false',
            ProjectionExpression: 'delivery_id',
            ExpressionAttributeValues: { ':w': webhookId, ':since': since.toISOString(), ':false': false },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of out.Items ?? []) ids.add(item['delivery_id'] as string);
        startKey = out.LastEvaluatedKey;
      } while (startKey && ids.size < limit);
    } catch (err) {
      throw new StoreError('could not read failed attempts', { cause: err });
    }
    return [...ids].slice(0, limit);
  }

  /** A page of a webhook's attempts, newest first; its cursors work for this tenant and webhook only. */
  async list(tenantId: string, webhookId: string, request: PageRequest): Promise<ListPage<Attempt>> {
    const { partitionKey, sortKey } = TABLES.attempts;
    const result = await queryPage(
      this.doc,
      {
        what: 'attempts',
        input: {
          TableName: this.table,
          KeyConditionExpression: 'webhook_id = :w',
          // dynalite never deletes expired items, and DynamoDB deletes them late: hide them.
          FilterExpression: 'expires_at > :now',
          ExpressionAttributeValues: { ':w': webhookId, ':now': Math.floor(Date.now() / 1000) },
          ScanIndexForward: false,
        },
        keyNames: { partition: partitionKey.name, sort: sortKey.name },
        partitionValue: webhookId,
        boundTo: `deliveries/${tenantId}/${webhookId}`,
      },
      request,
    );
    return {
      ...result,
      items: result.items.map((item) => {
        const { attempt_key: _k, expires_at: _e, ...attempt } = item;
        return attempt as unknown as Attempt;
      }),
    };
  }
}
