/**
 * The DynamoDB tables, created from the key schemas in shared/adapters/aws/tables.ts (the same
 * schemas the one-machine runtime creates in dynalite), so the two cannot disagree.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type WarmThroughput } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import type { KeyAttribute, TableSchema } from '../../shared/adapters/aws/tables.ts';

export type TableName = keyof typeof TABLES;

const attribute = (key: KeyAttribute) => ({
  name: key.name,
  type: key.type === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
});

export interface HooklineTablesProps {
  /**
   * Throughput each table takes at once, before on-demand scaling (a new on-demand table starts
   * at 4,000 write units a second). Billed once when raised, not by the hour.
   * @default - none: DynamoDB's starting throughput
   */
  readonly warmThroughput?: Partial<Record<TableName, WarmThroughput>>;
  /**
   * How many tables the delivery log is split over, 1 to LOG_SHARDS (validated with the stack's
   * settings, infra/stack/settings.ts); each gets `warmThroughput.attempts`.
   * @default 1
   */
  readonly logTables?: number;
}

export class HooklineTables extends Construct {
  readonly tenants: Table;
  readonly webhooks: Table;
  readonly events: Table;
  /**
   * The delivery log's tables, in the order of HOOKLINE_ATTEMPTS_TABLE (shard s of a webhook's
   * log in table s mod n): construct ids `Attempts`, then `Attempts2`..., so a deployment that
   * had one keeps it as the first.
   */
  readonly attempts: readonly Table[];

  constructor(scope: Construct, id: string, props: HooklineTablesProps = {}) {
    super(scope, id);
    const warm = props.warmThroughput ?? {};
    const logTables = props.logTables ?? 1;
    this.tenants = this.table(TABLES.tenants, warm.tenants);
    this.webhooks = this.table(TABLES.webhooks, warm.webhooks);
    this.events = this.table(TABLES.events, warm.events);
    this.attempts = Array.from({ length: logTables }, (_, i) => this.table(TABLES.attempts, warm.attempts, i === 0 ? TABLES.attempts.id : `${TABLES.attempts.id}${i + 1}`));
  }

  /** The tables of each key in TABLES (the delivery log's one or more). */
  get all(): Record<TableName, readonly Table[]> {
    return {
      tenants: [this.tenants],
      webhooks: [this.webhooks],
      events: [this.events],
      attempts: this.attempts,
    };
  }

  /** Every table, each once. */
  get list(): readonly Table[] {
    return Object.values(this.all).flat();
  }

  private table(schema: TableSchema, warmThroughput: WarmThroughput | undefined, id: string = schema.id): Table {
    const table = new Table(this, id, {
      partitionKey: attribute(schema.partitionKey),
      sortKey: schema.sortKey ? attribute(schema.sortKey) : undefined,
      // Traffic follows scanners' publishing bursts; on-demand needs no capacity planning.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: schema.ttlAttribute,
      // Tenants, webhooks and their delivery log outlive a stack replacement.
      removalPolicy: RemovalPolicy.RETAIN,
      ...(warmThroughput ? { warmThroughput } : {}),
    });
    return table;
  }
}
