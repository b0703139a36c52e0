import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { ApiKeyRecord, Tenant, TenantDirectory } from '../../usecases/tenants.ts';
import type { TenantRateLimits } from '../../usecases/rate-limits.ts';
import type { RateLimit } from '../../domain/rate-limits.ts';
import type { AwsCalls } from './aws-calls.ts';
import { DynamoTenantRecords, TENANT_RECORD_CALLS, tenantsCall } from './dynamo-tenant-records.ts';

/** On the tenant's item, one attribute per listed key: `key#<key id>`. */
const KEY_ATTRIBUTE = 'key#';

/**
 * Tenants (`TENANT#<id>`) and API key hashes (`KEY#<sha256>`, the lookup authentication reads)
 * in one table. A tenant's item also lists its keys (`key#<id>`: hash, prefix, creation time)
 * and counts them (`key_count`), so that keys can be listed and revoked without a scan.
 *
 * The whole table: DynamoTenantRecords' methods, and the admin API's (tenants, keys, limits).
 */
export class DynamoTenantStore extends DynamoTenantRecords implements TenantDirectory, TenantRateLimits {
  override readonly awsCalls: AwsCalls<DynamoTenantStore> = {
    ...TENANT_RECORD_CALLS,
    createIfAbsent: tenantsCall('PutItem'),
    listKeys: tenantsCall('GetItem'),
    // Lists the key on the tenant's item, stores its lookup item, unlists it again on failure.
    addKey: tenantsCall('UpdateItem', 'PutItem'),
    revokeKey: tenantsCall('DeleteItem', 'UpdateItem'),
    putKey: tenantsCall('PutItem'),
    setRateLimit: tenantsCall('UpdateItem'),
  };

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

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const item = await this.getItem(`TENANT#${tenantId}`, true);
    if (!item) return [];
    return Object.entries(item)
      .filter(([name]) => name.startsWith(KEY_ATTRIBUTE))
      .map(([name, value]) => ({ ...(value as Omit<ApiKeyRecord, 'id'>), id: name.slice(KEY_ATTRIBUTE.length) }));
  }

  async addKey(tenantId: string, key: ApiKeyRecord, maxKeys: number): Promise<'added' | 'full' | 'taken'> {
    const { id, ...listed } = key;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `TENANT#${tenantId}` },
          UpdateExpression: 'SET #key = :key ADD key_count :one',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#key) AND (attribute_not_exists(key_count) OR key_count < :max)',
          ExpressionAttributeNames: { '#key': `${KEY_ATTRIBUTE}${id}` },
          ExpressionAttributeValues: { ':key': listed, ':one': 1, ':max': maxKeys },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'full';
      throw new StoreError('could not list API key', { cause: err });
    }
    // Listed first, working second: a failure in between leaves a listed key that does not work.
    try {
      if (await this.putKey(key.hash, tenantId, id)) return 'added';
    } catch (err) {
      await this.unlist(tenantId, id).catch(() => undefined);
      throw err;
    }
    await this.unlist(tenantId, id);
    return 'taken';
  }

  async revokeKey(tenantId: string, keyHash: string, keyId?: string): Promise<void> {
    // Stop it working first: a failure in between leaves a listed key that does not work.
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `KEY#${keyHash}` },
          ConditionExpression: 'tenant_id = :tenant',
          ExpressionAttributeValues: { ':tenant': tenantId },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreError('could not revoke API key', { cause: err });
    }
    if (keyId !== undefined) await this.unlist(tenantId, keyId);
  }

  /**
   * The lookup item authentication reads; false when the same key hash belongs to another tenant.
   * `keyId` names the tenant's listing of it (absent for keys stored before keys were listed).
   */
  async putKey(keyHash: string, tenantId: string, keyId?: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `KEY#${keyHash}`, tenant_id: tenantId, ...(keyId === undefined ? {} : { key_id: keyId }) },
          ConditionExpression: 'attribute_not_exists(pk) OR tenant_id = :tenant',
          ExpressionAttributeValues: { ':tenant': tenantId },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not store API key', { cause: err });
    }
  }

  private async unlist(tenantId: string, keyId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `TENANT#${tenantId}` },
          UpdateExpression: 'REMOVE #key ADD key_count :minus',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#key': `${KEY_ATTRIBUTE}${keyId}` },
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreError('could not unlist API key', { cause: err });
    }
  }

  async setRateLimit(tenantId: string, limit: RateLimit): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `TENANT#${tenantId}` },
          UpdateExpression: 'SET rate_limit = :limit',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':limit': { requests_per_second: limit.requestsPerSecond, burst: limit.burst } },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not set the rate limit', { cause: err });
    }
  }
}
