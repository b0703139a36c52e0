/**
 * Props of the Hookline pipeline and their defaults (context.ts maps `cdk.json` context onto them).
 * The settings are the ones of CONTRACT.md section 1; the environment variable names the
 * functions read come from shared/config.ts so the stack and the runtime cannot drift.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SECOND, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY_DELAYS, DEFAULT_SIGNATURE_HEADER, EMAIL_SHAPE, ladderPastRetention, MAX_REQUEST_TIMEOUT_MS } from '../../shared/config.ts';
import { signatureHeaderProblem } from '../../shared/domain/webhooks.ts';
import { MAX_BURST, MAX_REQUESTS_PER_SECOND } from '../../shared/domain/rate-limits.ts';
import { LOG_SHARDS } from '../../shared/adapters/aws/tables.ts';
import { resolveAlarmSettings } from './alarm-settings.ts';
import type { HooklineAlarmSettings, ResolvedAlarmSettings } from './alarm-settings.ts';

export interface HooklineSettings extends HooklineAlarmSettings {
  /**
   * Seconds before attempts 1..N (`HOOKLINE_RETRY_DELAYS`); its length is the number of attempts.
   * @default [0, 30, 120, 600, 3600]
   */
  readonly retryDelaysSeconds?: readonly number[];
  /**
   * Name of the hex HMAC signature header (`HOOKLINE_SIGNATURE_HEADER`).
   * @default 'X-Hookline-Signature'
   */
  readonly signatureHeader?: string;
  /**
   * Whether webhook URLs may point at loopback, private, link-local or metadata addresses.
   * @default false (on AWS a target inside the VPC range or the metadata service is an SSRF risk)
   */
  readonly allowPrivateTargets?: boolean;
  /**
   * Per-attempt HTTP timeout in milliseconds (`HOOKLINE_REQUEST_TIMEOUT_MS`). The dispatcher's
   * Lambda timeout is derived from it.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Host name put in `wrapped` payloads and in emails (`HOOKLINE_DEPLOYMENT_HOST`).
   * @default 'hookline'
   */
  readonly deploymentHost?: string;
  /**
   * Name prefix of every secret of the deployment; each tenant's webhook credentials are one
   * secret, `<secretPrefix>tenants/<tenant id>`, the admin key is `<secretPrefix>admin-api-key`.
   * @default 'hookline/'
   */
  readonly secretPrefix?: string;
  /**
   * How long event, delivery and attempt records are kept (DynamoDB TTL), in days.
   * @default 30
   */
  readonly retentionDays?: number;
  /**
   * Verified SES identity (email address) that owner emails are sent from. When set, the
   * dispatcher (failure emails) and the webhooks API (owner address verification links) get
   * `HOOKLINE_SENDER_EMAIL` and may call `ses:SendEmail` from that identity (or its domain).
   *
   * Without it no email is sent on AWS: no function has an SES permission; when a webhook
   * becomes `failing` or `disabled` the dispatcher logs a warning instead of emailing its owner,
   * and an owner address other than the tenant's own cannot be verified.
   * @default - no email is sent on AWS (a warning is logged instead; the synth warns too)
   */
  readonly senderEmail?: string;
  /**
   * Whether the stack creates the SES email identity of `senderEmail` (SES then emails that
   * address a verification link, which its owner must open before anything is sent). Leave it
   * off when the address or its domain is already an identity of the account and region.
   * While the account is in the SES sandbox, SES only delivers to verified recipients.
   * @default false
   */
  readonly createEmailIdentity?: boolean;
  /**
   * Public base URL of the API (e.g. `https://hooks.example.com`, no trailing slash), used for
   * links in owner emails (the delivery log, the verification link); the dispatcher and the
   * webhooks API get it as `HOOKLINE_PUBLIC_URL`. A trailing `/` is removed.
   *
   * It is not derived from the HTTP API: the API's URL depends on the functions, so handing it
   * back to the dispatcher would be a circular dependency.
   * @default - `HOOKLINE_PUBLIC_URL` is not set; emails carry relative API paths only (the synth warns)
   */
  readonly publicUrl?: string;
  /**
   * SNS topic every alarm notifies (see `alarmEmail` for a subscription).
   * @default - a new topic, `AlarmTopic`, TLS-only
   */
  readonly alarmTopic?: ITopic;
  /**
   * ARN of an existing SNS topic for the alarms, for when the topic cannot be passed as a
   * construct (e.g. from `cdk.json`). Ignored when `alarmTopic` is given.
   * @default - a new topic, `AlarmTopic`, TLS-only
   */
  readonly alarmTopicArn?: string;
  /**
   * Retention of the functions' and the API's log groups.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Default request limit of each tenant over the tenant routes (publishing and the webhooks
   * API), per second on average (`HOOKLINE_RATE_LIMIT_PER_SECOND`): a tenant over it gets `429`
   * + `Retry-After`, the others are not affected. The admin API sets a tenant's own limit
   * (`PUT /admin/v1/tenants/{tenant_id}/rate-limit`). Counted in the tenants table, one write
   * unit per request. At most 500 (one DynamoDB partition key's write rate, halved).
   * @default 100
   */
  readonly tenantRateLimit?: number;
  /**
   * Most requests a tenant may make at once (`HOOKLINE_RATE_LIMIT_BURST`): `tenantBurstLimit`
   * requests per `tenantBurstLimit / tenantRateLimit` seconds. At least `tenantRateLimit`, at
   * most 1000.
   * @default 200
   */
  readonly tenantBurstLimit?: number;
  /**
   * Steady-state requests per second of each route of the HTTP API's default stage, but
   * `POST /v1/events` (see `ingestRateLimit`), shared by every tenant. A safety net for the
   * whole deployment, not what limits a tenant (`tenantRateLimit` does): at least
   * `tenantRateLimit`, and best well above the highest limit a tenant is given.
   * @default 2000
   */
  readonly apiRateLimit?: number;
  /**
   * Burst limit of each route of the HTTP API's default stage, but `POST /v1/events` (see
   * `ingestBurstLimit`). At least `tenantBurstLimit`.
   * @default 4000
   */
  readonly apiBurstLimit?: number;
  /**
   * Most concurrent dispatcher invocations the deliveries queue may drive: caps the load put on
   * DynamoDB and on receivers after an outage.
   * @default 50
   */
  readonly dispatcherMaxConcurrency?: number;
  /**
   * Write and read units a second each table takes at once, before on-demand scaling: a new
   * on-demand table starts at 4,000 writes and 12,000 reads a second. Raising it is billed once,
   * not by the hour. The attempts table takes one write a delivery attempt, the events table one
   * an event; `npm run capacity` prints what a load needs.
   * @default - none: DynamoDB's starting throughput
   * @example { attempts: { writeUnitsPerSecond: 40000 }, events: { writeUnitsPerSecond: 12000 } }
   */
  readonly warmThroughput?: Partial<Record<'tenants' | 'webhooks' | 'events' | 'attempts', { readonly readUnitsPerSecond?: number; readonly writeUnitsPerSecond?: number }>>;
  /**
   * How many DynamoDB tables the delivery log is split over, 1 to 16. Each attempt is one write
   * to the log and a table takes 40,000 write units a second by default (a Service Quotas
   * increase raises it), so past about 20,000 attempts a second the log needs more tables.
   * Shard s of a webhook's log lives in table s mod n, so n is fixed for the deployment's life:
   * changing it later takes the drain-then-deploy steps of docs/deploy.md. Each log table gets
   * `warmThroughput.attempts` and a throttle alarm of its own; a table costs nothing idle.
   * @default 1
   * @example 4
   */
  readonly logTables?: number;
  /**
   * Steady-state requests per second of `POST /v1/events` (publishing) over every tenant,
   * throttled apart from the other routes (`apiRateLimit`) so that publishing can be sized on
   * its own. Each request may carry a batch of up to 100 events. A safety net: each tenant has
   * its own limit (`tenantRateLimit`); half the account's default API Gateway quota (10,000
   * requests/s) and ten times the highest tenant limit.
   * @default 5000
   */
  readonly ingestRateLimit?: number;
  /**
   * Burst limit of `POST /v1/events` (the account's default API Gateway burst is 5,000).
   * @default 5000
   */
  readonly ingestBurstLimit?: number;
  /**
   * The platform team's event catalogue: path of a JSON file
   * `[{"type", "title", "description", "schema"?}, ...]`, relative to the project root (or
   * absolute). It is read and validated at synth time (a bad file, a bad entry or a schema that
   * does not compile fails the synth), then shipped inside the bundles of the functions that use
   * the catalogue (ingest, webhooks-api, fanout, dispatcher) as `/var/task/catalogue.json`, named
   * by `HOOKLINE_CATALOGUE_FILE`. Changing the file's content changes those functions' code and
   * their `HOOKLINE_CATALOGUE_SHA256`, so the next deploy updates them.
   * @default - the built-in catalogue (NetRecon's 14 event types plus `webhook.test`)
   */
  readonly catalogueFile?: string;
}

