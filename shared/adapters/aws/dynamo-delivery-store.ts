import {
  GetCommand,
  PutCommand,
  UpdateCommand,

} from '@aws-sdk/lib-dynamodb';
import { DynamoReopenableDeliveries, REOPENABLE_DELIVERY_CALLS } from './dynamo-reopenable-deliveries.ts';
import type { AttemptSummary, Delivery, HealthFollowUp } from '../../domain/deliveries.ts';
import { dueShard } from '../../domain/ids.ts';
import { DUE_INDEX, DUE_SHARDS } from './tables.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { postponeDue, queryDue, scanAll } from './due-index.ts';
import type { Completion } from '../../usecases/dispatch.ts';
import type { NewDelivery } from '../../usecases/fan-out.ts';
import type { DueDeliveries, DueDeliveryRef } from '../../usecases/reconcile.ts';
import type { DeliveryClaims } from '../../usecases/dispatch.ts';
import type { DeliveryCreator } from '../../usecases/fan-out.ts';
import type { ReopenableDeliveries } from '../../usecases/recover-deliveries.ts';
import { dynamoCall, dynamoIndexCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';


const PARALLEL_PUTS = 16;

/**
 * Delivery state. A delivery is in the sparse `due` index while it is pending; `due_at` is when
 * its next attempt should have been made. Attempt numbers are claimed with a conditional write
 * so that a redelivered SQS message never makes the same attempt twice.
 */
export class DynamoDeliveryStore extends DynamoReopenableDeliveries implements DeliveryClaims, DeliveryCreator, DueDeliveries, ReopenableDeliveries, AwsAdapter {
  override readonly awsCalls: AwsCalls<DynamoDeliveryStore> = {
    // get, reopen: the webhooks API's two (dynamo-reopenable-deliveries.ts).
    ...REOPENABLE_DELIVERY_CALLS,
    createMany: [dynamoCall('deliveries', 'PutItem')],
    claim: [dynamoCall('deliveries', 'UpdateItem')],
    complete: [dynamoCall('deliveries', 'UpdateItem')],
    settleFollowUp: [dynamoCall('deliveries', 'UpdateItem')],
    listDue: [dynamoIndexCall('deliveries', DUE_INDEX, 'Query')],
    postpone: [dynamoCall('deliveries', 'UpdateItem')],
    refreshDue: [dynamoCall('deliveries', 'GetItem')],
    scanPending: [dynamoCall('deliveries', 'Scan')],
  };

  /**
   * Creates the deliveries that do not exist yet (conditional puts, 16 at a time) and returns
   * them: a fan-out run again for the same event creates nothing twice. A conditional put costs
   * the same write unit as a batched one.
   */
  async createMany(deliveries: readonly NewDelivery[], now: Date): Promise<NewDelivery[]> {
    const items = deliveries.map((d) => this.item(d, now));
    try {
      const created: NewDelivery[] = [];
      for (let i = 0; i < items.length; i += PARALLEL_PUTS) {
        const slice = deliveries.slice(i, i + PARALLEL_PUTS);
        const results = await Promise.all(items.slice(i, i + PARALLEL_PUTS).map((item) => this.putIfAbsent(item)));
        slice.forEach((d, j) => results[j] && created.push(d));
      }
      return created;
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError('could not create deliveries', { cause: err });
    }
  }

  /**
   * Claims attempt `attempt`: allowed when the previous attempt is complete, or when this same
   * attempt was claimed before `staleBefore` and never completed (its dispatcher died).
   * Returns the delivery, or undefined when the attempt is not this caller's to make.
   */
  async claim(deliveryId: string, attempt: number, now: Date, staleBefore: Date): Promise<Delivery | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { delivery_id: deliveryId },
          UpdateExpression: 'SET attempts_started = :n, claimed_at = :now, updated_at = :now',
          ConditionExpression:
            '#state = :pending AND attempts_completed = :prev AND ' +
            '(attempts_started = :prev OR (attempts_started = :n AND claimed_at < :stale))',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':n': attempt,
            ':prev': attempt - 1,
            ':pending': 'pending',
            ':now': now.toISOString(),
            ':stale': staleBefore.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Delivery;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not claim delivery attempt', { cause: err });
    }
  }

  /**
   * Records how claimed attempt `attempt` ended (appending `summary` to the history, when given).
   * Returns the delivery after the write, or undefined if another claim overtook this one.
   */
  async complete(
    deliveryId: string,
    attempt: number,
    completion: Completion,
    now: Date,
    summary?: AttemptSummary,
    followUp?: HealthFollowUp,
  ): Promise<Delivery | undefined> {
    const values: Record<string, unknown> = { ':n': attempt, ':now': now.toISOString() };
    const sets = ['attempts_completed = :n', 'updated_at = :now'];
    if (followUp) {
      values[':follow'] = followUp;
      sets.push('follow_up = :follow');
    }
    if (summary) {
      values[':summary'] = [summary];
      values[':empty'] = [];
      sets.push('history = list_append(if_not_exists(history, :empty), :summary)');
    }
    // An earlier attempt's follow-up is replaced by this one's, or settled by its completion.
    const removes = followUp ? [] : ['follow_up'];
    if (completion.kind === 'retry') {
      values[':next'] = completion.nextAttemptAt.toISOString();
      sets.push('next_attempt_at = :next', 'due_at = :next');
    } else {
      removes.push('next_attempt_at', 'due_shard', 'due_at');
      values[':state'] = completion.kind;
      sets.push('#state = :state');
      if (completion.kind === 'cancelled') {
        values[':reason'] = completion.reason;
        sets.push('cancel_reason = :reason');
      }
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { delivery_id: deliveryId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attempts_started = :n',
          ...(completion.kind === 'retry' ? {} : { ExpressionAttributeNames: { '#state': 'state' } }),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Delivery;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not record delivery outcome', { cause: err });
    }
  }

  async settleFollowUp(deliveryId: string, attempt: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { delivery_id: deliveryId },
          UpdateExpression: 'REMOVE follow_up',
          ConditionExpression: 'attempts_completed = :n',
          ExpressionAttributeValues: { ':n': attempt },
        }),
      );
    } catch (err) {
      // A later attempt completed meanwhile (a manual retry): its own follow-up replaced this one.
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError('could not settle delivery follow-up', { cause: err });
    }
  }

  async listDue(before: Date, limitPerShard: number): Promise<DueDeliveryRef[]> {
    return queryDue(this.doc, this.table, before, limitPerShard, dueRef);
  }

  async postpone(due: DueDeliveryRef, until: Date): Promise<boolean> {
    return postponeDue(this.doc, this.table, { delivery_id: due.delivery_id }, due.due_at, until, dueShard(due.delivery_id, DUE_SHARDS));
  }

  async refreshDue(ref: DueDeliveryRef): Promise<DueDeliveryRef | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { delivery_id: ref.delivery_id }, ConsistentRead: true }));
      return out.Item?.['state'] === 'pending' ? dueRef(out.Item) : undefined;
    } catch (err) {
      throw new StoreError('could not read delivery', { cause: err });
    }
  }

  /** Every pending delivery, read from the table itself (see DynamoEventStore.scanUnfinished). */
  async scanPending(): Promise<DueDeliveryRef[]> {
    return scanAll(this.doc, this.table, '#state = :pending', { ':pending': 'pending' }, dueRef, { '#state': 'state' });
  }

  private item(d: NewDelivery, now: Date) {
    const at = now.toISOString();
    return {
      ...d,
      state: 'pending',
      attempts_started: 0,
      attempts_completed: 0,
      created_at: at,
      updated_at: at,
      due_shard: dueShard(d.delivery_id, DUE_SHARDS),
      due_at: at,
      expires_at: this.expiresAt(now),
    };
  }

  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(delivery_id)' }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreError('could not create delivery', { cause: err });
    }
  }
}

function dueRef(item: Record<string, unknown>): DueDeliveryRef {
  const next = item['next_attempt_at'] as string | undefined;
  return {
    delivery_id: item['delivery_id'] as string,
    tenant_id: item['tenant_id'] as string,
    webhook_id: item['webhook_id'] as string,
    event_id: item['event_id'] as string,
    due_at: (item['due_at'] as string | undefined) ?? '',
    attempts_completed: Number(item['attempts_completed'] ?? 0),
    ...(next ? { next_attempt_at: next } : {}),
  };
}
