/**
 * The DynamoDB tables, created from the key schemas in shared/adapters/aws/tables.ts (the same
 * schemas the one-machine runtime creates in dynalite), so the two cannot disagree.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES } from '../../shared/adapters/aws/tables.ts';
import type { KeyAttribute, TableSchema } from '../../shared/adapters/aws/tables.ts';

export type TableName = keyof typeof TABLES;

const attribute = (key: KeyAttribute) => ({
  name: key.name,
  type: key.type === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
});

export class HooklineTables extends Construct {
  readonly tenants: Table;
  readonly webhooks: Table;
  readonly events: Table;
  readonly deliveries: Table;
  readonly attempts: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.tenants = this.table(TABLES.tenants);
    this.webhooks = this.table(TABLES.webhooks);
    this.events = this.table(TABLES.events);
    this.deliveries = this.table(TABLES.deliveries);
    this.attempts = this.table(TABLES.attempts);
  }

  /** The tables by their key in TABLES. */
  get all(): Record<TableName, Table> {
    return {
      tenants: this.tenants,
      webhooks: this.webhooks,
      events: this.events,
      deliveries: this.deliveries,
      attempts: this.attempts,
    };
  }

  private table(schema: TableSchema): Table {
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
    });
    for (const index of schema.indexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        ...(index.include.length
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: ProjectionType.KEYS_ONLY }),
      });
    }
    return table;
  }
}
