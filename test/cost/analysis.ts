/**
 * From a metered run to money: every usage line priced from the dated price table, per delivery
 * (or per failed attempt) and per published event; the partitions each scenario's units landed
 * on, told apart by whose they are (a tenant's, a webhook's, shared, or one item's own); the
 * fixed monthly costs; and the targets, each met or not. The result is plain data: it is
 * printed by report.ts, written as cost.json, and read by `npm run capacity`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Segment, UsageLine } from './meter.ts';
import type { RunResult, ScenarioResult } from './scenarios.ts';
import type { StackInfo } from './stack.ts';

export const PRICES_FILE = join(dirname(fileURLToPath(import.meta.url)), 'prices-us-east-1.json');

export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly says: string;
}
export interface PriceTable {
  readonly region: string;
  readonly date: string;
  readonly source: string;
  readonly prices: Readonly<Record<string, Price>>;
  readonly models: Readonly<Record<string, { readonly value: number; readonly says: string }>>;
}

export const loadPrices = (file = PRICES_FILE): PriceTable => JSON.parse(readFileSync(file, 'utf8')) as PriceTable;

/** USD per unit of a meter, or undefined when the meter is a count with no price (calls, durations). */
export function unitPrice(table: PriceTable, service: string, meter: string): number | undefined {
  const p = table.prices[`${service}:${meter}`];
  return p ? p.usd / p.per : undefined;
}

export interface CostLine extends Omit<UsageLine, 'quantity' | 'calls'> {
  readonly quantity: number;
  readonly calls: number;
  /** Quantity per delivery (or failed attempt) and per published event. */
  readonly perUnit: number;
  readonly perEvent: number;
  /** USD per million deliveries (or failed attempts); 0 for a meter with no price. */
  readonly usdPerMillion: number;
  readonly priced: boolean;
}

export type PartitionClass = 'tenant' | 'webhook' | 'shared' | 'per item';
export interface PartitionSummary {
  readonly kind: 'write' | 'read';
  readonly resource: string;
  readonly class: PartitionClass;
  /** Distinct key values of this class seen. */
  readonly keys: number;
  readonly unitsPerEvent: number;
  /** The busiest key's units per event of its owner (per item: over the item's whole life). */
  readonly hottestUnitsPerEvent: number;
  readonly hottestKey: string;
}

export interface ScenarioCost {
  readonly name: string;
  readonly fanout: number;
  readonly events: number;
  readonly unit: 'delivery' | 'failed attempt';
  readonly units: number;
  readonly usdPerMillion: number;
  readonly usdPerMillionByService: Readonly<Record<string, number>>;
  /** By who made the calls: a function, its event source mapping, Scheduler, API Gateway. */
  readonly usdPerMillionByPrincipal: Readonly<Record<string, number>>;
  readonly lines: readonly CostLine[];
  readonly writeUnitsPerUnit: { readonly table: number; readonly index: number; readonly total: number };
  readonly readUnitsPerUnit: number;
  /**
   * Failing scenario: the attempts' own cost, without the calls whose cost per event is the same as
   * when the first attempt succeeds (publishing and fanning the events out), and who made those.
   */
  readonly attempts?: { readonly usdPerMillion: number; readonly principals: readonly string[]; readonly publishPrincipals: readonly string[] };
  /** Outside the meter: storage and backups of what the scenario keeps, X-Ray traces. */
  readonly outside: { readonly storageUsdPerMillion: number; readonly backupUsdPerMillion: number; readonly xrayUsdPerMillion: number; readonly foreverBytesPerUnit: number };
  readonly partitions: readonly PartitionSummary[];
  readonly wallMs: number;
  readonly clockMs: number;
}

export interface FixedLine {
  readonly what: string;
  readonly usdPerMonth: number;
}
export interface FixedMonthly {
  readonly secretsPerTenant: number;
  readonly secretsPerWebhook: number;
  readonly perThousandWebhooks: number;
  readonly perHundredTenants: number;
  readonly perStack: readonly FixedLine[];
}

