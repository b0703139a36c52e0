import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What every table adapter holds: the client, the table's name, and how long its items live. */
export abstract class DynamoTable {
  protected readonly doc: DynamoDBDocumentClient;
  protected readonly table: string;
  private readonly retentionDays: number;
  constructor(doc: DynamoDBDocumentClient, table: string, retentionDays = 0) {
    this.doc = doc;
    this.table = table;
    this.retentionDays = retentionDays;
  }

  /** The TTL attribute's value: epoch seconds `retentionDays` after `from`. */
  protected expiresAt(from: Date): number {
    return Math.floor(from.getTime() / 1000) + this.retentionDays * 86_400;
  }
}
