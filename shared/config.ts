/**
 * Runtime settings, read once from the environment. The names are part of the public contract
 * (CONTRACT.md section 1); on AWS the CDK stack sets them from its props, on one machine the
 * runtime passes the user's environment through.
 */
import { isIP } from 'node:net';
import { LOG_SHARDS } from './adapters/aws/tables.ts';
import { PORTAL_TOKEN_PREFIX } from './domain/ids.ts';
import { OWNER_EMAIL_ADDRESS } from './domain/owner-email.ts';
import { MAX_BURST, MAX_REQUESTS_PER_SECOND } from './domain/rate-limits.ts';
import { signatureHeaderProblem } from './domain/webhooks.ts';

export interface Settings {
  /** Seconds before attempts 1..N; its length is the number of attempts. */
  readonly retryDelaysSeconds: readonly number[];
  /** Name of the hex HMAC header, e.g. `X-Hookline-Signature` or a branded `X-NetRecon-Signature`. */
  readonly signatureHeader: string;
  /** Whether webhook URLs may point at loopback/private/link-local/metadata addresses. */
  readonly allowPrivateTargets: boolean;
  /** Ports webhook URLs may use when private targets are not allowed. */
  readonly allowedPorts: readonly number[];
  /** Webhooks one tenant may have. */
  readonly maxWebhooksPerTenant: number;
  /**
   * Attempts in flight at once per webhook: in the one-machine process, and on AWS over every
   * dispatcher container (a DynamoDB lease, usecases/webhook-slots.ts).
   */
  readonly maxConcurrentPerWebhook: number;
  /**
   * Attempts in flight at once per tenant (per dispatcher container), so that one tenant's slow
   * endpoints leave workers free for the other tenants.
   */
  readonly maxConcurrentPerTenant: number;
  /**
   * Each tenant's request limit over the tenant routes, per second and at once, unless the
   * admin API set the tenant's own (usecases/rate-limits.ts). On one machine also the limit of
   * the admin and public routes.
   */
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Per-attempt HTTP timeout. */
  readonly requestTimeoutMs: number;
  /**
   * The timeout of a scheduled attempt to a webhook whose status is `failing` (at most
   * `requestTimeoutMs`): an endpoint that is down cannot hold a dispatcher batch for long. A
   * manual retry or recover gets `requestTimeoutMs`, so a slow endpoint can still prove itself.
   */
  readonly failingRequestTimeoutMs: number;
  /** Host name put in payloads that name the sender (the `wrapped` format) and in emails. */
  readonly deploymentHost: string;
  readonly tables: {
    readonly tenants: string;
    readonly webhooks: string;
    readonly events: string;
    /**
     * The delivery log's tables (HOOKLINE_ATTEMPTS_TABLE, names separated by commas): shard s of
     * a webhook's log lives in table s mod n (see logTableOf), so n tables share the log's writes.
     */
    readonly attempts: readonly string[];
  };
  readonly queues: {
    readonly events: string;
    readonly deliveries: string;
  };
  /** Every secret lives under this name prefix (a tenant's webhook credentials are `<prefix>tenants/<tenant>`); the dispatcher may read only those. */
  readonly secretPrefix: string;
  /** How long event, delivery and attempt records are kept (DynamoDB TTL). */
  readonly retentionDays: number;
  /** Version reported in `User-Agent: Hookline/<version>`. */
  readonly version: string;
  /**
   * Host names of Hookline's own API (the public URL's and API Gateway's): webhooks may not point
   * at them, since a webhook that publishes back into Hookline is an amplification loop.
   */
  readonly ownHosts: readonly string[];
}

export const DEFAULT_RETRY_DELAYS = [0, 30, 120, 600, 3600] as const;
export const DEFAULT_SIGNATURE_HEADER = 'X-Hookline-Signature';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_FAILING_REQUEST_TIMEOUT_MS = 3_000;
/**
 * The longest attempt timeout (two minutes): the dispatcher's Lambda timeout is four times it
 * (an OAuth2 attempt's requests, see infra/stack/settings.ts) and Lambda stops at 15 minutes;
 * and a timer past 2^31 - 1 ms would fire at once.
 */
export const MAX_REQUEST_TIMEOUT_MS = 120_000;
export const DEFAULT_RATE_LIMIT_PER_SECOND = 100;
export const DEFAULT_RATE_LIMIT_BURST = 200;
export const HOOKLINE_VERSION = '0.1.0';

