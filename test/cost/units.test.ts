/**
 * The billing rules of the cost meter on known examples: DynamoDB item sizes and units as its
 * developer guide states them (23-byte item, rounding to 1 KB / 4 KB, the larger image of an
 * update, failed conditions, transactions), index writes by projection, SQS's 64 KB chunks,
 * API Gateway's 512 KB chunks, GB-seconds, and how the run's partitions and secrets are read.
 */
import { attemptsOnly, classifyPartitions, secretsFit, secretReadsPerTenantHour, type ScenarioCost } from './analysis.ts';
import { Segment } from './meter.ts';
import { runsPerMonth } from './stack.ts';
import {
  apiRequests,
  gbSeconds,
  indexWrites,
  itemSize,
  numberSize,
  readUnits,
  sqsMessageBytes,
  sqsRequests,
  tableWriteUnits,
  writeUnits,
  type Item,
  type TableSchema,
} from './units.ts';

const KB = 1024;
const s = (text: string) => ({ S: text });
/** An item of exactly `bytes` bytes: attribute `p` (1 byte of name) holding a string. */
const sized = (bytes: number, extra: Item = {}): Item => {
  const base = { ...extra, p: s('') };
  return { ...extra, p: s('x'.repeat(bytes - itemSize(base))) };
};

describe('DynamoDB item size', () => {
  it('is the UTF-8 length of each attribute name plus its value: the guide\'s 23-byte shirt item', () => {
    expect(itemSize({ 'shirt-color': s('R'), 'shirt-size': s('M') })).toBe(23);
  });

  it('counts strings in UTF-8 bytes, not characters', () => {
    expect(itemSize({ a: s('é€') })).toBe(1 + 2 + 3);
  });

  it('sizes numbers at 1 byte per two significant digits plus 1, leading and trailing zeros trimmed', () => {
    expect(numberSize('12345')).toBe(4);
    expect(numberSize('1000')).toBe(2);
    expect(numberSize('0.0012')).toBe(2);
    expect(numberSize('-7')).toBe(3);
    expect(itemSize({ n: { N: '123' } })).toBe(1 + 3);
  });

  it('gives lists and maps 3 bytes plus 1 per element, booleans and nulls 1, binary its bytes', () => {
    expect(itemSize({ l: { L: [s('ab'), { BOOL: true }] } })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(itemSize({ m: { M: { k: s('v') } } })).toBe(1 + 3 + (1 + 1 + 1));
    expect(itemSize({ m: { M: {} }, z: { NULL: true } })).toBe(1 + 3 + 1 + 1);
    expect(itemSize({ b: { B: Buffer.from('hello').toString('base64') } })).toBe(1 + 5);
    expect(itemSize({ b: { B: new Uint8Array(7) } })).toBe(1 + 7);
    expect(itemSize({ ss: { SS: ['a', 'bc'] } })).toBe(2 + 3);
  });
});

describe('DynamoDB request units', () => {
  it('reads: 1 unit per 4 KB rounded up when strongly consistent, half when eventually; a missing item costs the minimum', () => {
    expect(readUnits(3.5 * KB, true)).toBe(1);
    expect(readUnits(3.5 * KB, false)).toBe(0.5);
    expect(readUnits(8 * KB, true)).toBe(2);
    expect(readUnits(8 * KB, false)).toBe(1);
    expect(readUnits(0, false)).toBe(0.5);
    // A Query of ten 1 KB items is billed on their total: 10 KB -> 12 KB -> 3 units.
    expect(readUnits(10 * KB, true)).toBe(3);
  });

  it('writes: 1 unit per KB rounded up, at least 1', () => {
    expect(writeUnits(500)).toBe(1);
    expect(writeUnits(1.5 * KB)).toBe(2);
    expect(writeUnits(0)).toBe(1);
  });

  it('an update or a replacing put is billed the larger of the item before and after', () => {
    expect(tableWriteUnits(sized(2.5 * KB), sized(0.5 * KB), 'written')).toBe(3);
    expect(tableWriteUnits(undefined, sized(1.2 * KB), 'written')).toBe(2);
    expect(tableWriteUnits(sized(3 * KB), undefined, 'written')).toBe(3);
  });

  it("a failed conditional write is billed the existing item's size, and 1 unit when there is none", () => {
    expect(tableWriteUnits(sized(2 * KB), sized(3 * KB), 'condition failed')).toBe(2);
    expect(tableWriteUnits(undefined, sized(3 * KB), 'condition failed')).toBe(1);
  });

  it('transactional writes cost twice as much', () => {
    expect(tableWriteUnits(undefined, sized(KB), 'written', true)).toBe(2);
  });
});

describe('index writes', () => {
  const table = (projection: TableSchema['indexes'][number]['projection']): TableSchema => ({
    name: 'Deliveries',
    physicalName: 'deliveries',
    partitionKey: 'id',
    indexes: [{ name: 'due', partitionKey: 'shard', sortKey: 'at', projection }],
  });
  const all = table({ type: 'ALL' });
  const pending = { id: s('d1'), shard: s('3'), at: s('2025-01-01T00:00:00Z'), state: s('pending') };

  it('an item entering an index is a put of its projected size; one never in it costs nothing', () => {
    expect(indexWrites(all, undefined, pending)).toEqual([{ index: 'due', kind: 'put', units: 1, partition: '3' }]);
    expect(indexWrites(all, { id: s('d1') }, { id: s('d1'), state: s('done') })).toEqual([]);
  });

  it('an update that moves the index key is a delete plus a put; one that leaves the index a delete', () => {
    const later = { ...pending, at: s('2025-01-01T00:05:00Z') };
    expect(indexWrites(all, pending, later).map((w) => w.kind)).toEqual(['delete', 'put']);
    const { shard: _s, at: _a, ...done } = { ...pending, state: s('done') };
    expect(indexWrites(all, pending, done)).toEqual([{ index: 'due', kind: 'delete', units: 1, partition: '3' }]);
  });

  it('bills the whole item with ALL: a 3 KB item in the index costs 3 units per index write', () => {
    const big = sized(3 * KB, pending);
    expect(indexWrites(all, undefined, big)[0]!.units).toBe(3);
    expect(indexWrites(table({ type: 'KEYS_ONLY' }), undefined, big)[0]!.units).toBe(1);
  });

  it('an update of a projected attribute is an index update; of an attribute not projected, no index write', () => {
    const changed = { ...pending, state: s('claimed') };
    expect(indexWrites(all, pending, changed)).toEqual([{ index: 'due', kind: 'update', units: 1, partition: '3' }]);
    expect(indexWrites(table({ type: 'KEYS_ONLY' }), pending, changed)).toEqual([]);
    expect(indexWrites(table({ type: 'INCLUDE', nonKeyAttributes: ['state'] }), pending, changed).map((w) => w.kind)).toEqual(['update']);
    expect(indexWrites(table({ type: 'INCLUDE', nonKeyAttributes: ['other'] }), pending, changed)).toEqual([]);
  });
});

describe('SQS, API Gateway and Lambda meters', () => {
  it('SQS bills each 64 KB chunk of a payload as a request', () => {
    expect(sqsRequests(1 * KB)).toBe(1);
    expect(sqsRequests(64 * KB)).toBe(1);
    expect(sqsRequests(64 * KB + 1)).toBe(2);
    expect(sqsRequests(256 * KB)).toBe(4);
    // A batch of ten 10 KB messages is one 100 KB payload: 2 requests.
    expect(sqsRequests(10 * sqsMessageBytes({ MessageBody: 'x'.repeat(10 * KB) }))).toBe(2);
  });

  it('counts message attributes in the payload', () => {
    expect(sqsMessageBytes({ MessageBody: 'abc', MessageAttributes: { tenant: { DataType: 'String', StringValue: 'ten_1' } } })).toBe(3 + 6 + 6 + 5);
  });

  it('API Gateway HTTP APIs meter requests in 512 KB increments', () => {
    expect(apiRequests(0)).toBe(1);
    expect(apiRequests(512 * KB)).toBe(1);
    expect(apiRequests(512 * KB + 1)).toBe(2);
  });

  it('GB-seconds: the duration rounded up to the millisecond times the memory', () => {
    expect(gbSeconds(12.3, 512)).toBeCloseTo(0.0065, 10);
    expect(gbSeconds(1000, 1024)).toBe(1);
  });

  it('a rate(5 minutes) rule runs 8,640 times in a 30-day month', () => {
    expect(runsPerMonth('rate(5 minutes)')).toBe(8640);
    expect(runsPerMonth('rate(1 hour)')).toBe(720);
  });
});

describe('reading a run', () => {
  it("tells a webhook's, a tenant's, one item's and shared partition keys apart", () => {
    const segment = new Segment('x');
    const load = (resource: string, partition: string, units: number) => segment.partitions.set(`write|${resource}|${partition}`, { kind: 'write', resource, partition, units });
    load('Attempts', 'wh_1', 10);
    load('Events', 'ten_1', 60);
    load('Tenants', 'KEY#abc', 2);
    for (let i = 0; i < 10; i++) load('Deliveries', `dlv_${i}`, 5);
    for (let i = 0; i < 4; i++) load('Deliveries/due', `due#${i}`, i === 0 ? 8 : 4);
    const found = classifyPartitions({ segment, events: 10, webhookIds: ['wh_1'], tenantMarkers: ['ten_1', 'abc'] });
    const by = (resource: string) => found.find((p) => p.resource === resource)!;
    expect(by('Attempts')).toMatchObject({ class: 'webhook', hottestUnitsPerEvent: 1 });
    expect(by('Events')).toMatchObject({ class: 'tenant', hottestUnitsPerEvent: 6 });
    expect(by('Tenants')).toMatchObject({ class: 'tenant' });
    expect(by('Deliveries')).toMatchObject({ class: 'per item', keys: 10, hottestUnitsPerEvent: 5 });
    expect(by('Deliveries/due')).toMatchObject({ class: 'shared', keys: 4, unitsPerEvent: 2, hottestUnitsPerEvent: 0.8 });
  });

  it("keeps the failing scenario's attempts apart from publishing, whose cost per event does not change when the endpoint fails", () => {
    const scenario = (units: number, events: number, usdPerMillionByPrincipal: Record<string, number>) => ({ units, events, usdPerMillionByPrincipal }) as unknown as ScenarioCost;
    // 100 events delivered at once: ingest $2, dispatcher $3 per M deliveries. Failing 5 times each: ingest's $2 per M events is $0.40 per M attempts.
    const ok = scenario(100, 100, { ingest: 2, dispatcher: 3 });
    const failing = scenario(500, 100, { ingest: 0.4, dispatcher: 4.5, scheduler: 0.2 });
    expect(attemptsOnly(failing, ok)).toEqual({ usdPerMillion: 4.7, principals: ['dispatcher', 'scheduler'], publishPrincipals: ['ingest'] });
  });

  it('fits secrets to tenants and webhooks: one per webhook, or one per tenant', () => {
    expect(secretsFit([{ webhooks: 1, secrets: 1 }, { webhooks: 5, secrets: 5 }])).toEqual({ perTenant: 0, perWebhook: 1 });
    expect(secretsFit([{ webhooks: 1, secrets: 1 }, { webhooks: 5, secrets: 1 }])).toEqual({ perTenant: 1, perWebhook: 0 });
  });

  it("counts a container's GetSecretValue per tenant per hour of its clock (an hour at least)", () => {
    const segment = new Segment('cache');
    segment.secretReads.set('d|a', { principal: 'dispatcher', secret: 'hookline/webhooks/ten_1/wh_1', calls: 4 });
    segment.secretReads.set('d|b', { principal: 'dispatcher', secret: 'hookline/webhooks/ten_1/wh_2', calls: 2 });
    segment.secretReads.set('d|c', { principal: 'dispatcher', secret: 'hookline/webhooks/ten_2/wh_3', calls: 9 });
    expect(secretReadsPerTenantHour(segment, ['ten_1'], 2 * 3_600_000)).toMatchObject({ value: 3, principal: 'dispatcher' });
    expect(secretReadsPerTenantHour(segment, ['ten_1'], 600_000).value).toBe(6);
  });
});
