/**
 * DynamoDB calls metered by the service's rules (units.ts): before a write is forwarded the item
 * it changes is read from dynalite, and again after, so the table write units (the larger image;
 * the existing item's size when the condition failed) and each index's writes are known; reads
 * are billed by the size of what was read, a Query or Scan by every item it evaluated (replayed
 * without its filter and projection, which do not lower the bill). These meter reads are not
 * counted. Each unit is also charged to the partition (key value) it lands on.
 */
import { BatchGetItemCommand, DynamoDBClient, type BatchGetItemCommandOutput, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { REGION } from '../lambda/template.ts';
import type { TableInfo } from './stack.ts';
import { indexWrites, itemSize, keyText, projectedItem, readUnits, tableWriteUnits, type Item } from './units.ts';

export interface DynamoRecorder {
  /** `resource`: `Table` or `Table/index`. */
  units(principal: string, operation: string, resource: string, kind: 'write' | 'read', units: number): void;
  /** A write whose condition failed (counted apart, its units are in `units`). */
  conditionFailed(principal: string, operation: string, resource: string): void;
  partition(kind: 'write' | 'read', resource: string, partition: string, units: number): void;
  /** Meter time spent in the stand-ins on a function's behalf (subtracted from its duration). */
  busy<T>(principal: string, work: () => Promise<T>): Promise<T>;
}

type End = (status: number, body: Buffer) => Promise<void>;

interface PlannedWrite {
  readonly table: TableInfo;
  readonly key: Item;
  readonly kind: 'put' | 'update' | 'delete' | 'check';
  readonly transactional: boolean;
  /** What a put writes: the item after, without reading it back. */
  readonly item?: Item;
  before?: Item;
}

const parse = (body: Buffer): any => {
  try {
    return body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return {};
  }
};
const errorType = (answer: any) => String(answer.__type ?? '').split('#').pop() ?? '';

export class DynamoMeter {
  private readonly tables: Map<string, TableInfo>;
  private readonly client: DynamoDBClient;
  private readonly record: DynamoRecorder;

  constructor(tables: readonly TableInfo[], origin: string, record: DynamoRecorder) {
    this.tables = new Map(tables.map((t) => [t.physicalName, t]));
    this.client = new DynamoDBClient({ endpoint: origin, region: REGION, credentials: { accessKeyId: 'cost-meter', secretAccessKey: 'cost-meter' } });
    this.record = record;
  }

  close(): void {
    this.client.destroy();
  }

  async begin(principal: string, operation: string, input: any): Promise<End | undefined> {
    switch (operation) {
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem': {
        const table = this.table(input.TableName);
        if (!table) return undefined;
        const kind = operation === 'PutItem' ? 'put' : operation === 'UpdateItem' ? 'update' : 'delete';
        const key = this.keyOf(table, operation === 'PutItem' ? input.Item : input.Key);
        return this.writes(principal, operation, [{ table, key, kind, transactional: false, ...(operation === 'PutItem' ? { item: input.Item } : {}) }]);
      }
      case 'BatchWriteItem': {
        const planned: PlannedWrite[] = [];
        for (const [name, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, any[]>)) {
          const table = this.table(name);
          if (!table) continue;
          for (const r of requests) {
            planned.push(
              r.PutRequest
                ? { table, key: this.keyOf(table, r.PutRequest.Item), kind: 'put', transactional: false, item: r.PutRequest.Item }
                : { table, key: this.keyOf(table, r.DeleteRequest.Key), kind: 'delete', transactional: false },
            );
          }
        }
        return this.writes(principal, operation, planned);
      }
      case 'TransactWriteItems': {
        const planned: PlannedWrite[] = [];
        for (const entry of (input.TransactItems ?? []) as Record<string, any>[]) {
          const [kind, op] = Object.entries(entry)[0]!;
          const table = this.table(op.TableName);
          if (!table) continue;
          const key = kind === 'Put' ? this.keyOf(table, op.Item) : op.Key;
          planned.push({ table, key, kind: kind === 'Put' ? 'put' : kind === 'Update' ? 'update' : kind === 'Delete' ? 'delete' : 'check', transactional: true, ...(kind === 'Put' ? { item: op.Item } : {}) });
        }
        return this.writes(principal, operation, planned);
      }
      case 'GetItem':
        return async (status, body) => {
          const table = this.table(input.TableName);
          if (status !== 200 || !table) return;
          const units = readUnits(itemSize(parse(body).Item), input.ConsistentRead === true);
          this.read(principal, operation, table.name, keyText(input.Key?.[table.partitionKey]), units);
        };
      case 'BatchGetItem':
        return async (status, body) => {
          if (status !== 200) return;
          const answer = parse(body);
          for (const [name, request] of Object.entries((input.RequestItems ?? {}) as Record<string, any>)) {
            const table = this.table(name);
            if (!table) continue;
            const consistent = request.ConsistentRead === true;
            const found: Item[] = answer.Responses?.[name] ?? [];
            const unprocessed = answer.UnprocessedKeys?.[name]?.Keys?.length ?? 0;
            // Each key is a GetItem of its own: found items by size, missing ones at the minimum.
            for (const item of found) this.read(principal, operation, table.name, keyText(item[table.partitionKey]), readUnits(itemSize(item), consistent));
            const missing = (request.Keys?.length ?? 0) - unprocessed - found.length;
            for (let i = 0; i < missing; i++) this.read(principal, operation, table.name, '(missing item)', readUnits(0, consistent));
          }
        };
      case 'TransactGetItems':
        return async (status, body) => {
          if (status !== 200) return;
          const responses: { Item?: Item }[] = parse(body).Responses ?? [];
          (input.TransactItems ?? []).forEach((entry: any, i: number) => {
            const table = this.table(entry.Get?.TableName);
            if (table) this.read(principal, operation, table.name, keyText(entry.Get.Key?.[table.partitionKey]), 2 * readUnits(itemSize(responses[i]?.Item), true));
          });
        };
      case 'Query':
      case 'Scan':
        return async (status, body) => {
          if (status === 200) await this.record.busy(principal, () => this.queried(principal, operation, input, parse(body)));
        };
      default:
        return undefined;
    }
  }

  private table(name: unknown): TableInfo | undefined {
    return typeof name === 'string' ? this.tables.get(name.split('/').pop()!) : undefined;
  }

  private keyOf(table: TableInfo, item: Item): Item {
    const names = table.sortKey ? [table.partitionKey, table.sortKey] : [table.partitionKey];
    return Object.fromEntries(names.map((n) => [n, item[n]!]));
  }

  private async get(table: TableInfo, key: Item): Promise<Item | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: table.physicalName, Key: key as any, ConsistentRead: true }));
    return out.Item as Item | undefined;
  }

  /** The items before a batch of writes, in one BatchGetItem per table (a single write: a GetItem). */
  private async readBefore(planned: PlannedWrite[]): Promise<void> {
    if (planned.length === 1) {
      planned[0]!.before = await this.get(planned[0]!.table, planned[0]!.key);
      return;
    }
    for (const table of new Set(planned.map((w) => w.table))) {
      const mine = planned.filter((w) => w.table === table);
      const byKey = new Map(mine.map((w) => [JSON.stringify(this.keyOf(table, w.key)), w]));
      for (let i = 0; i < mine.length; i += 100) {
        let keys: any[] | undefined = mine.slice(i, i + 100).map((w) => w.key);
        while (keys?.length) {
          const out: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: { [table.physicalName]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of (out.Responses?.[table.physicalName] ?? []) as Item[]) {
            const w = byKey.get(JSON.stringify(this.keyOf(table, item)));
            if (w) w.before = item;
          }
          keys = out.UnprocessedKeys?.[table.physicalName]?.Keys;
        }
      }
    }
  }

  private async writes(principal: string, operation: string, planned: PlannedWrite[]): Promise<End> {
    await this.record.busy(principal, () => this.readBefore(planned));
    return async (status, body) => {
      const answer = parse(body);
      const type = errorType(answer);
      const failed = status === 400 && (type === 'ConditionalCheckFailedException' || type === 'TransactionCanceledException');
      // Any other error (validation, throttling) writes and bills nothing.
      if (status !== 200 && !failed) return;
      const unprocessed = new Set<string>();
      for (const [name, requests] of Object.entries((answer.UnprocessedItems ?? {}) as Record<string, any[]>)) {
        const table = this.table(name);
        if (table) for (const r of requests) unprocessed.add(`${table.name}|${JSON.stringify(this.keyOf(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key))}`);
      }
      const done = planned.filter((w) => !unprocessed.has(`${w.table.name}|${JSON.stringify(this.keyOf(w.table, w.key))}`));
      // Only an update's result must be read back: a put wrote its item, a delete nothing.
      const after = (w: PlannedWrite) => (w.kind === 'update' ? this.get(w.table, w.key) : Promise.resolve(w.kind === 'put' ? w.item : w.kind === 'check' ? w.before : undefined));
      const afters = failed ? done.map((w) => w.before) : await this.record.busy(principal, () => Promise.all(done.map(after)));
      done.forEach((w, i) => {
        const after = afters[i];
        const resource = w.table.name;
        const partition = keyText(w.key[w.table.partitionKey]);
        if (failed || w.kind === 'check') {
          const units = tableWriteUnits(w.before, w.before, 'condition failed', w.transactional);
          this.record.units(principal, operation, resource, 'write', units);
          this.record.partition('write', resource, partition, units);
          if (failed) this.record.conditionFailed(principal, operation, resource);
          return;
        }
        const units = tableWriteUnits(w.before, after, 'written', w.transactional);
        this.record.units(principal, operation, resource, 'write', units);
        this.record.partition('write', resource, partition, units);
        for (const iw of indexWrites(w.table, w.before, after)) {
          this.record.units(principal, operation, `${resource}/${iw.index}`, 'write', iw.units);
          this.record.partition('write', `${resource}/${iw.index}`, iw.partition, iw.units);
        }
      });
    };
  }

  private read(principal: string, operation: string, resource: string, partition: string, units: number): void {
    this.record.units(principal, operation, resource, 'read', units);
    this.record.partition('read', resource, partition, units);
  }

  /** A Query or Scan page billed by everything it evaluated: replayed without filter or projection. */
  private async queried(principal: string, operation: string, input: any, answer: any): Promise<void> {
    const table = this.table(input.TableName);
    if (!table) return;
    const index = input.IndexName ? table.indexes.find((i) => i.name === input.IndexName) : undefined;
    const replay: any = { ...input };
    for (const k of ['FilterExpression', 'ProjectionExpression', 'Select', 'AttributesToGet', 'QueryFilter', 'ScanFilter', 'ConditionalOperator', 'ReturnConsumedCapacity']) delete replay[k];
    // Names and values only the filter or projection used would make the replay invalid.
    const used = `${replay.KeyConditionExpression ?? ''}`;
    const keep = (map: Record<string, unknown> | undefined) => {
      const kept = Object.fromEntries(Object.entries(map ?? {}).filter(([token]) => new RegExp(`${token.replace(/[#:]/g, '\\$&')}(?![\\w])`).test(used)));
      return Object.keys(kept).length ? kept : undefined;
    };
    replay.ExpressionAttributeNames = keep(input.ExpressionAttributeNames);
    replay.ExpressionAttributeValues = keep(input.ExpressionAttributeValues);
    if (!replay.ExpressionAttributeNames) delete replay.ExpressionAttributeNames;
    if (!replay.ExpressionAttributeValues) delete replay.ExpressionAttributeValues;
    let items: Item[];
    try {
      const out = await this.client.send(operation === 'Query' ? new QueryCommand(replay) : new ScanCommand(replay));
      items = (out.Items ?? []) as Item[];
    } catch {
      items = answer.Items ?? [];
    }
    const stored = index ? items.map((item) => projectedItem(table, index, item) ?? item) : items;
    const bytes = stored.reduce((sum, item) => sum + itemSize(item), 0);
    const units = readUnits(bytes, input.ConsistentRead === true);
    const resource = index ? `${table.name}/${index.name}` : table.name;
    const partitionKey = index ? index.partitionKey : table.partitionKey;
    const partition = operation === 'Scan' ? '(scan: every partition)' : keyText(stored[0]?.[partitionKey]) || this.keyConditionValue(input, partitionKey);
    this.read(principal, operation, resource, partition, units);
  }

  /** The partition key value a Query names (`#pk = :v`), for a Query that found nothing. */
  private keyConditionValue(input: any, partitionKey: string): string {
    const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
    for (const m of String(input.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
      if ((names[m[1]!] ?? m[1]) === partitionKey) return keyText(input.ExpressionAttributeValues?.[m[2]!]);
    }
    return '(unknown)';
  }
}

/** Reads every item of a table (storage accounting after a scenario). */
export async function scanTable(origin: string, physicalName: string): Promise<Item[]> {
  const client = new DynamoDBClient({ endpoint: origin, region: REGION, credentials: { accessKeyId: 'cost-meter', secretAccessKey: 'cost-meter' } });
  const items: Item[] = [];
  try {
    let start: Record<string, any> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: physicalName, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...((out.Items ?? []) as Item[]));
      start = out.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return items;
}
