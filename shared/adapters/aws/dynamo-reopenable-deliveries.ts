import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Delivery } from '../../domain/deliveries.ts';
import { dueShard } from '../../domain/ids.ts';
import type { ReopenableDeliveries } from '../../usecases/recover-deliveries.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import { DynamoTable } from './dynamo-table.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';
import { DUE_SHARDS } from './tables.ts';

/** The calls of `get` and `reopen`, which DynamoDeliveryStore inherits and declares too. */
export const REOPENABLE_DELIVERY_CALLS: AwsCalls<DynamoReopenableDeliveries> = {
  get: [dynamoCall('deliveries', 'GetItem')],
  reopen: [dynamoCall('deliveries', 'UpdateItem')],
};

/**
 * The deliveries table as the webhooks API uses it (a manual retry, recover): read a delivery and
 * open a finished one again. DynamoDeliveryStore extends it with what fan-out, the dispatcher and
 * the reconciler call; apart, the webhooks API's bundle carries these two methods only.
 */
export class DynamoReopenableDeliveries extends DynamoTable implements ReopenableDeliveries, AwsAdapter {
  readonly awsCalls: AwsCalls<DynamoReopenableDeliveries> = REOPENABLE_DELIVERY_CALLS;

  async get(deliveryId: string): Promise<Delivery | undefined> {
    try {
      // Consistent: callers act on a miss (a manual retry's 404) or on a just-written follow_up.
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { delivery_id: deliveryId }, ConsistentRead: true }));
      return out.Item as Delivery | undefined;
    } catch (err) {
      throw new StoreError('could not read delivery', { cause: err });
    }
  }

  /**
   * Opens a finished delivery for one more attempt (manual retry, recover): back to pending and
   * due now. Returns the delivery, or undefined when it is pending already or does not exist.
   */
  async reopen(deliveryId: string, now: Date): Promise<Delivery | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { delivery_id: deliveryId },
          UpdateExpression: 'SET #state = :pending, updated_at = :now, due_shard = :shard, due_at = :now REMOVE cancel_reason',
          ConditionExpression: 'attribute_exists(delivery_id) AND #state <> :pending AND attempts_started = attempts_completed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': now.toISOString(), ':shard': dueShard(deliveryId, DUE_SHARDS) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Delivery;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not reopen delivery', { cause: err });
    }
  }
}
