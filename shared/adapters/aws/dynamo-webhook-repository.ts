import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import type { Webhook } from '../../domain/webhooks.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { ListPage, PageRequest, WebhookRepository } from '../../usecases/manage-webhooks.ts';
import { queryPage } from './paging.ts';
import { TABLES } from './tables.ts';
import type { OwnerEmailStore } from '../../usecases/owner-email.ts';
import type { WebhookReader } from '../../usecases/dispatch.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';

export const webhooksCall = (...actions: string[]) => [dynamoCall('webhooks', ...actions)];

type Item = Webhook & Record<string, unknown>;

/** The calls of DynamoWebhookRepository's methods (DynamoWebhookStore declares them again, with its own). */
export const WEBHOOK_REPOSITORY_CALLS = {
  get: webhooksCall('GetItem'),
  create: webhooksCall('PutItem'),
  // With no field to change, it reads the webhook instead.
  update: webhooksCall('UpdateItem', 'GetItem'),
  confirmOwnerEmail: webhooksCall('UpdateItem'),
  delete: webhooksCall('DeleteItem'),
  list: webhooksCall('Query'),
} satisfies AwsCalls<DynamoWebhookRepository>;

/**
 * Webhooks keyed by (tenant_id, webhook_id), as the webhooks API uses them: read, created,
 * changed, deleted, listed a page at a time, and their owner address verified. The dispatcher's
 * status changes and email window and fan-out's paging are DynamoWebhookStore's, so that the
 * API's bundle does not carry them.
 */
export class DynamoWebhookRepository extends DynamoTable implements WebhookRepository, OwnerEmailStore, WebhookReader, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoWebhookRepository> = WEBHOOK_REPOSITORY_CALLS;

  /** `consistent`: where a miss is acted on for good (the API's 404, a delivery cancelled). */
  async get(tenantId: string, webhookId: string, consistent = false): Promise<Webhook | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId, webhook_id: webhookId }, ConsistentRead: consistent }),
      );
      return out.Item ? fromItem(out.Item) : undefined;
    } catch (err) {
      throw new StoreError('could not read webhook', { cause: err });
    }
  }

  async create(webhook: Webhook): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(webhook),
          ConditionExpression: 'attribute_not_exists(webhook_id)',
        }),
      );
    } catch (err) {
      throw new StoreError('could not create webhook', { cause: err });
    }
  }

  /** Sets the given fields of an existing webhook; undefined when it does not exist. */
  async update(
    tenantId: string,
    webhookId: string,
    fields: Partial<Webhook>,
    remove: readonly (keyof Webhook)[] = [],
  ): Promise<Webhook | undefined> {
    const entries = Object.entries(fields).filter(([k, v]) => v !== undefined && k !== 'tenant_id' && k !== 'id');
    if (entries.length === 0 && remove.length === 0) return this.get(tenantId, webhookId);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([key, value], i) => {
      names[`#f${i}`] = key;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
    const removes = remove.map((key, i) => {
      names[`#r${i}`] = key;
      return `#r${i}`;
    });
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, webhook_id: webhookId },
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
          ConditionExpression: 'attribute_exists(webhook_id)',
          ExpressionAttributeNames: names,
          ...(sets.length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromItem(out.Attributes) : undefined;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not update webhook', { cause: err });
    }
  }

  /** Single use: the token's hash must match and not be expired; it is removed as the address is verified. */
  async confirmOwnerEmail(tenantId: string, webhookId: string, tokenHash: string, now: Date): Promise<Webhook | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, webhook_id: webhookId },
          UpdateExpression: 'SET owner_email_verified = :yes, updated_at = :now REMOVE owner_email_token_hash, owner_email_token_expires_at',
          ConditionExpression: 'attribute_exists(webhook_id) AND owner_email_token_hash = :hash AND owner_email_token_expires_at > :now',
          ExpressionAttributeValues: { ':yes': true, ':now': now.toISOString(), ':hash': tokenHash },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromItem(out.Attributes) : undefined;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not verify the owner email', { cause: err });
    }
  }

  /** Deletes the webhook; false when it did not exist. */
  async delete(tenantId: string, webhookId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, webhook_id: webhookId },
          ConditionExpression: 'attribute_exists(webhook_id)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not delete webhook', { cause: err });
    }
  }

  /** A page of a tenant's webhooks, oldest first (ids are ULIDs); its cursors work for this tenant only. */
  async list(tenantId: string, request: PageRequest): Promise<ListPage<Webhook>> {
    const { partitionKey, sortKey } = TABLES.webhooks;
    const result = await queryPage(
      this.doc,
      {
        what: 'webhooks',
        input: this.query(tenantId),
        keyNames: { partition: partitionKey.name, sort: sortKey.name },
        partitionValue: tenantId,
        boundTo: `webhooks/${tenantId}`,
      },
      request,
    );
    return { ...result, items: result.items.map(fromItem) };
  }

  protected query(tenantId: string) {
    return {
      TableName: this.table,
      KeyConditionExpression: 'tenant_id = :t',
      ExpressionAttributeValues: { ':t': tenantId },
    };
  }
}

function toItem(w: Webhook): Item {
  const { id, ...rest } = w;
  return { ...rest, webhook_id: id } as unknown as Item;
}

export function fromItem(item: Record<string, unknown>): Webhook {
  const { webhook_id, ...rest } = item;
  return { ...(rest as Omit<Webhook, 'id'>), id: webhook_id as string };
}
