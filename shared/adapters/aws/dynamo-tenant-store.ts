import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { ApiKeyRecord, Tenant, TenantDirectory } from '../../usecases/tenants.ts';
import type { WebhookQuota } from '../../usecases/manage-webhooks.ts';
import type { TenantOwners } from '../../usecases/owner-email.ts';
import type { TenantRateLimits } from '../../usecases/rate-limits.ts';
import type { RateLimit } from '../../domain/rate-limits.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

const tenants = (...actions: string[]) => [dynamoCall('tenants', ...actions)];

/** On the tenant's item, one attribute per listed key: `key#<key id>`. */
const KEY_ATTRIBUTE = 'key#';

/**
 * Tenants (`TENANT#<id>`) and API key hashes (`KEY#<sha256>`, the lookup authentication reads)
 * in one table. A tenant's item also lists its keys (`key#<id>`: hash, prefix, creation time)
 * and counts them (`key_count`), so that keys can be listed and revoked without a scan.
 */
export class DynamoTenantStore extends DynamoTable implements TenantDirectory, WebhookQuota, TenantOwners, TenantRateLimits, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoTenantStore> = {
    get: tenants('GetItem'),
    createIfAbsent: tenants('PutItem'),
    reserve: tenants('UpdateItem'),
    release: tenants('UpdateItem'),
    listKeys: tenants('GetItem'),
    // Lists the key on the tenant's item, stores its lookup item, unlists it again on failure.
    addKey: tenants('UpdateItem', 'PutItem'),
    revokeKey: tenants('DeleteItem', 'UpdateItem'),
    putKey: tenants('PutItem'),
    tenantIdForKey: tenants('GetItem'),
    rateLimitOf: tenants('GetItem'),
    setRateLimit: tenants('UpdateItem'),
  };

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

  /** The tenant's own request limit (`rate_limit` on its item), read eventually consistent: it is cached for seconds anyway. */
  async rateLimitOf(tenantId: string): Promise<{ limit?: RateLimit } | undefined> {
    const item = await this.getItem(`TENANT#${tenantId}`);
    if (!item) return undefined;
    const stored = item['rate_limit'] as { requests_per_second: number; burst: number } | undefined;
    return stored ? { limit: { requestsPerSecond: stored.requests_per_second, burst: stored.burst } } : {};
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

  async tenantIdForKey(keyHash: string): Promise<string | undefined> {
    // Consistent: a key revoked a moment ago must not be read back from a stale replica.
    const item = await this.getItem(`KEY#${keyHash}`, true);
    return item ? (item['tenant_id'] as string) : undefined;
  }

  private async getItem(pk: string, consistent = false) {
    try {
      return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ...(consistent ? { ConsistentRead: true } : {}) }))).Item;
    } catch (err) {
      throw new StoreError('could not read tenants table', { cause: err });
    }
  }
}
