/**
 * What the cost meter and the capacity model need to know of the synthesized template, read from
 * it (never assumed): tables with their keys, indexes, projections, TTL and warm throughput;
 * functions with memory, architecture, reserved concurrency and log format; event source
 * mappings; the HTTP API stage's throttles and access log format; schedule rules; alarms;
 * secrets. It is plain data, written into cost.json for `npm run capacity`.
 */
import { StackModel } from '../lambda/template.ts';
import type { IndexSchema, TableSchema } from './units.ts';

export interface WarmThroughput {
  readonly readUnitsPerSecond?: number;
  readonly writeUnitsPerSecond?: number;
}
export interface TableInfo extends TableSchema {
  readonly warmThroughput?: WarmThroughput;
  /** Warm throughput of each index that sets one. */
  readonly indexWarmThroughput: Readonly<Record<string, WarmThroughput>>;
  readonly pointInTimeRecovery: boolean;
}
export interface FunctionInfo {
  readonly name: string;
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly logFormat: 'Text' | 'JSON';
  readonly tracingActive: boolean;
}
export interface MappingInfo {
  readonly function: string;
  readonly queue: string;
  readonly batchSize: number;
  readonly maximumConcurrency?: number;
}
export interface RouteThrottle {
  /** `POST /v1/events`, or `(default)` for the stage's default route settings. */
  readonly route: string;
  readonly rateLimit: number;
  readonly burstLimit: number;
}
export interface StackInfo {
  readonly tables: readonly TableInfo[];
  readonly functions: readonly FunctionInfo[];
  readonly mappings: readonly MappingInfo[];
  readonly queues: readonly string[];
  readonly apiThrottles: readonly RouteThrottle[];
  /** The stage's access log format (undefined: no access logs). */
  readonly accessLogFormat?: string;
  /** Schedule rules: the function they invoke and how many times a 30-day month. */
  readonly rules: readonly { readonly function: string; readonly expression: string; readonly runsPerMonth: number }[];
  readonly alarms: number;
  /**
   * What CloudWatch bills the alarms by: one metric each, or, for an alarm on metric math, each
   * metric its expression reads.
   */
  readonly alarmMetrics: number;
  /** Secrets the stack itself creates (the admin key). */
  readonly stackSecrets: number;
}

/** The construct id a resource was made by (`Hookline/Tables/Deliveries/Resource` -> `Deliveries`). */
export function shortName(model: StackModel, logicalId: string): string {
  const path = String(model.resource(logicalId).Metadata?.['aws:cdk:path'] ?? logicalId).split('/');
  return path.at(-1) === 'Resource' ? path.at(-2)! : path.at(-1)!;
}

const keyOf = (schema: { AttributeName: string; KeyType: string }[] | undefined, type: 'HASH' | 'RANGE') =>
  schema?.find((k) => k.KeyType === type)?.AttributeName;
const warm = (w: any): WarmThroughput | undefined =>
  w ? { ...(w.ReadUnitsPerSecond ? { readUnitsPerSecond: Number(w.ReadUnitsPerSecond) } : {}), ...(w.WriteUnitsPerSecond ? { writeUnitsPerSecond: Number(w.WriteUnitsPerSecond) } : {}) } : undefined;

/** Runs a 30-day month of `rate(n unit)` or a `cron(...)` expression (cron: only minute and hour lists are read). */
export function runsPerMonth(expression: string): number {
  const minutes = 30 * 24 * 60;
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const per = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[rate[2] as 'minute'];
    return minutes / (Number(rate[1]) * per);
  }
  const cron = /^cron\((\S+)\s+(\S+)/.exec(expression);
  if (cron) {
    const count = (field: string, range: number) => (field === '*' ? range : field.startsWith('*/') ? range / Number(field.slice(2)) : field.split(',').length);
    return count(cron[1]!, 60) * count(cron[2]!, 24) * 30;
  }
  return 0;
}

