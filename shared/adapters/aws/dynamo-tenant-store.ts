import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import { StoreError } from './errors.ts';
import type { Tenant } from '../../usecases/tenants.ts';

/** Tenants (`TENANT#<id>`) and API key hashes (`KEY#<sha256>`) in one table. */
export class DynamoTenantStore extends DynamoTable {

  async get(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.getItem(`TENANT#${tenantId}`);
    return item ? (item['tenant'] as Tenant) : undefined;
  }

  /** Stores the tenant unless it exists; true when it was created. */
  async createIfAbsent(tenant: Tenant): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `TENANT#${tenant.id}`, tenant },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return false;
      throw new StoreError('could not create tenant', { cause: err });
    }
  }

  /** The tenant's webhook counter: a conditional increment, so concurrent creates cannot overshoot. */
  async reserve(tenantId: string, max: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `TENANT#${tenantId}` },
          UpdateExpression: 'ADD webhook_count :one',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(webhook_count) OR webhook_count < :max)',
          ExpressionAttributeValues: { ':one': 1, ':max': max },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return false;
      throw new StoreError('could not reserve a webhook slot', { cause: err });
    }
  }

  async release(tenantId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `TENANT#${tenantId}` },
          UpdateExpression: 'ADD webhook_count :minus',
          ConditionExpression: 'webhook_count > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return;
      throw new StoreError('could not release a webhook slot', { cause: err });
    }
  }

  async putKey(keyHash: string, tenantId: string): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: `KEY#${keyHash}`, tenant_id: tenantId } }));
    } catch (err) {
      throw new StoreError('could not store API key', { cause: err });
    }
  }

  async tenantIdForKey(keyHash: string): Promise<string | undefined> {
    const item = await this.getItem(`KEY#${keyHash}`);
    return item ? (item['tenant_id'] as string) : undefined;
  }

  private async getItem(pk: string) {
    try {
      return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk } }))).Item;
    } catch (err) {
      throw new StoreError('could not read tenants table', { cause: err });
    }
  }
}
