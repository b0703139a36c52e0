import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Attempt, AttemptSummary, Delivery, DeliveryMessage, DeliveryRef, HealthFollowUp } from '../../domain/deliveries.ts';
import type { AttemptRecorder, Completion, DeliveryClaims, OutcomeRecorder, Received } from '../../usecases/dispatch.ts';
import { dynamoCall, type AwsAdapter, type AwsCalls } from './aws-calls.ts';
import { claimedDelivery, deliveryAfter } from '../delivery-states.ts';
import { attemptItem, keyOf } from './delivery-log-items.ts';
import { DELIVERY_LOG_READER_CALLS, DynamoDeliveryLogReader } from './dynamo-delivery-log-reader.ts';
import { isConditionalCheckFailed, StoreError } from './errors.ts';

/**
 * The delivery log as the dispatcher writes it, one conditional put per attempt and nothing else
 * (the log entry is the delivery's state; no item is written when a delivery is created):
 * - `claim` reads whether the attempt was made (an eventually consistent GetItem, half a read
 *   unit) when the message was received before: a redelivered message whose attempt is in the
 *   log is not sent again;
 * - `recordOutcome` puts the attempt's entry if it is not there yet: of two dispatchers that made
 *   the same attempt (a message redelivered while its first copy was still being sent), only the
 *   one whose entry is written goes on with the ladder, so there is never a second ladder.
 * A claim is therefore not exclusive: an attempt may be sent twice, the at-least-once the README
 * states, and it is logged once.
 */
export class DynamoDeliveryLog extends DynamoDeliveryLogReader implements DeliveryClaims, OutcomeRecorder, AttemptRecorder, AwsAdapter {
  override readonly awsCalls: AwsCalls<DynamoDeliveryLog> = {
    ...DELIVERY_LOG_READER_CALLS,
    claim: [dynamoCall('attempts', 'GetItem')],
    recordOutcome: [dynamoCall('attempts', 'PutItem')],
    complete: [],
    settleFollowUp: [dynamoCall('attempts', 'UpdateItem')],
    record: [dynamoCall('attempts', 'PutItem')],
  };

  /** An attempt outside any ladder (a test event): logged as it ended. */
  async record(attempt: Attempt): Promise<void> {
    const item = attemptItem(attempt, attempt.success ? 'succeeded' : 'failed', this.expiresAt(new Date(attempt.attempted_at)));
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableOf(item.log_key), Item: item }),
      );
    } catch (err) {
      throw new StoreError('could not record attempt', { cause: err });
    }
  }

  async claim(message: DeliveryMessage, now: Date, _staleBefore: Date, received?: Received): Promise<Delivery | undefined> {
    // A message received for the first time, from a fan-out or a rung queued once, cannot have
    // had its attempt made: no read. (A fan-out run again, or a rung queued again, sends messages
    // received once too; their attempt may go out twice, and its log entry is still written once.)
    if (received?.receiveCount === 1 && !message.recheck) return claimedDelivery(message, now);
    try {
      const key = keyOf(message, message.attempt);
      const out = await this.doc.send(new GetCommand({ TableName: this.tableOf(key.log_key), Key: key, ProjectionExpression: 'entry' }));
      if (out.Item) return undefined;
    } catch (err) {
      throw new StoreError('could not read the delivery log', { cause: err });
    }
    return claimedDelivery(message, now);
  }

  async recordOutcome(attempt: Attempt, completion: Completion, now: Date, _summary: AttemptSummary, followUp?: HealthFollowUp): Promise<Delivery | undefined> {
    if (completion.kind === 'cancelled') return this.complete(attempt, attempt.attempt, completion, now);
    const item = attemptItem(attempt, completion.kind, this.expiresAt(new Date(attempt.attempted_at)), followUp);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableOf(item.log_key),
          Item: item,
          ConditionExpression: 'attribute_not_exists(entry)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreError('could not record attempt', { cause: err });
    }
    return deliveryAfter(attempt, completion, followUp);
  }

  /**
   * Only a cancellation comes here without an attempt (the webhook is gone or switched off): it
   * writes nothing. The log shows the attempts that were made; a webhook that receives again
   * gets its later events, and a manual retry can send this one.
   */
  async complete(_ref: DeliveryRef, _attempt: number, _completion: Completion, _now: Date): Promise<Delivery | undefined> {
    return undefined;
  }

  async settleFollowUp(ref: DeliveryRef, attempt: number): Promise<void> {
    const key = keyOf(ref, attempt);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableOf(key.log_key),
          Key: key,
          UpdateExpression: 'REMOVE follow_up',
          ConditionExpression: 'attribute_exists(entry)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw new StoreError('could not settle delivery follow-up', { cause: err });
    }
  }
}
