import type { DeliveryMessage } from '../domain/deliveries.ts';

/**
 * Ports of DispatchDelivery about when an attempt may start and how late it is: the in-flight
 * slots it takes (per webhook, per tenant) and the observer told how late each attempt came.
 */

/** Whose attempt holds a slot: the delivery's webhook and tenant. */
export type SlotHolder = Pick<DeliveryMessage, 'tenant_id' | 'webhook_id'>;
/** The slots one attempt holds; given back once, after it (never throws: a lost release expires). */
export interface SlotLease {
  release(): Promise<void>;
}
/**
 * Port: in-flight limits per webhook and per tenant: DeliverySlots in the one-machine process,
 * SharedWebhookSlots (a DynamoDB lease per webhook besides) across Lambda containers.
 */
export interface DispatchSlots {
  /** Takes the holder's slots for one attempt, or none and says which limit was reached. */
  acquire(holder: SlotHolder): Promise<SlotLease | SlotRefusal>;
}
/** Which limit an attempt found reached, and when its message should come back to try again. */
export interface SlotRefusal {
  readonly reason: 'webhook busy' | 'tenant busy';
  readonly retryInMs: number;
}
/** Port: how late the attempts taken are, and when their messages were sent (see DeliveryLag). */
export interface LagObserver {
  observe(holder: SlotHolder, dueAt: Date, sentAt: Date | undefined, now: Date): void;
}
/** What the queue says of a message: when it was sent (SQS `SentTimestamp`), and how often it was received. */
export interface Received {
  readonly sentAt?: Date;
  /** SQS `ApproximateReceiveCount`: above 1, an earlier receive may have made the attempt. */
  readonly receiveCount?: number;
}
