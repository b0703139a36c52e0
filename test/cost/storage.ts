/**
 * Storage a scenario leaves behind: the items it created in each table (and their index
 * entries), with how long each is kept (its TTL attribute against the harness's clock). DynamoDB
 * bills storage per GB-month with 100 bytes of overhead per item and per index entry; items
 * without a TTL are kept for ever, which the report names apart.
 */
import { scanTable } from './dynamo-meter.ts';
import type { TableInfo } from './stack.ts';
import { canonical, itemSize, projectedItem, type Item } from './units.ts';

/** DynamoDB's per-item overhead in table and index storage. */
export const ITEM_OVERHEAD_BYTES = 100;
const DAYS_PER_MONTH = 30;
const GB = 1024 ** 3;

export interface TableStorage {
  readonly table: string;
  items: number;
  /** Table and index bytes, overhead included. */
  bytes: number;
  /** bytes x months kept, of items with a TTL. */
  gbMonths: number;
  /** Bytes of items with no TTL (or none set): kept for ever. */
  foreverBytes: number;
}

export class StorageTracker {
  private readonly tables: readonly TableInfo[];
  private readonly origin: string;
  private readonly seen = new Map<string, Set<string>>();

  constructor(tables: readonly TableInfo[], origin: string) {
    this.tables = tables;
    this.origin = origin;
  }

  /** What was stored since the last call: new items only (the first call takes everything). */
  async since(nowMs: number): Promise<TableStorage[]> {
    const out: TableStorage[] = [];
    for (const table of this.tables) {
      const known = this.seen.get(table.name) ?? new Set<string>();
      this.seen.set(table.name, known);
      const usage: TableStorage = { table: table.name, items: 0, bytes: 0, gbMonths: 0, foreverBytes: 0 };
      for (const item of await scanTable(this.origin, table.physicalName)) {
        const key = canonical([item[table.partitionKey], table.sortKey ? item[table.sortKey] : null]);
        if (known.has(key)) continue;
        known.add(key);
        const bytes = storedBytes(table, item);
        usage.items++;
        usage.bytes += bytes;
        const ttl = table.ttlAttribute ? Number(item[table.ttlAttribute]?.N) : NaN;
        if (Number.isFinite(ttl)) usage.gbMonths += (bytes / GB) * Math.max(0, ttl - nowMs / 1000) / 86_400 / DAYS_PER_MONTH;
        else usage.foreverBytes += bytes;
      }
      if (usage.items > 0) out.push(usage);
    }
    return out;
  }
}

/** An item's storage: its size and each index entry's, plus 100 bytes of overhead for each. */
export function storedBytes(table: TableInfo, item: Item): number {
  let bytes = itemSize(item) + ITEM_OVERHEAD_BYTES;
  for (const index of table.indexes) {
    const entry = projectedItem(table, index, item);
    if (entry) bytes += itemSize(entry) + ITEM_OVERHEAD_BYTES;
  }
  return bytes;
}
