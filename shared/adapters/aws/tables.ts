/**
 * The DynamoDB key schemas, in one place: the CDK stack creates the tables from these and the
 * one-machine runtime creates the same tables in dynalite. Attribute names are part of the stored
 * format; change them only with a migration.
 */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexSchema {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /**
   * The attributes copied into the index besides the keys: only what its readers use. Every
   * write that changes a projected attribute is billed again on the index (with ALL, every
   * write of the item), so the index holds keys and a few small attributes.
   */
  readonly include: readonly string[];
}

export interface TableSchema {
  /** Logical name: the CDK construct id suffix and the local table name suffix. */
  readonly id: 'Tenants' | 'Webhooks' | 'Events' | 'Deliveries' | 'Attempts';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding epoch seconds after which DynamoDB may delete the item. */
  readonly ttlAttribute?: string;
  readonly indexes?: readonly IndexSchema[];
}

/**
 * Sparse index of work that is not finished yet: events not yet fanned out and deliveries whose
 * next attempt is due. Items leave the index when the attribute is removed. The partition key is
 * sharded so that the index has no single hot partition.
 */
export const DUE_INDEX = 'due';
export const DUE_SHARDS = 8;
const dueIndex = (include: readonly string[]): IndexSchema => ({
  indexName: DUE_INDEX,
  partitionKey: { name: 'due_shard', type: 'S' },
  sortKey: { name: 'due_at', type: 'S' },
  include,
});

export const TABLES = {
  /**
   * `pk` = `TENANT#<id>` (the tenant) or `KEY#<sha256 of an API key>` (who the key acts for), and
   * `EMAILS#<id>#<hour>`, the tenant's email counter of one hour (deleted by TTL).
   */
  tenants: { id: 'Tenants', partitionKey: { name: 'pk', type: 'S' }, ttlAttribute: 'expires_at' },
  /** One item per webhook; a tenant's webhooks are one Query. */
  webhooks: {
    id: 'Webhooks',
    partitionKey: { name: 'tenant_id', type: 'S' },
    sortKey: { name: 'webhook_id', type: 'S' },
  },
  /** Published events; the conditional put on (tenant_id, event_id) is the idempotency check. */
  events: {
    id: 'Events',
    partitionKey: { name: 'tenant_id', type: 'S' },
    sortKey: { name: 'event_id', type: 'S' },
    ttlAttribute: 'expires_at',
    // The reconciler needs the event's keys only: it re-reads the event it queues.
    indexes: [dueIndex([])],
  },
  /** One item per (event, webhook): the delivery's state and its attempt counter. */
  deliveries: {
    id: 'Deliveries',
    partitionKey: { name: 'delivery_id', type: 'S' },
    ttlAttribute: 'expires_at',
    // What a delivery message needs (DueDeliveryRef): claims and history stay out of the index.
    indexes: [dueIndex(['tenant_id', 'webhook_id', 'event_id', 'attempts_completed', 'next_attempt_at'])],
  },
  /** The delivery log: one item per attempt, sorted by time within a webhook. */
  attempts: {
    id: 'Attempts',
    partitionKey: { name: 'webhook_id', type: 'S' },
    sortKey: { name: 'attempt_key', type: 'S' },
    ttlAttribute: 'expires_at',
  },
} as const satisfies Record<string, TableSchema>;
