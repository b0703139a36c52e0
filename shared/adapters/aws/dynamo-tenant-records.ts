import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import { StoreError } from './errors.ts';
import type { KeyLookup, Tenant } from '../../usecases/tenants.ts';
import type { WebhookQuota } from '../../usecases/manage-webhooks.ts';
import type { TenantOwners } from '../../usecases/owner-email.ts';
import type { TenantRateLimits } from '../../usecases/rate-limits.ts';
import type { RateLimit } from '../../domain/rate-limits.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

export const tenantsCall = (...actions: string[]) => [dynamoCall('tenants', ...actions)];

/** The calls of DynamoTenantRecords' methods (DynamoTenantStore declares them again, with its own). */
export const TENANT_RECORD_CALLS = {
  get: tenantsCall('GetItem'),
  reserve: tenantsCall('UpdateItem'),
  release: tenantsCall('UpdateItem'),
  tenantIdForKey: tenantsCall('GetItem'),
  rateLimitOf: tenantsCall('GetItem'),
} satisfies AwsCalls<DynamoTenantRecords>;

/**
 * The tenants table as the tenant-facing functions use it: a tenant's item (its owner address,
 * webhook count and request limit) and the API key lookup. What only the admin API does (create
 * tenants, list and change their keys and limits) is DynamoTenantStore's, so that these
 * functions' bundles do not carry it. Items: see DynamoTenantStore.
 */
export class DynamoTenantRecords extends DynamoTable implements KeyLookup, WebhookQuota, TenantOwners, Pick<TenantRateLimits, 'rateLimitOf'>, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoTenantRecords> = TENANT_RECORD_CALLS;

  async get(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.getItem(`TENANT#${tenantId}`);
    return item ? (item['tenant'] as Tenant) : undefined;
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

  /** The tenant's own request limit (`rate_limit` on its item), read eventually consistent: it is cached for seconds anyway. */
  async rateLimitOf(tenantId: string): Promise<{ limit?: RateLimit } | undefined> {
    const item = await this.getItem(`TENANT#${tenantId}`);
    if (!item) return undefined;
    const stored = item['rate_limit'] as { requests_per_second: number; burst: number } | undefined;
    return stored ? { limit: { requestsPerSecond: stored.requests_per_second, burst: stored.burst } } : {};
  }

  async tenantIdForKey(keyHash: string): Promise<string | undefined> {
    // Consistent: a key revoked a moment ago must not be read back from a stale replica.
    const item = await this.getItem(`KEY#${keyHash}`, true);
    return item ? (item['tenant_id'] as string) : undefined;
  }

  protected async getItem(pk: string, consistent = false) {
    try {
      return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ...(consistent ? { ConsistentRead: true } : {}) }))).Item;
    } catch (err) {
      throw new StoreError('could not read tenants table', { cause: err });
    }
  }
}
