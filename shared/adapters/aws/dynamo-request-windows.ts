import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateWindow } from '../../domain/rate-limits.ts';
import type { RequestWindows } from '../../usecases/rate-limits.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

/** Counters outlive their window by this much before DynamoDB's TTL may delete them. */
const KEEP_SECONDS = 3600;

/**
 * Each tenant's request counter per rate window, in the tenants table (`RATE#<tenant>#<window
 * start ms>`). The increment is conditional, so concurrent containers never count past the
 * window's limit; a request is one write unit (the item stays far below 1 KB), a refused one
 * too. DynamoDB's TTL deletes the counters an hour after their window.
 */
export class DynamoRequestWindows extends DynamoTable implements RequestWindows, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoRequestWindows> = { take: [dynamoCall('tenants', 'UpdateItem')] };

  async take(tenantId: string, window: RateWindow): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RATE#${tenantId}#${window.startMs}` },
          UpdateExpression: 'ADD requests :one SET expires_at = if_not_exists(expires_at, :expires)',
          ConditionExpression: 'attribute_not_exists(requests) OR requests < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': window.max, ':expires': Math.ceil(window.endMs / 1000) + KEEP_SECONDS },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not count a tenant request', { cause: err });
    }
  }
}