/** The settings with every default applied. */
export interface ResolvedSettings extends ResolvedAlarmSettings {
  readonly retryDelaysSeconds: readonly number[];
  readonly signatureHeader: string;
  readonly allowPrivateTargets: boolean;
  readonly requestTimeoutMs: number;
  readonly deploymentHost: string;
  readonly secretPrefix: string;
  readonly retentionDays: number;
  readonly senderEmail?: string;
  readonly createEmailIdentity: boolean;
  readonly publicUrl?: string;
  readonly alarmTopic?: ITopic;
  readonly alarmTopicArn?: string;
  readonly logRetention: RetentionDays;
  readonly tenantRateLimit: number;
  readonly tenantBurstLimit: number;
  readonly apiRateLimit: number;
  readonly apiBurstLimit: number;
  readonly dispatcherMaxConcurrency: number;
  readonly warmThroughput?: HooklineSettings['warmThroughput'];
  readonly logTables: number;
  readonly ingestRateLimit: number;
  readonly ingestBurstLimit: number;
  readonly catalogueFile?: string;
}

export function resolveSettings(props: HooklineSettings): ResolvedSettings {
  const alarms = resolveAlarmSettings(props);
  const s: ResolvedSettings = {
    ...alarms.settings,
    retryDelaysSeconds: props.retryDelaysSeconds ?? [...DEFAULT_RETRY_DELAYS],
    signatureHeader: props.signatureHeader ?? DEFAULT_SIGNATURE_HEADER,
    allowPrivateTargets: props.allowPrivateTargets ?? false,
    requestTimeoutMs: props.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    deploymentHost: props.deploymentHost ?? 'hookline',
    secretPrefix: props.secretPrefix ?? 'hookline/',
    retentionDays: props.retentionDays ?? 30,
    senderEmail: props.senderEmail || undefined,
    createEmailIdentity: props.createEmailIdentity ?? false,
    publicUrl: !props.publicUrl || Token.isUnresolved(props.publicUrl) ? props.publicUrl || undefined : props.publicUrl.replace(/\/+$/, ''),
    alarmTopic: props.alarmTopic,
    alarmTopicArn: props.alarmTopicArn || undefined,
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    tenantRateLimit: props.tenantRateLimit ?? DEFAULT_RATE_LIMIT_PER_SECOND,
    tenantBurstLimit: props.tenantBurstLimit ?? DEFAULT_RATE_LIMIT_BURST,
    apiRateLimit: props.apiRateLimit ?? 2000,
    apiBurstLimit: props.apiBurstLimit ?? 4000,
    dispatcherMaxConcurrency: props.dispatcherMaxConcurrency ?? 50,
    ...(props.warmThroughput ? { warmThroughput: props.warmThroughput } : {}),
    logTables: props.logTables ?? 1,
    ingestRateLimit: props.ingestRateLimit ?? 5000,
    ingestBurstLimit: props.ingestBurstLimit ?? 5000,
    catalogueFile: props.catalogueFile || undefined,
  };
  const fail = (msg: string): never => {
    throw new Error(`HooklineStack: ${msg}`);
  };
  if (s.retryDelaysSeconds.length === 0 || s.retryDelaysSeconds.some((d) => !Number.isFinite(d) || d < 0)) {
    fail('retryDelaysSeconds must be a non-empty list of non-negative seconds');
  }
  const headerProblem = signatureHeaderProblem(s.signatureHeader);
  if (headerProblem) fail(`signatureHeader "${s.signatureHeader}" ${headerProblem}`);
  if (!Number.isInteger(s.requestTimeoutMs) || s.requestTimeoutMs <= 0 || s.requestTimeoutMs > MAX_REQUEST_TIMEOUT_MS) {
    fail(`requestTimeoutMs must be an integer between 1 and ${MAX_REQUEST_TIMEOUT_MS}`);
  }
  if (!Number.isInteger(s.retentionDays) || s.retentionDays <= 0) fail('retentionDays must be a positive integer');
  const tooLong = ladderPastRetention(s.retryDelaysSeconds, s.retentionDays);
  if (tooLong) fail(`retryDelaysSeconds ${tooLong} (retentionDays: ${s.retentionDays})`);
  if (!/^[A-Za-z0-9/_+=.@-]*$/.test(s.secretPrefix)) fail(`secretPrefix "${s.secretPrefix}" has characters a secret name cannot have`);
  if (!Number.isInteger(s.dispatcherMaxConcurrency) || s.dispatcherMaxConcurrency < 2 || s.dispatcherMaxConcurrency > 1000) fail('dispatcherMaxConcurrency must be an integer from 2 to 1000');
  if (!Number.isInteger(s.logTables) || s.logTables < 1 || s.logTables > LOG_SHARDS) fail(`logTables must be an integer from 1 to ${LOG_SHARDS}`);
  for (const [name, rate, burst] of [
    ['api', s.apiRateLimit, s.apiBurstLimit],
    ['ingest', s.ingestRateLimit, s.ingestBurstLimit],
  ] as const) {
    if (!Number.isFinite(rate) || rate <= 0) fail(`${name}RateLimit must be a positive number`);
    if (!Number.isInteger(burst) || burst <= 0) fail(`${name}BurstLimit must be a positive integer`);
  }
  if (!Number.isInteger(s.tenantRateLimit) || s.tenantRateLimit < 1 || s.tenantRateLimit > MAX_REQUESTS_PER_SECOND) {
    fail(`tenantRateLimit must be an integer between 1 and ${MAX_REQUESTS_PER_SECOND}`);
  }
  if (!Number.isInteger(s.tenantBurstLimit) || s.tenantBurstLimit < s.tenantRateLimit || s.tenantBurstLimit > MAX_BURST) {
    fail(`tenantBurstLimit must be an integer between tenantRateLimit and ${MAX_BURST}`);
  }
  // The stage's throttles are shared by every tenant: below one tenant's limit, one tenant
  // would make every other one wait.
  for (const [name, rate, burst] of [
    ['api', s.apiRateLimit, s.apiBurstLimit],
    ['ingest', s.ingestRateLimit, s.ingestBurstLimit],
  ] as const) {
    if (rate < s.tenantRateLimit || burst < s.tenantBurstLimit) fail(`${name}RateLimit/${name}BurstLimit must be at least tenantRateLimit/tenantBurstLimit`);
  }
  if (s.senderEmail !== undefined && !EMAIL_SHAPE.test(s.senderEmail)) fail('senderEmail is not an email address');
  if (s.createEmailIdentity && s.senderEmail === undefined) fail('createEmailIdentity needs senderEmail (the address to verify)');
  for (const problem of alarms.problems) fail(problem);
  if (s.publicUrl !== undefined && !Token.isUnresolved(s.publicUrl) && !isBaseUrl(s.publicUrl)) fail(`publicUrl "${s.publicUrl}" is not an http(s) URL without query or fragment`);
  return s;
}

