/**
 * The load model behind `npm run capacity`: what `npm run cost` measured per published event in
 * each scenario, scaled to a load, against each resource's quota. A metric at fan-out F is the
 * line through the fan-out 1 and fan-out 5 measurements; a share `failing` of the deliveries
 * going to endpoints that fail every attempt adds, per such delivery, what the failing scenario
 * cost per event beyond the fan-out 1 one. Keys shared by all traffic scale with the total event
 * rate, a tenant's and a webhook's keys with the hottest tenant's rate.
 */
import type { CostLine, PartitionClass, PartitionSummary, SecretReads } from './analysis.ts';
import type { StackInfo } from './stack.ts';

export interface MeasuredScenario {
  readonly name: string;
  readonly fanout: number;
  readonly events: number;
  readonly lines: readonly Pick<CostLine, 'service' | 'principal' | 'operation' | 'resource' | 'meter' | 'perEvent'>[];
  readonly partitions: readonly PartitionSummary[];
}
export interface Measured {
  readonly stack: StackInfo;
  readonly scenarios: readonly MeasuredScenario[];
  readonly secretReadsPerTenantHour: SecretReads;
}

export interface Load {
  readonly eventsPerSecond: number;
  readonly fanout: number;
  /** Share of deliveries whose endpoint fails every attempt of the ladder. */
  readonly failing: number;
  /** The hottest tenant's events per second. */
  readonly tenantEventsPerSecond: number;
  /** Webhooks and tenants of the deployment (secret reads of warm containers, failure emails). */
  readonly webhooks: number;
  readonly tenants: number;
  /** Seconds of the retry ladder: a failing webhook's first email comes within one ladder. */
  readonly ladderSeconds: number;
}

export interface Quotas {
  readonly date: string;
  readonly goalUsage: number;
  readonly quotas: Readonly<Record<string, { readonly value: number; readonly says: string }>>;
  readonly stackProps: Readonly<Record<string, string>>;
}

export interface ResourceLoad {
  readonly resource: string;
  readonly load: number;
  readonly quota: number;
  readonly unit: string;
  /** load / quota; NaN where there is no quota. */
  readonly usage: number;
  readonly setBy: string;
  readonly note?: string;
}

export interface CapacityResult {
  readonly load: Load;
  readonly rows: readonly ResourceLoad[];
  readonly firstBottleneck?: ResourceLoad;
  readonly goalUsage: number;
  readonly met: boolean;
}

type LineFilter = (l: MeasuredScenario['lines'][number]) => boolean;

/** Per-event quantity of a scenario's lines that pass `filter`. */
export const perEvent = (s: MeasuredScenario | undefined, filter: LineFilter): number =>
  (s?.lines ?? []).filter(filter).reduce((sum, l) => sum + l.perEvent, 0);

/**
 * The mix of the scenarios at a load: m(F) on the line through fan-out 1 and fan-out 5, plus
 * F x failing x (failing - fan-out 1) per event. `of` reads one metric of a scenario.
 */
export function mixer(measured: Measured, load: Pick<Load, 'fanout' | 'failing'>): (of: (s: MeasuredScenario | undefined) => number) => number {
  const one = measured.scenarios.find((s) => s.name === 'fanout-1');
  const five = measured.scenarios.find((s) => s.name === 'fanout-5');
  const failing = measured.scenarios.find((s) => s.name === 'failing');
  if (!one || !five) throw new Error('cost.json lacks the fanout-1 and fanout-5 scenarios: run npm run cost');
  const slope = (load.fanout - one.fanout) / (five.fanout - one.fanout);
  return (of) => {
    const m1 = of(one);
    const atFanout = m1 + slope * (of(five) - m1);
    return atFanout + (failing ? load.fanout * load.failing * (of(failing) - m1) : 0);
  };
}

const quota = (q: Quotas, name: string): number => {
  const v = q.quotas[name]?.value;
  if (v === undefined) throw new Error(`the quota table has no ${name}`);
  return v;
};

/** The stack prop named for a resource key (`api:POST /v1/events`, `mapping:dispatcher`...), or a default. */
const setBy = (q: Quotas, key: string, fallback: string) => q.stackProps[key] ?? fallback;

