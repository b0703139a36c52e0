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
}

export class HooklineTables extends Construct {
  readonly tenants: Table;
  readonly webhooks: Table;
  readonly events: Table;
  readonly attempts: Table;

  constructor(scope: Construct, id: string, props: HooklineTablesProps = {}) {
    super(scope, id);
    const warm = props.warmThroughput ?? {};
    this.tenants = this.table(TABLES.tenants, warm.tenants);
    this.webhooks = this.table(TABLES.webhooks, warm.webhooks);
    this.events = this.table(TABLES.events, warm.events);
    this.attempts = this.table(TABLES.attempts, warm.attempts);
  }

  /** The tables by their key in TABLES. */
  get all(): Record<TableName, Table> {
    return {
      tenants: this.tenants,
      webhooks: this.webhooks,
      events: this.events,
      attempts: this.attempts,
    };
  }

  private table(schema: TableSchema, warmThroughput: WarmThroughput | undefined): Table {
    const table = new Table(this, schema.id, {
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
