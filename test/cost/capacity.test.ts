/**
 * The capacity arithmetic on a small made-up measurement: the fan-out line and the failing share,
 * partitions scaled by the right rate (all traffic or the hottest tenant), Lambda concurrency from
 * measured durations, the tightest limit and the prop that sets it, the first bottleneck.
 */
import { capacity, mixer, type Measured, type MeasuredScenario, type Quotas } from './capacity-model.ts';
import type { StackInfo } from './stack.ts';

const line = (service: string, principal: string, operation: string, resource: string, meter: string, perEvent: number) => ({ service, principal, operation, resource, meter, perEvent });

const stack: StackInfo = {
  tables: [{ name: 'Events', physicalName: 'events', partitionKey: 'tenant_id', indexes: [], indexWarmThroughput: {}, pointInTimeRecovery: true }],
  functions: [{ name: 'dispatcher', memoryMb: 512, architecture: 'arm64', timeoutSeconds: 60, logFormat: 'Text', tracingActive: false }],
  mappings: [{ function: 'dispatcher', queue: 'DeliveriesQueue', batchSize: 10, maximumConcurrency: 50 }],
  queues: ['DeliveriesQueue'],
  apiThrottles: [{ route: 'POST /v1/events', rateLimit: 100, burstLimit: 200 }],
  rules: [],
  alarms: 0,
  alarmMetrics: 0,
  stackSecrets: 0,
};

const scenario = (name: string, fanout: number, dispatcherMsPerEvent: number, wcuPerEvent: number, tenantKeyWcu: number): MeasuredScenario => ({
  name,
  fanout,
  events: 100,
  lines: [
    line('dynamodb', 'ingest', 'PutItem', 'Events', 'write units', wcuPerEvent),
    line('lambda', 'dispatcher', 'Invoke', 'dispatcher', 'invocations', 0.1 * fanout),
    line('lambda', 'dispatcher', 'Invoke', 'dispatcher', 'duration ms', dispatcherMsPerEvent),
    line('apigateway', 'apigateway', 'POST /v1/events', 'HTTP API', 'requests', 0.1),
  ],
  partitions: [
    { kind: 'write', resource: 'Events', class: 'tenant', keys: 1, unitsPerEvent: tenantKeyWcu, hottestUnitsPerEvent: tenantKeyWcu, hottestKey: 'ten_1' },
    { kind: 'write', resource: 'Events', class: 'shared', keys: 8, unitsPerEvent: 1, hottestUnitsPerEvent: 0.25, hottestKey: 'due#1' },
  ],
});

const measured: Measured = {
  stack,
  scenarios: [scenario('fanout-1', 1, 2, 4, 4), scenario('fanout-5', 5, 10, 4, 4), scenario('failing', 1, 12, 6, 6)],
  secretReadsPerTenantHour: { value: 0, detail: '' },
};

const quotas: Quotas = {
  date: '2026-11-30',
  goalUsage: 0.5,
  stackProps: { 'mapping:dispatcher': 'dispatcherMaxConcurrency', 'api:POST /v1/events': 'ingestRateLimit' },
  quotas: Object.fromEntries(
    Object.entries({
      'dynamodb.partitionWriteUnitsPerSecond': 1000,
      'dynamodb.partitionReadUnitsPerSecond': 3000,
      'dynamodb.newTableWarmWriteUnitsPerSecond': 4000,
      'dynamodb.newTableWarmReadUnitsPerSecond': 12000,
      'dynamodb.onDemandTableMaxUnitsPerSecond': 40000,
      'lambda.accountConcurrency': 1000,
      'lambda.scalingPer10Seconds': 1000,
      'lambda.sqsMappingMaxBatches': 1000,
      'lambda.sqsMappingScalePerMinute': 300,
      'sqs.inFlightPerQueue': 120000,
      'secretsmanager.getSecretValuePerSecond': 10000,
      'scheduler.createSchedulePerSecond': 5000,
      'scheduler.invocationsPerSecond': 1000,
      'apigateway.accountRequestsPerSecond': 10000,
      'ses.sendingRatePerSecond': 14,
    }).map(([k, value]) => [k, { value, says: k }]),
  ),
};

