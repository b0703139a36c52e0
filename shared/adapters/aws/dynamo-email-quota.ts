import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmailQuota, EmailQuotaRefund } from '../../usecases/owner-email.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

const HOUR_MS = 3_600_000;

/**
 * The tenant's email budget: a fixed-window counter per tenant and clock hour in the tenants
 * table (`EMAILS#<tenant>#<hour>`). The increment is conditional, so concurrent dispatchers and
 * API calls never go past the limit; DynamoDB's TTL deletes the counters a day later.
 */
export class DynamoEmailQuota extends DynamoTable implements EmailQuota, EmailQuotaRefund, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoEmailQuota> = { take: [dynamoCall('tenants', 'UpdateItem')], giveBack: [dynamoCall('tenants', 'UpdateItem')] };
  private readonly perHour: number;
  constructor(doc: DynamoDBDocumentClient, table: string, perHour: number) {
    super(doc, table);
    this.perHour = perHour;
  }

  async take(tenantId: string, now: Date): Promise<boolean> {
    const hourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: counterKey(tenantId, hourStart),
          UpdateExpression: 'ADD sent :one SET expires_at = if_not_exists(expires_at, :expires)',
          ConditionExpression: 'attribute_not_exists(sent) OR sent < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': this.perHour, ':expires': Math.floor((hourStart + 25 * HOUR_MS) / 1000) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not count a tenant email', { cause: err });
    }
  }

  async giveBack(tenantId: string, takenAt: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: counterKey(tenantId, Math.floor(takenAt.getTime() / HOUR_MS) * HOUR_MS),
          UpdateExpression: 'ADD sent :minus',
          ConditionExpression: 'sent > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError('could not give back a tenant email', { cause: err });
    }
  }
}

const counterKey = (tenantId: string, hourStart: number) => ({ pk: `EMAILS#${tenantId}#${new Date(hourStart).toISOString().slice(0, 13)}` });