/** Environment variable names shared by the CDK stack, the local runtime and `settingsFromEnv`. */
export const ENV = {
  retryDelays: 'HOOKLINE_RETRY_DELAYS',
  signatureHeader: 'HOOKLINE_SIGNATURE_HEADER',
  allowPrivateTargets: 'HOOKLINE_ALLOW_PRIVATE_TARGETS',
  allowedPorts: 'HOOKLINE_ALLOWED_PORTS',
  maxWebhooksPerTenant: 'HOOKLINE_MAX_WEBHOOKS_PER_TENANT',
  maxConcurrentPerWebhook: 'HOOKLINE_MAX_CONCURRENT_PER_WEBHOOK',
  maxConcurrentPerTenant: 'HOOKLINE_MAX_CONCURRENT_PER_TENANT',
  rateLimitPerSecond: 'HOOKLINE_RATE_LIMIT_PER_SECOND',
  rateLimitBurst: 'HOOKLINE_RATE_LIMIT_BURST',
  requestTimeoutMs: 'HOOKLINE_REQUEST_TIMEOUT_MS',
  failingRequestTimeoutMs: 'HOOKLINE_FAILING_REQUEST_TIMEOUT_MS',
  deploymentHost: 'HOOKLINE_DEPLOYMENT_HOST',
  tenantsTable: 'HOOKLINE_TENANTS_TABLE',
  webhooksTable: 'HOOKLINE_WEBHOOKS_TABLE',
  eventsTable: 'HOOKLINE_EVENTS_TABLE',
  attemptsTable: 'HOOKLINE_ATTEMPTS_TABLE',
  eventsQueueUrl: 'HOOKLINE_EVENTS_QUEUE_URL',
  deliveriesQueueUrl: 'HOOKLINE_DELIVERIES_QUEUE_URL',
  secretPrefix: 'HOOKLINE_SECRET_PREFIX',
  retentionDays: 'HOOKLINE_RETENTION_DAYS',
  publicUrl: 'HOOKLINE_PUBLIC_URL',
  apiHost: 'HOOKLINE_API_HOST',
} as const;

/**
 * Environment variables the stack sets on some functions only (infra/stack/hookline-stack.ts),
 * read by their composition roots.
 */
export const FUNCTION_ENV = {
  /** admin-api: name of the Secrets Manager secret holding the admin API key. */
  adminKeySecret: 'HOOKLINE_ADMIN_KEY_SECRET',
  /** dispatcher, webhooks-api: verified SES identity emails are sent from (none: no email, a warning instead). */
  senderEmail: 'HOOKLINE_SENDER_EMAIL',
  /** dispatcher: the schedule group retry schedules are created in (none: long rungs hop through SQS). */
  scheduleGroup: 'HOOKLINE_SCHEDULE_GROUP',
  /** dispatcher: ARN of the role EventBridge Scheduler assumes to run the retry schedules. */
  schedulerRoleArn: 'HOOKLINE_SCHEDULER_ROLE_ARN',
  /** dispatcher: ARN of the retry schedules' target, the deliveries queue. */
  schedulerTargetArn: 'HOOKLINE_SCHEDULER_TARGET_ARN',
  /** dispatcher: ARN of the retry schedules' dead-letter queue. */
  schedulerDlqArn: 'HOOKLINE_SCHEDULER_DLQ_ARN',
  /** The platform team's event catalogue (a JSON file); unset: the built-in one. */
  catalogueFile: 'HOOKLINE_CATALOGUE_FILE',
  /** Powertools' own name: the `service` of each log line (the stack sets hookline-<function>). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Settings of the one-machine runtime only (`npm start`, CONTRACT.md section 1). */
export const LOCAL_ENV = {
  port: 'PORT',
  host: 'HOST',
  dataDir: 'HOOKLINE_DATA_DIR',
  apiKey: 'HOOKLINE_API_KEY',
  adminKey: 'HOOKLINE_ADMIN_KEY',
  ownerEmail: 'HOOKLINE_OWNER_EMAIL',
} as const;

/** The `hookline` CLI's settings (read by the CLI only, not by the service). */
export const CLI_ENV = {
  /** Where `hookline login` keeps the base URL and key (default: `$XDG_CONFIG_HOME/hookline/config.json`). */
  configFile: 'HOOKLINE_CONFIG',
  xdgConfigHome: 'XDG_CONFIG_HOME',
} as const;

export interface LocalSettings {
  readonly port: number;
  readonly host: string;
  /** All local state: the database, secrets, outbox, credentials.json. */
  readonly dataDir: string;
  /** The bootstrap tenant's key and the admin key; generated and kept in the data dir when unset. */
  readonly apiKey: string | undefined;
  readonly adminKey: string | undefined;
  readonly ownerEmail: string;
}

export function localSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const rawPort = env[LOCAL_ENV.port] || '3000';
  const port = DECIMAL.test(rawPort) ? Number(rawPort) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new SettingsError(`${LOCAL_ENV.port} must be a port number, got "${env[LOCAL_ENV.port]}"`);
  const ownerEmail = env[LOCAL_ENV.ownerEmail] || 'owner@localhost';
  // The admin API's rule for an owner address (an address of the machine, owner@localhost, included).
  // The API's own rule: the bootstrap tenant's address is handed out as webhooks' owner_email.
  if (!OWNER_EMAIL_ADDRESS.test(ownerEmail) || ownerEmail.length > 254) throw new SettingsError(`${LOCAL_ENV.ownerEmail} must be an email address, got "${ownerEmail}"`);
  const apiKey = bearerKey(LOCAL_ENV.apiKey, env[LOCAL_ENV.apiKey]);
  const adminKey = bearerKey(LOCAL_ENV.adminKey, env[LOCAL_ENV.adminKey]);
  if (apiKey !== undefined && apiKey === adminKey) throw new SettingsError(`${LOCAL_ENV.adminKey} must differ from ${LOCAL_ENV.apiKey}`);
  return {
    port,
    host: env[LOCAL_ENV.host] || '127.0.0.1',
    dataDir: env[LOCAL_ENV.dataDir] || './.hookline',
    apiKey,
    adminKey,
    ownerEmail,
  };
}