const row = (resource: string, load: number, limit: number, unit: string, by: string, note?: string): ResourceLoad => ({
  resource,
  load,
  quota: limit,
  unit,
  usage: Number.isFinite(limit) && limit > 0 ? load / limit : NaN,
  setBy: by,
  ...(note ? { note } : {}),
});

function partitionRows(m: Measured, load: Load, q: Quotas, mix: ReturnType<typeof mixer>): ResourceLoad[] {
  const groups = new Map<string, { kind: 'write' | 'read'; resource: string; cls: PartitionClass; key: string }>();
  for (const s of m.scenarios) for (const p of s.partitions) groups.set(`${p.kind}|${p.resource}|${p.class}`, { kind: p.kind, resource: p.resource, cls: p.class, key: p.hottestKey });
  return [...groups.values()].map((g) => {
    const find = (s: MeasuredScenario | undefined) => s?.partitions.find((p) => p.kind === g.kind && p.resource === g.resource && p.class === g.cls);
    const limit = quota(q, g.kind === 'write' ? 'dynamodb.partitionWriteUnitsPerSecond' : 'dynamodb.partitionReadUnitsPerSecond');
    const unit = g.kind === 'write' ? 'WCU/s' : 'RCU/s';
    const name = `DynamoDB ${g.resource}: ${g.kind}s on one ${g.cls === 'per item' ? "item's" : g.cls} key`;
    const by = setBy(q, `partition:${g.resource}`, 'key design (no prop)');
    if (g.cls === 'per item') {
      // One item's key takes a few writes over its life, not a rate: shown as if all in one second.
      const units = Math.max(...m.scenarios.map((s) => find(s)?.hottestUnitsPerEvent ?? 0));
      return row(name, units, limit, unit, by, `at most ${units} units over the item's life (e.g. ${g.key})`);
    }
    const rate = g.cls === 'shared' ? load.eventsPerSecond : load.tenantEventsPerSecond;
    const who = g.cls === 'shared' ? `all ${load.eventsPerSecond} events/s` : `the hottest tenant's ${load.tenantEventsPerSecond} events/s`;
    return row(name, rate * Math.max(0, mix((s) => find(s)?.hottestUnitsPerEvent ?? 0)), limit, unit, by, `${who}; e.g. key ${g.key}`);
  });
}

/**
 * The tables a table's load is shared with: the stack names the delivery log's tables
 * `Attempts`, `Attempts2`... (its `logTables` prop), which split the log's keys evenly.
 */
export const tableFamily = (name: string): string => name.replace(/\d+$/, '');

function tableRows(m: Measured, load: Load, q: Quotas, mix: ReturnType<typeof mixer>): ResourceLoad[] {
  const rows: ResourceLoad[] = [];
  const max = quota(q, 'dynamodb.onDemandTableMaxUnitsPerSecond');
  const family = (resource: string) => resource.split('/').map((part, i) => (i === 0 ? tableFamily(part) : part)).join('/');
  for (const t of m.stack.tables) {
    // The measured load of the table's whole family (the cost run may have split it otherwise), over the tables it is split over here.
    const share = m.stack.tables.filter((x) => tableFamily(x.name) === tableFamily(t.name)).length;
    for (const resource of [t.name, ...t.indexes.map((i) => `${t.name}/${i.name}`)]) {
      const warm = resource === t.name ? t.warmThroughput : t.indexWarmThroughput[resource.split('/')[1]!];
      for (const kind of ['write', 'read'] as const) {
        const units = (load.eventsPerSecond * mix((s) => perEvent(s, (l) => l.service === 'dynamodb' && family(l.resource) === family(resource) && l.meter === `${kind} units`))) / share;
        if (units <= 0) continue;
        const set = kind === 'write' ? warm?.writeUnitsPerSecond : warm?.readUnitsPerSecond;
        const start = set ?? quota(q, kind === 'write' ? 'dynamodb.newTableWarmWriteUnitsPerSecond' : 'dynamodb.newTableWarmReadUnitsPerSecond');
        const prop = setBy(q, `warm:${family(resource)}`, 'WarmThroughput');
        const by = set !== undefined ? prop : `${prop} (not set: a new on-demand table's)`;
        const split = share > 1 ? `; 1/${share} of the ${tableFamily(t.name)} tables' load (${setBy(q, `split:${tableFamily(t.name)}`, 'split')})` : '';
        rows.push(row(`DynamoDB ${resource}: ${kind} throughput`, units, Math.min(start, max), kind === 'write' ? 'WCU/s' : 'RCU/s', by, `on-demand table quota ${max}/s${split}`));
      }
    }
  }
  return rows;
}