function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !url.username;
  } catch {
    return false;
  }
}

/** The most requests one attempt makes (see functionTimeouts); MAX_REQUEST_TIMEOUT_MS keeps four under Lambda's 15 minutes. */
const ATTEMPT_REQUESTS_AT_MOST = 4;

/** Lambda timeouts; the queues' visibility timeouts are derived from the consumers' ones. */
export function functionTimeouts(s: ResolvedSettings) {
  // One attempt may make up to four requests one after the other (an OAuth2 token, the POST,
  // and after a 401 a new token and the POST again), each up to the request timeout, besides a
  // few DynamoDB writes: four times the request timeout plus slack, never less than a minute.
  // An invocation that timed out would fail its whole batch, and every receiver would get it again.
  const dispatcher = Math.max(60, Math.ceil((ATTEMPT_REQUESTS_AT_MOST * s.requestTimeoutMs) / 1000) + 30);
  return {
    ingest: Duration.seconds(10),
    fanout: Duration.seconds(120),
    dispatcher: Duration.seconds(dispatcher),
    // Checks webhook URLs (DNS) and changes credentials under a lock that outlives it (CREDENTIALS_LOCK_MS);
    // API Gateway stops at 30 s.
    'webhooks-api': Duration.seconds(Math.min(29, Math.ceil(s.requestTimeoutMs / 1000) + 10)),
    // POST .../{id}/test sends to the receiver synchronously, as long as API Gateway waits (30 s).
    'webhook-test': Duration.seconds(29),
    'admin-api': Duration.seconds(10),
    openapi: Duration.seconds(5),
  } as const;
}
