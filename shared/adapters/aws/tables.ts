/**
 * The DynamoDB key schemas, in one place: the CDK stack creates the tables from these and the
 * one-machine runtime creates the same tables in dynalite. Attribute names are part of the stored
 * format; change them only with a migration.
 */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface TableSchema {
  /** Logical name: the CDK construct id suffix and the local table name suffix. */
  readonly id: 'Tenants' | 'Webhooks' | 'Events' | 'Attempts';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding epoch seconds after which DynamoDB may delete the item. */
  readonly ttlAttribute?: string;
}

/**
 * How many partitions a webhook's delivery log is spread over: a partition takes about 1,000
 * write units a second, and one webhook of a busy tenant takes an attempt log entry for each of
 * the tenant's events and retries (2,000 events a second is the capacity goal), so 16 keep each
 * under a third. A page of the log reads each partition once (16 Queries, at half a read unit).
 */
export const LOG_SHARDS = 16;

/**
 * The table of a webhook's log shard when the log is split over `tables` tables (the stack's
 * `logTables`): one table takes 40,000 write units a second by default, and a log split over n
 * takes n times that. Fixed for a deployment's life: a different n finds the log where it is not.
 */
export const logTableOf = (shard: number, tables: number): number => shard % tables;

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
  /**
   * Published events, one item each, written once by ingest: `pk` = `<tenant_id>#<event_id>`, so
   * that one tenant's events spread over every partition; the conditional put is the idempotency
   * check. Nothing lists them: the dispatcher gets the event in its message.
   */
  events: {
    id: 'Events',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expires_at',
  },
  /**
   * The delivery log, which is also the deliveries' state: one item per attempt, written once,
   * after the attempt, with a conditional put (a second dispatcher of the same attempt finds it
   * made). `log_key` = `<webhook_id>#<shard of the delivery>` (LOG_SHARDS), `entry` =
   * `<delivery_id>#<attempt, 3 digits>`: delivery ids start with their event's arrival time, so
   * a webhook's log reads newest first, and a delivery's attempts are one Query.
   */
  attempts: {
    id: 'Attempts',
    partitionKey: { name: 'log_key', type: 'S' },
    sortKey: { name: 'entry', type: 'S' },
    ttlAttribute: 'expires_at',
  },
} as const satisfies Record<string, TableSchema>;