function lambdaRows(m: Measured, load: Load, q: Quotas, mix: ReturnType<typeof mixer>): ResourceLoad[] {
  const rows: ResourceLoad[] = [];
  const account = quota(q, 'lambda.accountConcurrency');
  let total = 0;
  for (const f of m.stack.functions) {
    const ms = mix((s) => perEvent(s, (l) => l.service === 'lambda' && l.principal === f.name && l.meter === 'duration ms'));
    const invocations = mix((s) => perEvent(s, (l) => l.service === 'lambda' && l.principal === f.name && l.meter === 'invocations'));
    if (invocations <= 0) continue;
    const concurrency = (load.eventsPerSecond * ms) / 1000;
    total += concurrency;
    const mapping = m.stack.mappings.find((x) => x.function === f.name);
    const limits = [
      { value: account, by: 'account concurrency (Service Quotas)' },
      ...(f.reservedConcurrency !== undefined ? [{ value: f.reservedConcurrency, by: setBy(q, `reserved:${f.name}`, 'ReservedConcurrentExecutions') }] : []),
      ...(mapping ? [{ value: mapping.maximumConcurrency ?? quota(q, 'lambda.sqsMappingMaxBatches'), by: mapping.maximumConcurrency !== undefined ? setBy(q, `mapping:${f.name}`, 'ScalingConfig.MaximumConcurrency') : 'SQS mapping: 1,000 batches at most' }] : []),
    ];
    const tightest = limits.reduce((a, b) => (b.value < a.value ? b : a));
    const ramp = mapping
      ? `${(Math.max(0, concurrency - 5) / quota(q, 'lambda.sqsMappingScalePerMinute')).toFixed(1)} min to scale up at 300/min`
      : `${Math.ceil(concurrency / quota(q, 'lambda.scalingPer10Seconds')) * 10} s to scale up at 1,000 per 10 s`;
    rows.push(row(`Lambda ${f.name}: concurrency`, concurrency, tightest.value, 'executions', tightest.by, `${(load.eventsPerSecond * invocations).toFixed(0)} invocations/s x ${(ms / invocations).toFixed(0)} ms measured here; ${ramp}`));
  }
  rows.push(row('Lambda: account concurrency, all functions', total, account, 'executions', 'account concurrency (Service Quotas)'));
  return rows;
}

function sqsRows(m: Measured, load: Load, q: Quotas, mix: ReturnType<typeof mixer>): ResourceLoad[] {
  return m.stack.queues.flatMap((queue) => {
    const requests = load.eventsPerSecond * mix((s) => perEvent(s, (l) => l.service === 'sqs' && l.resource === queue && l.meter === 'requests'));
    if (requests <= 0) return [];
    const received = load.eventsPerSecond * mix((s) => perEvent(s, (l) => l.service === 'sqs' && l.resource === queue && l.meter === 'messages received'));
    const consumer = m.stack.mappings.find((x) => x.queue === queue)?.function;
    const ms = consumer ? mix((s) => perEvent(s, (l) => l.principal === consumer && l.meter === 'duration ms')) : 0;
    const invocations = consumer ? mix((s) => perEvent(s, (l) => l.principal === consumer && l.meter === 'invocations')) : 0;
    const seconds = invocations > 0 ? ms / invocations / 1000 : 0;
    return [
      row(`SQS ${queue}: requests`, requests, NaN, 'requests/s', 'no quota (standard queue)'),
      row(`SQS ${queue}: in flight`, received * seconds, quota(q, 'sqs.inFlightPerQueue'), 'messages', 'no prop', `${received.toFixed(0)} messages/s received x ${(seconds * 1000).toFixed(0)} ms`),
    ];
  });
}