export interface Target {
  readonly says: string;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface CostReport {
  readonly generatedAt: string;
  readonly prices: { readonly region: string; readonly date: string; readonly source: string };
  readonly stack: StackInfo;
  readonly scenarios: readonly ScenarioCost[];
  readonly reconcilerUsdPerRun: number;
  readonly fixedMonthly: FixedMonthly;
  readonly secretReadsPerTenantHour: SecretReads;
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

const MILLION = 1_000_000;

export function priceSegment(segment: Segment, table: PriceTable, units: number, events: number): CostLine[] {
  return [...segment.lines.values()].map((l) => {
    const price = unitPrice(table, l.service, l.meter);
    return {
      ...l,
      perUnit: units ? l.quantity / units : 0,
      perEvent: events ? l.quantity / events : 0,
      usdPerMillion: price !== undefined && units ? ((l.quantity * price) / units) * MILLION : 0,
      priced: price !== undefined,
    };
  });
}

const segmentUsd = (segment: Segment, table: PriceTable) =>
  [...segment.lines.values()].reduce((sum, l) => sum + l.quantity * (unitPrice(table, l.service, l.meter) ?? 0), 0);

/** Whose a partition key is: a webhook's, a tenant's (its id, key or key hash in it), one item's own, or shared by all. */
export function classifyPartitions(s: Pick<ScenarioResult, 'segment' | 'events' | 'webhookIds' | 'tenantMarkers'>): PartitionSummary[] {
  const groups = new Map<string, { kind: 'write' | 'read'; resource: string; cls: PartitionClass | 'other'; loads: { partition: string; units: number }[] }>();
  for (const p of s.segment.partitions.values()) {
    const cls = s.webhookIds.some((id) => p.partition.includes(id)) ? 'webhook' : s.tenantMarkers.some((m) => m && p.partition.includes(m)) ? 'tenant' : 'other';
    const key = `${p.kind}|${p.resource}|${cls}`;
    const g = groups.get(key) ?? { kind: p.kind, resource: p.resource, cls, loads: [] };
    g.loads.push({ partition: p.partition, units: p.units });
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    // Keys of no tenant or webhook: one per item when they grow with the events, else shared by all traffic.
    const cls: PartitionClass = g.cls !== 'other' ? g.cls : g.loads.length >= Math.max(2, s.events / 2) ? 'per item' : 'shared';
    const hottest = g.loads.reduce((a, b) => (b.units > a.units ? b : a));
    const total = g.loads.reduce((sum, l) => sum + l.units, 0);
    return {
      kind: g.kind,
      resource: g.resource,
      class: cls,
      keys: g.loads.length,
      unitsPerEvent: total / s.events,
      hottestUnitsPerEvent: cls === 'per item' ? hottest.units : hottest.units / s.events,
      hottestKey: hottest.partition.length > 48 ? `${hottest.partition.slice(0, 45)}...` : hottest.partition,
    };
  });
}

function scenarioCost(s: ScenarioResult, table: PriceTable, stack: StackInfo): ScenarioCost {
  const failing = s.failedAttempts > 0 && s.deliveries === 0;
  const units = failing ? s.failedAttempts : s.deliveries;
  const lines = priceSegment(s.segment, table, units, s.events).sort((a, b) => b.usdPerMillion - a.usdPerMillion || b.perUnit - a.perUnit);
  const byService: Record<string, number> = {};
  const byPrincipal: Record<string, number> = {};
  for (const l of lines) {
    byService[l.service] = (byService[l.service] ?? 0) + l.usdPerMillion;
    byPrincipal[l.principal] = (byPrincipal[l.principal] ?? 0) + l.usdPerMillion;
  }
  const wru = (index: boolean) => lines.filter((l) => l.meter === 'write units' && l.resource.includes('/') === index).reduce((sum, l) => sum + l.perUnit, 0);
  const gbMonths = s.storage.reduce((sum, t) => sum + t.gbMonths, 0);
  const backedUp = s.storage.filter((t) => stack.tables.find((x) => x.name === t.table)?.pointInTimeRecovery).reduce((sum, t) => sum + t.gbMonths, 0);
  // Traces come only from functions with active tracing (none: X-Ray is off).
  const traced = new Set(stack.functions.filter((f) => f.tracingActive).map((f) => f.name));
  const invocations = lines.filter((l) => l.service === 'lambda' && l.meter === 'invocations' && traced.has(l.principal)).reduce((sum, l) => sum + l.quantity, 0);
  const perM = (usd: number) => (units ? (usd / units) * MILLION : 0);
  return {
    name: s.name,
    fanout: s.fanout,
    events: s.events,
    unit: failing ? 'failed attempt' : 'delivery',
    units,
    usdPerMillion: perM(segmentUsd(s.segment, table)),
    usdPerMillionByService: byService,
    usdPerMillionByPrincipal: byPrincipal,
    lines,
    writeUnitsPerUnit: { table: wru(false), index: wru(true), total: wru(false) + wru(true) },
    readUnitsPerUnit: lines.filter((l) => l.meter === 'read units').reduce((sum, l) => sum + l.perUnit, 0),
    outside: {
      storageUsdPerMillion: perM(gbMonths * (unitPrice(table, 'dynamodb', 'storage GB-months') ?? 0)),
      backupUsdPerMillion: perM(backedUp * (unitPrice(table, 'dynamodb', 'backup GB-months') ?? 0)),
      xrayUsdPerMillion: perM(invocations * (table.models['xraySampledShare']?.value ?? 0) * (unitPrice(table, 'xray', 'traces') ?? 0)),
      foreverBytesPerUnit: units ? s.storage.reduce((sum, t) => sum + t.foreverBytes, 0) / units : 0,
    },
    partitions: classifyPartitions(s),
    wallMs: s.wallMs,
    clockMs: s.clockMs,
  };
}

/** Least squares over (webhooks, secrets) of each tenant made: secrets = perTenant + perWebhook x webhooks. */
export function secretsFit(shapes: readonly { webhooks: number; secrets: number }[]): { perTenant: number; perWebhook: number } {
  const n = shapes.length;
  if (n === 0) return { perTenant: 0, perWebhook: 0 };
  const mx = shapes.reduce((s, p) => s + p.webhooks, 0) / n;
  const my = shapes.reduce((s, p) => s + p.secrets, 0) / n;
  const varX = shapes.reduce((s, p) => s + (p.webhooks - mx) ** 2, 0);
  const perWebhook = varX ? shapes.reduce((s, p) => s + (p.webhooks - mx) * (p.secrets - my), 0) / varX : 0;
  return { perTenant: my - perWebhook * mx, perWebhook };
}

export interface SecretReads {
  /** GetSecretValue calls per hour of the busiest container, for one tenant. */
  readonly value: number;
  /** The function whose container made them. */
  readonly principal?: string;
  readonly detail: string;
}

/** The most GetSecretValue calls one warm container made for one tenant's secrets, per hour of its clock. */
export function secretReadsPerTenantHour(segment: Segment, markers: readonly string[], clockMs: number): SecretReads {
  const byPrincipal = new Map<string, number>();
  for (const r of segment.secretReads.values()) {
    if (markers.some((m) => m && r.secret.includes(m))) byPrincipal.set(r.principal, (byPrincipal.get(r.principal) ?? 0) + r.calls);
  }
  const hours = Math.max(1, clockMs / 3_600_000);
  const worst = [...byPrincipal].sort((a, b) => b[1] - a[1])[0];
  if (!worst) return { value: 0, detail: 'no GetSecretValue for the tenant' };
  return { value: worst[1] / hours, principal: worst[0], detail: `${worst[0]}: ${worst[1]} GetSecretValue in ${(clockMs / 60_000).toFixed(0)} min of its clock` };
}

/** Within this of each other, two per-event costs of a caller are the same (publishing does not depend on the outcome). */
const SAME_COST = 0.25;

/**
 * Splits the failing scenario's cost into the attempts' own and the publishing of the events:
 * a caller whose cost per event is the same as in `succeeded` (the same events, delivered at the
 * first attempt) does not work for the attempts.
 */
export function attemptsOnly(failing: ScenarioCost, succeeded: ScenarioCost): NonNullable<ScenarioCost['attempts']> {
  const perEvent = (s: ScenarioCost, principal: string) => ((s.usdPerMillionByPrincipal[principal] ?? 0) * s.units) / s.events;
  const principals = Object.keys(failing.usdPerMillionByPrincipal);
  const publishPrincipals = principals.filter((p) => {
    const a = perEvent(failing, p);
    const b = perEvent(succeeded, p);
    return b > 0 && Math.abs(a - b) <= SAME_COST * Math.max(a, b);
  });
  const attempt = principals.filter((p) => !publishPrincipals.includes(p));
  return { usdPerMillion: attempt.reduce((sum, p) => sum + failing.usdPerMillionByPrincipal[p]!, 0), principals: attempt, publishPrincipals };
}

export function analyse(run: RunResult, table: PriceTable, options: { webhooksPerTenant: number }): CostReport {
  const measured = run.scenarios.map((s) => scenarioCost(s, table, run.stack));
  const succeeded = measured.find((s) => s.name === 'fanout-1');
  const scenarios = measured.map((s) => (s.unit === 'failed attempt' && succeeded ? { ...s, attempts: attemptsOnly(s, succeeded) } : s));
  const byName = (name: string) => scenarios.find((s) => s.name === name);
  const secretMonth = unitPrice(table, 'secretsmanager', 'secret-months') ?? 0;
  const fit = secretsFit(run.setup.secretsByShape);
  const reconcilerUsdPerRun = run.reconciler.runs ? segmentUsd(run.reconciler.segment, table) / run.reconciler.runs : 0;
  const pollers = table.models['lambdaPollersWhenIdle']?.value ?? 0;
  const sqsRequest = unitPrice(table, 'sqs', 'requests') ?? 0;
  const perStack: FixedLine[] = [
    { what: `${run.stack.stackSecrets} secret(s) of the stack itself`, usdPerMonth: run.stack.stackSecrets * secretMonth },
    ...run.stack.rules.map((r) => ({ what: `${r.function} on ${r.expression}: ${r.runsPerMonth} runs (as measured once, after the traffic)`, usdPerMonth: r.runsPerMonth * reconcilerUsdPerRun })),
    {
      what: `idle polling of ${run.stack.mappings.length} event source mapping(s): ${pollers} pollers x 3 long polls a minute each`,
      usdPerMonth: run.stack.mappings.length * pollers * 3 * 60 * 24 * 30 * sqsRequest,
    },
    {
      what: `${run.stack.alarms} CloudWatch alarm(s) on ${run.stack.alarmMetrics} metric(s) (metric math is billed per metric), outside the issue's meter`,
      usdPerMonth: run.stack.alarmMetrics * (unitPrice(table, 'cloudwatch', 'alarm-months') ?? 0),
    },
  ];
  const fixedMonthly: FixedMonthly = {
    secretsPerTenant: fit.perTenant,
    secretsPerWebhook: fit.perWebhook,
    perThousandWebhooks: 1000 * fit.perWebhook * secretMonth,
    perHundredTenants: 100 * fit.perTenant * secretMonth,
    perStack,
  };
  const cache = run.secretCache;
  const secretReads = secretReadsPerTenantHour(cache.segment, [...cache.tenantMarkers, ...cache.webhookIds], cache.clockMs);
  const secretsPerTenantMonth = (fit.perTenant + options.webhooksPerTenant * fit.perWebhook) * secretMonth;
  const target = (says: string, value: number | undefined, limit: number, unit: string): Target => ({ says, value: value ?? NaN, limit, unit, met: value !== undefined && value <= limit });
  const targets = [
    target('per million deliveries at fan-out 1', byName('fanout-1')?.usdPerMillion, 2.0, '$'),
    target('per million deliveries at fan-out 5', byName('fanout-5')?.usdPerMillion, 1.2, '$'),
    target("per million failed attempts (the attempts' own calls)", byName('failing')?.attempts?.usdPerMillion, 1.0, '$'),
    target(`secrets per tenant-month (a tenant with ${options.webhooksPerTenant} webhooks)`, secretsPerTenantMonth, 0.4, '$'),
    target('GetSecretValue per tenant per hour per warm container', secretReads.value, 1, 'calls'),
  ];
  return {
    generatedAt: new Date().toISOString(),
    prices: { region: table.region, date: table.date, source: table.source },
    stack: run.stack,
    scenarios,
    reconcilerUsdPerRun,
    fixedMonthly,
    secretReadsPerTenantHour: secretReads,
    targets,
    notes: [],
  };
}