/** The shape of an email address the settings and the stack's props take (SES and the admin API check further). */
export const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+$/;

/** The shortest key a setting may give: a generated one is 46 characters or more. */
export const MIN_CHOSEN_KEY_CHARS = 20;

/**
 * A key given in the environment, as a client sends it after `Bearer `: visible ASCII only, so
 * that a key with a space or a line break (a paste gone wrong) is refused at start rather than
 * refused at every request; long enough not to be guessed (the wrong-key limit slows guessing,
 * it cannot stop it); and not shaped as a portal session token (`pst_`), which is read as one.
 */
function bearerKey(name: string, raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new SettingsError(`${name} must be printable ASCII without spaces`);
  if (raw.length < MIN_CHOSEN_KEY_CHARS) throw new SettingsError(`${name} must be at least ${MIN_CHOSEN_KEY_CHARS} characters (unset, one is generated)`);
  // The authenticators read such a key as a portal token.
  if (raw.startsWith(PORTAL_TOKEN_PREFIX)) throw new SettingsError(`${name} must not start with ${PORTAL_TOKEN_PREFIX}, which marks a portal session token`);
  return raw;
}

/** The admin key's secret: `HOOKLINE_ADMIN_KEY_SECRET`, or `<secretPrefix>admin-api-key`. */
export const adminKeySecretName = (env: NodeJS.ProcessEnv, settings: Pick<Settings, 'secretPrefix'>): string =>
  env[FUNCTION_ENV.adminKeySecret] || `${settings.secretPrefix}admin-api-key`;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/**
 * A comma-separated list of numbers; an empty entry (a doubled comma) is NaN, not the 0 that
 * Number('') gives: for a ladder that would be an immediate retry nobody asked for.
 */
function commaNumbers(raw: string): number[] {
  return raw.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
}

export function parseRetryDelays(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_RETRY_DELAYS];
  const delays = commaNumbers(raw);
  if (delays.some((d) => !Number.isFinite(d) || d < 0)) {
    throw new SettingsError(`${ENV.retryDelays} must be comma-separated non-negative seconds, got "${raw}"`);
  }
  return delays;
}

function parsePorts(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [443, 80, 8443];
  const ports = commaNumbers(raw);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new SettingsError(`${ENV.allowedPorts} must be comma-separated ports, got "${raw}"`);
  }
  return ports;
}

function parseBool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new SettingsError(`${name} must be true or false, got "${raw}"`);
}

/** A whole number written in decimal digits (Number() would also take ' ', '0x1f' and '4.7e4'). */
const DECIMAL = /^\d+$/;

