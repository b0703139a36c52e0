import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { emailWindowField, type StatusChange, type Webhook, type WebhookStatus } from '../../domain/webhooks.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import type { EmailClaim, WebhookStatusStore } from '../../usecases/webhook-health.ts';
import { MAX_UNSENT_CHANGES } from '../../domain/notifications.ts';
import type { WebhookPages } from '../../usecases/fan-out.ts';
import type { AwsCalls } from './aws-calls.ts';
import { DynamoWebhookRepository, fromItem, WEBHOOK_REPOSITORY_CALLS, webhooksCall } from './dynamo-webhook-repository.ts';

/**
 * Webhooks keyed by (tenant_id, webhook_id): a tenant's webhooks are one Query, never a Scan.
 * The whole table: DynamoWebhookRepository's methods (the webhooks API's), the dispatcher's
 * status changes and email window, and fan-out's pages.
 */
export class DynamoWebhookStore extends DynamoWebhookRepository implements WebhookStatusStore, WebhookPages {
  override readonly awsCalls: AwsCalls<DynamoWebhookStore> = {
    ...WEBHOOK_REPOSITORY_CALLS,
    transitionStatus: webhooksCall('UpdateItem'),
    claimEmail: webhooksCall('UpdateItem'),
    keepUnsent: webhooksCall('UpdateItem'),
    pages: webhooksCall('Query'),
  };

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
    cause: string,
  ): Promise<Webhook | undefined> {
    const values: Record<string, unknown> = { ':to': to, ':at': at.toISOString(), ':cause': cause };
    from.forEach((status, i) => (values[`:from${i}`] = status));
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant_id: tenantId, webhook_id: webhookId },
          UpdateExpression: 'SET #status = :to, status_cause = :cause, status_changed_at = :at, updated_at = :at',
          // Done again for the same cause (a redelivered follow-up), the change counts as made.
          ConditionExpression:
            `attribute_exists(webhook_id) AND (#status IN (${from.map((_, i) => `:from${i}`).join(', ')}) ` +
            'OR (#status = :to AND status_cause = :cause))',
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

  /**
   * The webhook's email window, decided by conditional writes so that concurrent dispatchers
   * agree: if the owner was not emailed since `windowStart`, this call restarts the window at
   * `now` and takes the changes held back so far (for the summary); otherwise it appends the
   * change (the first MAX_UNSENT_CHANGES are kept, the rest only counted).
   */
  async claimEmail(tenantId: string, webhookId: string, change: StatusChange, now: Date, windowStart: Date): Promise<EmailClaim> {
    const key = { tenant_id: tenantId, webhook_id: webhookId };
    const since = windowStart.toISOString();
    const field = emailWindowField(change);
    // Twice at most: a window that ends between the two writes is claimed on the second round.
    for (let round = 0; round < 2; round++) {
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET #window = :now REMOVE unsent_changes, unsent_count',
            ConditionExpression: 'attribute_exists(webhook_id) AND (attribute_not_exists(#window) OR #window <= :since)',
            ExpressionAttributeNames: { '#window': field },
            ExpressionAttributeValues: { ':now': now.toISOString(), ':since': since },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const old = out.Attributes ?? {};
        return { kind: 'send', unsent: (old['unsent_changes'] as StatusChange[] | undefined) ?? [], unsentCount: Number(old['unsent_count'] ?? 0) };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw new StoreError('could not claim the webhook\'s email window', { cause: err });
      }
      if (await this.appendUnsent(key, [change], 1, { since, field })) return { kind: 'held' };
    }
    // The webhook is gone, or windows keep ending under us: nothing to email.
    return { kind: 'held' };
  }

  async keepUnsent(tenantId: string, webhookId: string, changes: readonly StatusChange[], count: number): Promise<void> {
    await this.appendUnsent({ tenant_id: tenantId, webhook_id: webhookId }, changes, count);
  }

  /**
   * Appends changes to the unsent list while it is short, else only counts them; with `since`,
   * only while the owner was emailed after it. False when that condition (or the row) is gone.
   */
  private async appendUnsent(
    key: Record<string, string>,
    changes: readonly StatusChange[],
    count: number,
    window?: { readonly since: string; readonly field: ReturnType<typeof emailWindowField> },
  ): Promise<boolean> {
    // The window's field by name: the two windows' names are fixed (emailWindowField), never input.
    const inWindow = window === undefined ? 'attribute_exists(webhook_id)' : `attribute_exists(webhook_id) AND ${window.field} > :since`;
    const windowValues = window === undefined ? {} : { ':since': window.since };
    const attempt = async (update: string, condition: string, values: Record<string, unknown>) => {
      try {
        await this.doc.send(
          new UpdateCommand({ TableName: this.table, Key: key, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeValues: { ...values, ...windowValues } }),
        );
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw new StoreError('could not record an unsent webhook email', { cause: err });
      }
    };
    const listed = await attempt(
      'SET unsent_changes = list_append(if_not_exists(unsent_changes, :empty), :changes) ADD unsent_count :count',
      `${inWindow} AND (attribute_not_exists(unsent_changes) OR size(unsent_changes) <= :room)`,
      { ':empty': [], ':changes': changes.slice(0, MAX_UNSENT_CHANGES), ':count': count, ':room': MAX_UNSENT_CHANGES - Math.min(changes.length, MAX_UNSENT_CHANGES) },
    );
    return listed || attempt('ADD unsent_count :count', inWindow, { ':count': count });
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
}