export function capacity(m: Measured, load: Load, q: Quotas): CapacityResult {
  const mix = mixer(m, load);
  const rate = (filter: LineFilter) => load.eventsPerSecond * mix((s) => perEvent(s, filter));
  const rows: ResourceLoad[] = [...partitionRows(m, load, q, mix), ...tableRows(m, load, q, mix), ...lambdaRows(m, load, q, mix), ...sqsRows(m, load, q, mix)];

  // Secret reads: what the run saw per event, or (warm caches at scale) each reading container
  // re-reading every tenant's secrets as often as the cache probe measured, whichever is more.
  const reads = rate((l) => l.service === 'secretsmanager' && (l.operation === 'GetSecretValue' || l.operation === 'DescribeSecret'));
  const reader = m.secretReadsPerTenantHour.principal;
  const containers = reader ? rows.find((r) => r.resource === `Lambda ${reader}: concurrency`)?.load ?? 0 : 0;
  const warm = (containers * load.tenants * m.secretReadsPerTenantHour.value) / 3600;
  rows.push(row('Secrets Manager: GetSecretValue', Math.max(reads, warm), quota(q, 'secretsmanager.getSecretValuePerSecond'), 'calls/s', 'no prop',
    `${reads.toFixed(1)}/s per event; ${warm.toFixed(1)}/s from ${containers.toFixed(0)} warm ${reader ?? '-'} containers x ${load.tenants} tenants x ${m.secretReadsPerTenantHour.value.toFixed(1)} reads per tenant-hour`));

  rows.push(row('Scheduler: CreateSchedule', rate((l) => l.service === 'scheduler' && l.operation === 'CreateSchedule'), quota(q, 'scheduler.createSchedulePerSecond'), 'calls/s', 'no prop'));
  rows.push(row('Scheduler: invocations', rate((l) => l.service === 'scheduler' && l.meter === 'invocations'), quota(q, 'scheduler.invocationsPerSecond'), 'invocations/s', 'no prop'));

  const api = (filter: LineFilter) => rate((l) => l.service === 'apigateway' && l.meter === 'requests' && filter(l));
  rows.push(row('API Gateway: account requests', api(() => true), quota(q, 'apigateway.accountRequestsPerSecond'), 'requests/s', 'Service Quotas'));
  const routes = new Set(m.scenarios.flatMap((s) => s.lines.filter((l) => l.service === 'apigateway' && l.meter === 'requests').map((l) => l.operation)));
  for (const route of routes) {
    const throttle = m.stack.apiThrottles.find((t) => t.route === route) ?? m.stack.apiThrottles.find((t) => t.route === '(default)');
    if (!throttle) continue;
    rows.push(row(`API Gateway stage: ${route} throttle`, api((l) => l.operation === route), throttle.rateLimit, 'requests/s', setBy(q, `api:${throttle.route}`, 'stage route settings'),
      `burst ${throttle.burstLimit}; shared by every tenant`));
  }

  // A webhook turning failing emails its owner once: at worst every failing webhook within one ladder.
  const failingScenario = m.scenarios.find((s) => s.name === 'failing');
  const emailsPerFailingWebhook = failingScenario ? (perEvent(failingScenario, (l) => l.service === 'ses' && l.meter === 'emails') * failingScenario.events) / failingScenario.fanout : 0;
  const emails = (load.webhooks * load.failing * emailsPerFailingWebhook) / Math.max(1, load.ladderSeconds);
  rows.push(row('SES: sending rate', emails, quota(q, 'ses.sendingRatePerSecond'), 'emails/s', 'SES account quota (no prop)',
    `${(load.webhooks * load.failing).toFixed(0)} failing webhooks x ${emailsPerFailingWebhook} email(s), all within one ${load.ladderSeconds} s ladder`));

  const ranked = rows.filter((r) => Number.isFinite(r.usage)).sort((a, b) => b.usage - a.usage);
  const goalUsage = q.goalUsage;
  return { load, rows, ...(ranked[0] ? { firstBottleneck: ranked[0] } : {}), goalUsage, met: ranked.every((r) => r.usage < goalUsage) };
}