const load = { eventsPerSecond: 1000, fanout: 5, failing: 0, tenantEventsPerSecond: 100, webhooks: 0, tenants: 1, ladderSeconds: 4350 };
const ms = (s: MeasuredScenario | undefined) => s?.lines.find((l) => l.meter === 'duration ms')?.perEvent ?? 0;

describe('the capacity model', () => {
  it('puts a metric at fan-out F on the line through fan-out 1 and 5, plus F x failing x the failing extra', () => {
    expect(mixer(measured, { fanout: 1, failing: 0 })(ms)).toBe(2);
    expect(mixer(measured, { fanout: 5, failing: 0 })(ms)).toBe(10);
    expect(mixer(measured, { fanout: 3, failing: 0 })(ms)).toBe(6);
    // 5 x 0.1 x (12 - 2) more: a tenth of the deliveries cost the failing scenario's 12 ms instead of 2.
    expect(mixer(measured, { fanout: 5, failing: 0.1 })(ms)).toBe(15);
  });

  it("scales a shared key with all events and a tenant's key with the hottest tenant's", () => {
    const rows = capacity(measured, load, quotas).rows;
    expect(rows.find((r) => r.resource.includes('one shared key'))).toMatchObject({ load: 250, quota: 1000, usage: 0.25 });
    expect(rows.find((r) => r.resource.includes('one tenant key'))).toMatchObject({ load: 400, usage: 0.4 });
    expect(rows.find((r) => r.resource === 'DynamoDB Events: write throughput')).toMatchObject({ load: 4000, quota: 4000, usage: 1 });
  });

  it("shares a table's measured load over the tables the stack splits it into (Events, Events2...), each against its own warm throughput", () => {
    const events = stack.tables[0]!;
    const split: Measured = {
      ...measured,
      stack: { ...stack, tables: [1, 2, 3, 4].map((n) => ({ ...events, name: n === 1 ? 'Events' : `Events${n}`, warmThroughput: { writeUnitsPerSecond: 2000 } })) },
    };
    const rows = capacity(split, load, quotas).rows.filter((r) => r.resource.endsWith(': write throughput'));
    // 4,000 WCU/s measured on Events (one table in the cost run), a quarter on each of the four.
    expect(rows.map((r) => [r.resource, r.load, r.quota])).toEqual([
      ['DynamoDB Events: write throughput', 1000, 2000],
      ['DynamoDB Events2: write throughput', 1000, 2000],
      ['DynamoDB Events3: write throughput', 1000, 2000],
      ['DynamoDB Events4: write throughput', 1000, 2000],
    ]);
    // A key lives in one table: the hot tenant's key is as hot as before.
    expect(capacity(split, load, quotas).rows.find((r) => r.resource.includes('one tenant key'))).toMatchObject({ load: 400 });
  });

  it('derives concurrency from measured durations and holds it to the tightest limit, naming its prop', () => {
    const rows = capacity(measured, load, quotas).rows;
    // 1000 events/s x 10 ms of dispatcher per event = 10 concurrent executions, against the mapping's 50.
    expect(rows.find((r) => r.resource === 'Lambda dispatcher: concurrency')).toMatchObject({ load: 10, quota: 50, usage: 0.2, setBy: 'dispatcherMaxConcurrency' });
    expect(rows.find((r) => r.resource === 'API Gateway stage: POST /v1/events throttle')).toMatchObject({ load: 100, quota: 100, setBy: 'ingestRateLimit' });
  });

  it('names the busiest resource the first bottleneck and fails the goal when any is at 50% or more', () => {
    const result = capacity(measured, load, quotas);
    expect(result.firstBottleneck?.usage).toBe(1);
    expect(result.met).toBe(false);
    const light = capacity(measured, { ...load, eventsPerSecond: 100, tenantEventsPerSecond: 10 }, quotas);
    expect(light.rows.filter((r) => r.usage >= 0.5).map((r) => r.resource)).toEqual([]);
    expect(light.met).toBe(true);
  });
});
