import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CredentialsLock } from '../../usecases/credentials-writer.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

/** A lock left behind by a writer that died is deleted by DynamoDB's TTL a day after it expired. */
const KEEP_SECONDS = 86_400;

/**
 * Each tenant's credentials lock, an item of the tenants table (`CREDLOCK#<tenant>`): a
 * conditional put takes it when it is absent or expired, a delete conditional on the holder
 * gives it back. A lock is two write units, taken only when a webhook's credentials change.
 */
export class DynamoCredentialsLock extends DynamoTable implements CredentialsLock, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoCredentialsLock> = {
    acquire: [dynamoCall('tenants', 'PutItem')],
    release: [dynamoCall('tenants', 'DeleteItem')],
  };

  async acquire(tenantId: string, holder: string, now: Date, until: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: lockKey(tenantId), holder, held_until: until.getTime(), expires_at: Math.ceil(until.getTime() / 1000) + KEEP_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk) OR held_until < :now',
          ExpressionAttributeValues: { ':now': now.getTime() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError("could not take a tenant's credentials lock", { cause: err });
    }
  }

  async release(tenantId: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: lockKey(tenantId) },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (err) {
      // Expired and taken by another writer: not ours to delete.
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError("could not release a tenant's credentials lock", { cause: err });
    }
  }
}

const lockKey = (tenantId: string): string => `CREDLOCK#${tenantId}`;
