/**
 * How `cdk.json` context (or `cdk -c hookline:key=value`) maps onto the props of settings.ts: one
 * key per prop that can be given as plain JSON.
 */
import type { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { HooklineSettings } from './settings.ts';

/** `cdk.json` context keys, one per prop that can be given as plain JSON. */
export const CONTEXT = {
  /** Not a prop: the stack's construct id / CloudFormation name, read by infra/app.ts. */
  stackName: 'hookline:stackName',
  retryDelays: 'hookline:retryDelays',
  signatureHeader: 'hookline:signatureHeader',
  allowPrivateTargets: 'hookline:allowPrivateTargets',
  requestTimeoutMs: 'hookline:requestTimeoutMs',
  deploymentHost: 'hookline:deploymentHost',
  secretPrefix: 'hookline:secretPrefix',
  retentionDays: 'hookline:retentionDays',
  senderEmail: 'hookline:senderEmail',
  publicUrl: 'hookline:publicUrl',
  alarmTopicArn: 'hookline:alarmTopicArn',
  alarmEmail: 'hookline:alarmEmail',
  createEmailIdentity: 'hookline:createEmailIdentity',
  logRetentionDays: 'hookline:logRetentionDays',
  tenantRateLimit: 'hookline:tenantRateLimit',
  tenantBurstLimit: 'hookline:tenantBurstLimit',
  apiRateLimit: 'hookline:apiRateLimit',
  apiBurstLimit: 'hookline:apiBurstLimit',
  dispatcherMaxConcurrency: 'hookline:dispatcherMaxConcurrency',
  logTables: 'hookline:logTables',
  ingestRateLimit: 'hookline:ingestRateLimit',
  ingestBurstLimit: 'hookline:ingestBurstLimit',
  catalogueFile: 'hookline:catalogueFile',
} as const;

/**
 * Reads the props from context (`cdk.json` or `-c key=value`, where everything is a string).
 * Empty strings count as unset.
 */
export function settingsFromContext(node: Node): HooklineSettings {
  const get = (key: string): unknown => {
    const v: unknown = node.tryGetContext(key);
    return v === '' || v === null ? undefined : v;
  };
  const str = (key: string): string | undefined => {
    const v = get(key);
    return v === undefined ? undefined : String(v);
  };
  const num = (key: string): number | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`context ${key} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const v = get(key);
    if (v === undefined || typeof v === 'boolean') return v;
    if (/^(true|1|yes)$/i.test(String(v))) return true;
    if (/^(false|0|no)$/i.test(String(v))) return false;
    throw new Error(`context ${key} must be true or false, got ${JSON.stringify(v)}`);
  };
  const delays = get(CONTEXT.retryDelays);
  const logDays = num(CONTEXT.logRetentionDays);
  if (logDays !== undefined && !Object.values(RetentionDays).includes(logDays)) {
    throw new Error(`context ${CONTEXT.logRetentionDays} must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, ...)`);
  }
  return {
    retryDelaysSeconds: delays === undefined ? undefined : delaysOf(delays),
    signatureHeader: str(CONTEXT.signatureHeader),
    allowPrivateTargets: bool(CONTEXT.allowPrivateTargets),
    requestTimeoutMs: num(CONTEXT.requestTimeoutMs),
    deploymentHost: str(CONTEXT.deploymentHost),
    secretPrefix: str(CONTEXT.secretPrefix),
    retentionDays: num(CONTEXT.retentionDays),
    senderEmail: str(CONTEXT.senderEmail),
    publicUrl: str(CONTEXT.publicUrl),
    alarmTopicArn: str(CONTEXT.alarmTopicArn),
    alarmEmail: str(CONTEXT.alarmEmail),
    createEmailIdentity: bool(CONTEXT.createEmailIdentity),
    logRetention: logDays as RetentionDays | undefined,
    tenantRateLimit: num(CONTEXT.tenantRateLimit),
    tenantBurstLimit: num(CONTEXT.tenantBurstLimit),
    apiRateLimit: num(CONTEXT.apiRateLimit),
    apiBurstLimit: num(CONTEXT.apiBurstLimit),
    dispatcherMaxConcurrency: num(CONTEXT.dispatcherMaxConcurrency),
    logTables: num(CONTEXT.logTables),
    ingestRateLimit: num(CONTEXT.ingestRateLimit),
    ingestBurstLimit: num(CONTEXT.ingestBurstLimit),
    catalogueFile: str(CONTEXT.catalogueFile),
  };
}

/**
 * The retry ladder from context: a JSON array or comma-separated seconds. An empty entry (`0,,5`)
 * is refused, as the one-machine runtime refuses it (parseRetryDelays), rather than read as 0: an
 * immediate retry nobody asked for. Range checks are resolveSettings'.
 */
function delaysOf(raw: unknown): number[] {
  const entries = Array.isArray(raw) ? raw : String(raw).split(',');
  const delays = entries.map((d) => (typeof d === 'number' ? d : String(d).trim() === '' ? Number.NaN : Number(String(d).trim())));
  if (delays.some((d) => !Number.isFinite(d))) {
    throw new Error(`context ${CONTEXT.retryDelays} must be comma-separated non-negative seconds, got ${JSON.stringify(raw)}`);
  }
  return delays;
}