export function describeStack(model: StackModel): StackInfo {
  const ctx = { sqsOrigin: 'http://queues' };
  const tables: TableInfo[] = model.ofType('AWS::DynamoDB::Table').map((id) => {
    const p = model.resource(id).Properties;
    const indexes: IndexSchema[] = (p.GlobalSecondaryIndexes ?? []).map((i: any) => ({
      name: i.IndexName,
      partitionKey: keyOf(i.KeySchema, 'HASH')!,
      ...(keyOf(i.KeySchema, 'RANGE') ? { sortKey: keyOf(i.KeySchema, 'RANGE') } : {}),
      projection: { type: i.Projection?.ProjectionType ?? 'ALL', ...(i.Projection?.NonKeyAttributes ? { nonKeyAttributes: i.Projection.NonKeyAttributes } : {}) },
    }));
    const indexWarm = Object.fromEntries((p.GlobalSecondaryIndexes ?? []).filter((i: any) => i.WarmThroughput).map((i: any) => [i.IndexName, warm(i.WarmThroughput)!]));
    const tableWarm = warm(p.WarmThroughput);
    return {
      name: shortName(model, id),
      physicalName: model.physicalName(id),
      partitionKey: keyOf(p.KeySchema, 'HASH')!,
      ...(keyOf(p.KeySchema, 'RANGE') ? { sortKey: keyOf(p.KeySchema, 'RANGE') } : {}),
      indexes,
      ...(p.TimeToLiveSpecification?.Enabled ? { ttlAttribute: p.TimeToLiveSpecification.AttributeName } : {}),
      ...(tableWarm ? { warmThroughput: tableWarm } : {}),
      indexWarmThroughput: indexWarm,
      pointInTimeRecovery: Boolean(p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled),
    };
  });
  const fnName = (logicalId: string) => model.functions().find((f) => f.logicalId === logicalId)?.name ?? logicalId;
  const functions: FunctionInfo[] = model.functions().map((f) => {
    const p = model.resource(f.logicalId).Properties;
    return {
      name: f.name,
      memoryMb: f.memoryMb,
      architecture: (p.Architectures ?? ['x86_64'])[0] === 'arm64' ? 'arm64' : 'x86_64',
      timeoutSeconds: f.timeoutSeconds,
      ...(p.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: Number(p.ReservedConcurrentExecutions) } : {}),
      logFormat: p.LoggingConfig?.LogFormat === 'JSON' ? 'JSON' : 'Text',
      tracingActive: f.tracingActive,
    };
  });
  const mappings: MappingInfo[] = model.ofType('AWS::Lambda::EventSourceMapping').map((id) => {
    const p = model.resource(id).Properties;
    const max = p.ScalingConfig?.MaximumConcurrency;
    return {
      function: fnName(StackModel.target(p.FunctionName)!),
      queue: shortName(model, StackModel.target(p.EventSourceArn)!),
      batchSize: Number(p.BatchSize ?? 10),
      ...(max !== undefined ? { maximumConcurrency: Number(max) } : {}),
    };
  });
  const stage = model.ofType('AWS::ApiGatewayV2::Stage').map((id) => model.resolve(model.resource(id).Properties, ctx))[0];
  const apiThrottles: RouteThrottle[] = [];
  if (stage?.DefaultRouteSettings?.ThrottlingRateLimit !== undefined) {
    apiThrottles.push({ route: '(default)', rateLimit: Number(stage.DefaultRouteSettings.ThrottlingRateLimit), burstLimit: Number(stage.DefaultRouteSettings.ThrottlingBurstLimit ?? 0) });
  }
  for (const [route, s] of Object.entries((stage?.RouteSettings ?? {}) as Record<string, any>)) {
    if (s.ThrottlingRateLimit !== undefined) apiThrottles.push({ route, rateLimit: Number(s.ThrottlingRateLimit), burstLimit: Number(s.ThrottlingBurstLimit ?? 0) });
  }
  const rules = model.ofType('AWS::Events::Rule').flatMap((id) => {
    const p = model.resource(id).Properties;
    if (!p.ScheduleExpression) return [];
    return (p.Targets ?? []).map((t: any) => ({ function: fnName(StackModel.target(t.Arn) ?? ''), expression: String(p.ScheduleExpression), runsPerMonth: runsPerMonth(String(p.ScheduleExpression)) }));
  });
  return {
    tables,
    functions,
    mappings,
    queues: model.ofType('AWS::SQS::Queue').map((id) => shortName(model, id)),
    apiThrottles,
    ...(stage?.AccessLogSettings?.Format ? { accessLogFormat: String(stage.AccessLogSettings.Format) } : {}),
    rules,
    alarms: model.ofType('AWS::CloudWatch::Alarm').length,
    alarmMetrics: model
      .ofType('AWS::CloudWatch::Alarm')
      .map((id) => model.resource(id).Properties?.Metrics as { MetricStat?: unknown }[] | undefined)
      .reduce((sum, metrics) => sum + (metrics ? metrics.filter((m) => m.MetricStat !== undefined).length : 1), 0),
    stackSecrets: model.ofType('AWS::SecretsManager::Secret').length,
  };
}

/** Physical name -> short name, for the tables and queues the calls name. */
export function physicalToShort(model: StackModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret']) {
    for (const id of model.ofType(type)) out.set(model.physicalName(id), shortName(model, id));
  }
  return out;
}
