/**
 * The services' own billing rules, as pure functions: DynamoDB item sizes, read and write request
 * units (index writes included), SQS's 64 KB request chunks, API Gateway's 512 KB request chunks
 * and Lambda GB-seconds. test/cost/units.test.ts checks them on the documentation's examples.
 */

/** A DynamoDB attribute value as the wire carries it (B as base64) or the SDK returns it (B as bytes). */
export interface AttributeValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string | Uint8Array;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly L?: readonly AttributeValue[];
  readonly M?: Readonly<Record<string, AttributeValue>>;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly (string | Uint8Array)[];
}
export type Item = Readonly<Record<string, AttributeValue>>;

export const KB = 1024;
const WRITE_UNIT_BYTES = KB;
const READ_UNIT_BYTES = 4 * KB;
const SQS_CHUNK_BYTES = 64 * KB;
const API_CHUNK_BYTES = 512 * KB;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const binarySize = (b: string | Uint8Array) => (typeof b === 'string' ? Buffer.from(b, 'base64').length : b.length);

/**
 * A number's size: 1 byte per two significant digits (leading and trailing zeros trimmed), plus
 * one byte, plus one for a negative number (DynamoDB's "approximately" rule, as the size
 * calculators that match the service apply it).
 */
export function numberSize(n: string): number {
  const text = n.trim();
  const negative = text.startsWith('-');
  const mantissa = text.replace(/^[-+]/, '').split(/e/i)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1 + (negative ? 1 : 0);
}

/** A value's size: strings in UTF-8 bytes, lists and maps 3 bytes plus 1 per element. */
export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (v.NS) return v.NS.reduce((sum, s) => sum + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((sum, b) => sum + binarySize(b), 0);
  if (v.L) return 3 + v.L.reduce((sum, e) => sum + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((sum, [k, e]) => sum + 1 + utf8(k) + valueSize(e), 0);
  return 0;
}

/** An item's size: each attribute's name length in UTF-8 plus its value's size. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((sum, [name, v]) => sum + utf8(name) + valueSize(v), 0);
}

/** Write request units of one item write: 1 per KB, rounded up, at least 1. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));

/** Read request units of `bytes` read at once: 1 per 4 KB rounded up (at least 1), half when eventually consistent. */
export const readUnits = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}
export interface IndexSchema extends KeySchema {
  readonly name: string;
  readonly projection: { readonly type: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; readonly nonKeyAttributes?: readonly string[] };
}
export interface TableSchema extends KeySchema {
  /** Short name (the construct id: `Deliveries`). */
  readonly name: string;
  readonly physicalName: string;
  readonly indexes: readonly IndexSchema[];
  /** The TTL attribute (epoch seconds), if any. */
  readonly ttlAttribute?: string;
}

const keyNames = (k: KeySchema) => (k.sortKey ? [k.partitionKey, k.sortKey] : [k.partitionKey]);

/** The item's entry in an index as the index stores it, or undefined when the item is not in it. */
export function projectedItem(table: TableSchema, index: IndexSchema, item: Item | undefined): Item | undefined {
  if (!item || keyNames(index).some((k) => item[k] === undefined)) return undefined;
  if (index.projection.type === 'ALL') return item;
  const kept = new Set([...keyNames(table), ...keyNames(index), ...(index.projection.type === 'INCLUDE' ? (index.projection.nonKeyAttributes ?? []) : [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => kept.has(name)));
}

/** A stable text of a value (map keys sorted), to compare two images. */
export function canonical(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The text of a key attribute's value (S, N or base64 B), as partitions are told apart. */
export function keyText(v: AttributeValue | undefined): string {
  if (!v) return '';
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return v.N;
  if (v.B !== undefined) return typeof v.B === 'string' ? v.B : Buffer.from(v.B).toString('base64');
  return canonical(v);
}

export interface IndexWrite {
  readonly index: string;
  readonly kind: 'put' | 'update' | 'delete';
  readonly units: number;
  /** The index partition written. */
  readonly partition: string;
}

/**
 * The writes a table write makes in its global secondary indexes, by DynamoDB's rules: an item
 * that enters an index is a put, one that leaves it a delete, one whose index key changes a
 * delete plus a put, one that stays with a projected attribute changed an update; an item in no
 * index before or after costs nothing. Each is billed by the size of the index entry.
 */
export function indexWrites(table: TableSchema, before: Item | undefined, after: Item | undefined): IndexWrite[] {
  const writes: IndexWrite[] = [];
  for (const index of table.indexes) {
    const old = projectedItem(table, index, before);
    const now = projectedItem(table, index, after);
    const partition = (item: Item) => keyText(item[index.partitionKey]);
    const put = (item: Item) => writes.push({ index: index.name, kind: 'put', units: writeUnits(itemSize(item)), partition: partition(item) });
    const del = (item: Item) => writes.push({ index: index.name, kind: 'delete', units: writeUnits(itemSize(item)), partition: partition(item) });
    if (!old && now) put(now);
    else if (old && !now) del(old);
    else if (old && now) {
      const moved = keyNames(index).some((k) => canonical(old[k]) !== canonical(now[k]));
      if (moved) {
        del(old);
        put(now);
      } else if (canonical(old) !== canonical(now)) {
        writes.push({ index: index.name, kind: 'update', units: writeUnits(Math.max(itemSize(old), itemSize(now))), partition: partition(now) });
      }
    }
  }
  return writes;
}

export type WriteOutcome = 'written' | 'condition failed';

/**
 * Table write units of one item write: the larger of the item before and after (a put that
 * replaces an item, an update), the deleted item's size (a delete), and for a write whose
 * condition failed the existing item's size, at least 1 (nothing is written to any index then).
 * Transactional writes cost twice as much.
 */
export function tableWriteUnits(before: Item | undefined, after: Item | undefined, outcome: WriteOutcome, transactional = false): number {
  const units = outcome === 'condition failed' ? writeUnits(itemSize(before)) : writeUnits(Math.max(itemSize(before), itemSize(after)));
  return transactional ? 2 * units : units;
}

/** SQS requests billed for one call carrying `payloadBytes`: each 64 KB chunk is a request. */
export const sqsRequests = (payloadBytes: number): number => Math.max(1, Math.ceil(payloadBytes / SQS_CHUNK_BYTES));

/** A message's payload as SQS counts it: the body and every message attribute (name, type and value). */
export function sqsMessageBytes(message: {
  readonly MessageBody?: string;
  readonly Body?: string;
  readonly MessageAttributes?: Readonly<Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string | Uint8Array }>>;
}): number {
  const body = utf8(message.MessageBody ?? message.Body ?? '');
  const attributes = Object.entries(message.MessageAttributes ?? {}).reduce(
    (sum, [name, a]) => sum + utf8(name) + utf8(a.DataType ?? '') + (a.StringValue !== undefined ? utf8(a.StringValue) : 0) + (a.BinaryValue !== undefined ? binarySize(a.BinaryValue) : 0),
    0,
  );
  return body + attributes;
}

/** HTTP API requests billed for one request: metered in 512 KB increments. */
export const apiRequests = (bytes: number): number => Math.max(1, Math.ceil(bytes / API_CHUNK_BYTES));

/** GB-seconds of one invocation: its duration rounded up to the millisecond times the memory. */
export const gbSeconds = (durationMs: number, memoryMb: number): number => (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);
