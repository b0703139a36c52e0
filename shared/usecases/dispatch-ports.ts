import type { Attempt, AttemptSummary, Delivery, DeliveryMessage, DeliveryRef, HealthFollowUp } from '../domain/deliveries.ts';
import type { PublishedEvent } from '../domain/events.ts';
import type { Webhook, WebhookCredentials } from '../domain/webhooks.ts';

/** The ports of DispatchDelivery: delivery state, the reads and writes around an attempt, the ladder's timer, slots and lag. */


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

/** How a claimed attempt ended, for the delivery's state. */
export type Completion =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'retry'; readonly nextAttemptAt: Date }
  | { readonly kind: 'failed' }
  | { readonly kind: 'cancelled'; readonly reason: string };

/**
 * Port: delivery state with attempt claims. The one-machine store's claims are exclusive (a
 * conditional update); on AWS a claim is a read of the delivery log, and the attempt's own log
 * entry, a conditional put made after the POST, is what keeps a redelivered message from
 * starting a second ladder (see DynamoDeliveryLog).
 */
export interface DeliveryClaims {
  /**
   * The delivery, when attempt `message.attempt` is this caller's to make; undefined when it was
   * made. `received` says whether the message may have been taken before (see Received). What
   * the message tells, not read back (claimedDelivery): `get` reads the stored delivery.
   */
  claim(message: DeliveryMessage, now: Date, staleBefore: Date, received?: Received): Promise<Delivery | undefined>;
  /** Records the outcome, with the health step it leaves owing (`follow_up`) in the same write. */
  complete(
    ref: DeliveryRef,
    attempt: number,
    completion: Completion,
    now: Date,
    summary?: AttemptSummary,
    followUp?: HealthFollowUp,
  ): Promise<Delivery | undefined>;
  /** A strongly consistent read (a redelivered message asks whether a health step is owed). */
  get(ref: DeliveryRef): Promise<Delivery | undefined>;
  /** The health step of completed attempt `attempt` is done. */
  settleFollowUp(ref: DeliveryRef, attempt: number): Promise<void>;
}

/**
 * Port: what follows an outcome for the webhook's health (see WebhookHealth). `cause` names the
 * delivery whose outcome it is: done again for the same cause, a step is done once.
 */
export interface HealthTracker {
  succeeded(webhook: Webhook, cause: string): Promise<void>;
  exhausted(input: HealthInput): Promise<void>;
  gone(input: HealthInput): Promise<void>;
}
export interface HealthInput {
  readonly webhook: Webhook;
  readonly event: PublishedEvent;
  readonly attempts: readonly AttemptSummary[];
  readonly cause: string;
}

/** `consistent`: read the latest write (a miss or an inactive webhook would cancel the delivery). */
export interface WebhookReader {
  get(tenantId: string, webhookId: string, consistent?: boolean): Promise<Webhook | undefined>;
}
export interface EventReader {
  get(tenantId: string, eventId: string, consistent?: boolean): Promise<PublishedEvent | undefined>;
}
export interface CredentialsReader {
  get(webhook: Webhook): Promise<WebhookCredentials>;
}
export interface AttemptRecorder {
  record(attempt: Attempt): Promise<void>;
}
/**
 * Port: an attempt's log entry and its delivery's completion, in one write: one transaction in
 * the one-machine store (a crash leaves neither or both: a claim found at start-up either has
 * its result or is re-sent, never both), one conditional put on AWS, where the log entry is the
 * delivery's state. Undefined when the attempt was recorded already (by another dispatcher);
 * else the delivery as the outcome leaves it, told from the attempt (deliveryAfter), with the
 * `follow_up` it owes.
 */
export interface OutcomeRecorder {
  recordOutcome(attempt: Attempt, completion: Completion, now: Date, summary: AttemptSummary, followUp?: HealthFollowUp): Promise<Delivery | undefined>;
}
/** Port: makes a delivery message arrive again at (or shortly after) `at`. */
export interface RetryScheduler {
  schedule(message: DeliveryMessage, at: Date): Promise<void>;
}
