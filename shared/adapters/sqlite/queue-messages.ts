/** The messages of the one-machine queues (SqliteQueues), as their consumers and senders see them. */

/** The queues the pipeline uses, as on AWS. */
export type QueueName = 'events' | 'deliveries';

export interface QueueSettings {
  /** How long a received message stays hidden before it is seen again (as the queue's VisibilityTimeout). */
  readonly visibilityMs: number;
  /** Receives after which a message goes to the dead-letter table (the redrive policy's maxReceiveCount). */
  readonly maxReceiveCount: number;
}

/** One message as a consumer receives it; `receipt` deletes it (a receipt of an earlier receive deletes nothing). */
export interface QueuedMessage {
  readonly id: string;
  readonly receipt: string;
  readonly body: string;
  readonly groupId: string | undefined;
  readonly sentAt: Date;
  /** This receive included. */
  readonly receiveCount: number;
}

export interface OutgoingMessage {
  readonly body: string;
  /** The message's tenant, as its SQS MessageGroupId. */
  readonly groupId?: string;
  readonly delayMs?: number;
}

/** A message for SqliteQueues.sendRowBacked: its body as an object, serialized (JSON) when received. */
export interface RowBackedMessage {
  readonly payload: unknown;
  readonly groupId?: string;
}

/** A message moved to the dead-letter table. */
export interface DeadLetter {
  readonly id: string;
  readonly queue: QueueName;
  readonly body: string;
  readonly receiveCount: number;
  readonly deadAt: Date;
}
