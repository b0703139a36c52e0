import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,

} from '@aws-sdk/lib-dynamodb';
import { DynamoTable } from './dynamo-table.ts';
import type { Webhook, WebhookStatus } from '../../domain/webhooks.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { queryPage, type Page } from './paging.ts';

type Item = Webhook & Record<string, unknown>;

/** Webhooks keyed by (tenant_id, webhook_id): a tenant's webhooks are one Query, never a Scan. */
export class DynamoWebhookStore extends DynamoTable {

  async get(tenantId: string, webhookId: string): Promise<Webhook | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId, webhook_id: webhookId } }),
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

  /**
   * Moves the webhook's status to `to` if it is one of `from`: a conditional write, so of many
   * concurrent callers exactly one sees the change (and sends the one email). Returns the
   * webhook after the change, or undefined when this call changed nothing.
   */
  async transitionStatus(
    tenantId: string,
    webhookId: string,
    from: readonly WebhookStatus[],
    to: WebhookStatus,
    at: Date,
  ): Promise<Webhook | undefined> {
    const values: Record<string, unknown> = { ':to': to, ':at': at.toISOString() };
    from.forEach((status, i) => (values[`:from${i}`] = status));
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, webhook_id: webhookId },
          UpdateExpression: 'SET #status = :to, status_changed_at = :at, updated_at = :at',
          ConditionExpression: `attribute_exists(webhook_id) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromItem(out.Attributes) : undefined;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not change webhook status', { cause: err });
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

  /** Page `page` (1-based) of a tenant's webhooks, oldest first (ids are ULIDs). */
  async list(tenantId: string, page: number, perPage: number): Promise<Page<Webhook>> {
    try {
      const result = await queryPage(this.doc, this.query(tenantId), page, perPage);
      return { ...result, items: result.items.map(fromItem) };
    } catch (err) {
      throw new StoreError('could not list webhooks', { cause: err });
    }
  }

  /** Every webhook of a tenant, a DynamoDB page at a time (fan-out to thousands of webhooks). */
  async *pages(tenantId: string): AsyncGenerator<Webhook[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      let out;
      try {
        out = await this.doc.send(new QueryCommand({ ...this.query(tenantId), ExclusiveStartKey: startKey }));
      } catch (err) {
        throw new StoreError('could not list webhooks', { cause: err });
      }
      yield (out.Items ?? []).map(fromItem);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  private query(tenantId: string) {
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

function fromItem(item: Record<string, unknown>): Webhook {
  const { webhook_id, ...rest } = item;
  return { ...(rest as Omit<Webhook, 'id'>), id: webhook_id as string };
}