function positiveInt(name: string, raw: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  if (raw === undefined || raw === '') return fallback;
  const value = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    throw new SettingsError(max === Number.MAX_SAFE_INTEGER ? `${name} must be a positive integer, got "${raw}"` : `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A comma-separated list of 1..LOG_SHARDS distinct table names. */
function tableList(name: string, raw: string): string[] {
  const names = raw.split(',').map((n) => n.trim());
  if (names.some((n) => n === '') || new Set(names).size !== names.length || names.length > LOG_SHARDS) {
    throw new SettingsError(`${name} must be 1 to ${LOG_SHARDS} distinct table names separated by commas, got "${raw}"`);
  }
  return names;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new SettingsError(`${name} is not set`);
  return value;
}

/**
 * Why a retry ladder cannot go with a retention, or undefined when it can: a delivery's record
 * (one machine) and its log entries expire after the retention, so a ladder as long would lose
 * its delivery half way up, with no failure and no email. For the settings and the stack's props.
 */
export function ladderPastRetention(retryDelaysSeconds: readonly number[], retentionDays: number): string | undefined {
  const ladderSeconds = retryDelaysSeconds.reduce((sum, d) => sum + d, 0);
  if (ladderSeconds < retentionDays * 86_400) return undefined;
  return `adds up to ${ladderSeconds} s, not shorter than the retention: deliveries would expire on their ladder`;
}

/** Reads the settings; `allowPrivateTargetsDefault` is true on one machine and false on AWS. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env, allowPrivateTargetsDefault = false): Settings {
  const signatureHeader = env[ENV.signatureHeader] || DEFAULT_SIGNATURE_HEADER;
  const headerProblem = signatureHeaderProblem(signatureHeader);
  if (headerProblem) throw new SettingsError(`${ENV.signatureHeader} ${headerProblem}, got "${signatureHeader}"`);
  const rateLimitPerSecond = positiveInt(ENV.rateLimitPerSecond, env[ENV.rateLimitPerSecond], DEFAULT_RATE_LIMIT_PER_SECOND, MAX_REQUESTS_PER_SECOND);
  // The admin API's bounds for a tenant's own limit (domain/rate-limits.ts): a burst below the rate is refused there too.
  const rateLimitBurst = positiveInt(ENV.rateLimitBurst, env[ENV.rateLimitBurst], Math.max(DEFAULT_RATE_LIMIT_BURST, rateLimitPerSecond), MAX_BURST, rateLimitPerSecond);
  const retryDelaysSeconds = parseRetryDelays(env[ENV.retryDelays]);
  const retentionDays = positiveInt(ENV.retentionDays, env[ENV.retentionDays], 30);
  const tooLong = ladderPastRetention(retryDelaysSeconds, retentionDays);
  if (tooLong) throw new SettingsError(`${ENV.retryDelays} ${tooLong} (${ENV.retentionDays}: ${retentionDays} days)`);
  return {
    retryDelaysSeconds,
    signatureHeader,
    allowPrivateTargets: parseBool(ENV.allowPrivateTargets, env[ENV.allowPrivateTargets], allowPrivateTargetsDefault),
    allowedPorts: parsePorts(env[ENV.allowedPorts]),
    maxWebhooksPerTenant: positiveInt(ENV.maxWebhooksPerTenant, env[ENV.maxWebhooksPerTenant], 100),
    maxConcurrentPerWebhook: positiveInt(ENV.maxConcurrentPerWebhook, env[ENV.maxConcurrentPerWebhook], 20),
    maxConcurrentPerTenant: positiveInt(ENV.maxConcurrentPerTenant, env[ENV.maxConcurrentPerTenant], 50),
    rateLimitPerSecond,
    rateLimitBurst,
    requestTimeoutMs: positiveInt(ENV.requestTimeoutMs, env[ENV.requestTimeoutMs], DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS),
    failingRequestTimeoutMs: positiveInt(ENV.failingRequestTimeoutMs, env[ENV.failingRequestTimeoutMs], DEFAULT_FAILING_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS),
    deploymentHost: env[ENV.deploymentHost] || 'hookline',
    tables: {
      tenants: required(env, ENV.tenantsTable),
      webhooks: required(env, ENV.webhooksTable),
      events: required(env, ENV.eventsTable),
      attempts: tableList(ENV.attemptsTable, required(env, ENV.attemptsTable)),
    },
    queues: {
      events: required(env, ENV.eventsQueueUrl),
      deliveries: required(env, ENV.deliveriesQueueUrl),
    },
    secretPrefix: env[ENV.secretPrefix] || 'hookline/',
    retentionDays,
    version: HOOKLINE_VERSION,
    // Names only: an address (the one-machine runtime's public URL is http://127.0.0.1:<port>) is
    // shared with receivers on other ports; the runtime's own ports are refused by port instead.
    ownHosts: [hostOf(ENV.publicUrl, env[ENV.publicUrl]), env[ENV.apiHost]?.toLowerCase()].filter(
      (h): h is string => !!h && isIP(h.replace(/^\[|\]$/g, '')) === 0 && h !== 'localhost',
    ),
  };
}

function hostOf(name: string, url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    throw new SettingsError(`${name} must be an absolute URL, got "${url}"`);
  }
}
