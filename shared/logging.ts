import { FUNCTION_ENV } from './config.ts';

/**
 * Structured JSON logs that never carry a credential: keys on the redaction
 * list lose their values, and strings are scrubbed of the shapes secrets take here (signing
 * secrets, API keys, bearer/basic credentials, URL query values and user info).
 */
const REDACTED_KEYS = /authorization|secret|token|password|passwd|api[_-]?key|credential|signature|cookie/i;

const PATTERNS: [RegExp, string][] = [
  [/whsec_[A-Za-z0-9+/=]+/g, 'whsec_[REDACTED]'],
  [/\bhk(adm)?_[A-Za-z0-9_-]{16,}/g, 'hk_[REDACTED]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/(https?:\/\/)[^/\s:@"']+:[^/\s@"']+@/gi, '$1[REDACTED]@'],
  [/([?&][^=&\s"'#]+=)[^&\s"'#]+/g, '$1****'],
];

export function redactText(text: string): string {
  return PATTERNS.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const { name, message, stack, cause } = value;
    return redact({ name, message, stack, ...(cause === undefined ? {} : { cause }) }, depth + 1);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = REDACTED_KEYS.test(key) ? '[REDACTED]' : redact(v, depth + 1);
  return out;
}

/** Where a log entry's extras come from: an error, a plain string, or fields merged into the entry. */
export type LogExtra = Error | string | Record<string, unknown>;

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, CRITICAL: 50, SILENT: 60 } as const;
type LevelName = keyof typeof LEVELS;

/** The threshold: POWERTOOLS_LOG_LEVEL, else Lambda's own AWS_LAMBDA_LOG_LEVEL, else INFO. */
function threshold(env: NodeJS.ProcessEnv): number {
  const name = (env['POWERTOOLS_LOG_LEVEL'] || env['AWS_LAMBDA_LOG_LEVEL'] || 'INFO').toUpperCase();
  return name in LEVELS ? LEVELS[name as LevelName] : LEVELS.INFO;
}

/** The X-Ray trace id Lambda sets per invocation (`Root=...;Parent=...`), as its Root. */
const traceId = (env: NodeJS.ProcessEnv): string | undefined => /Root=([^;]+)/.exec(env['_X_AMZN_TRACE_ID'] ?? '')?.[1];

/**
 * One JSON object a line on stdout, in the shape Powertools Logger writes (level, message,
 * timestamp, service, xray_trace_id, then the entry's own fields; an error under `error`).
 * Hand-written rather than Powertools Logger: the same shape in about 1 KB instead of 20 KB in
 * every bundle, which keeps each within its size budget beside Powertools Metrics.
 */
export class JsonLogger {
  private readonly service: string;
  private readonly persistent: Readonly<Record<string, unknown>>;
  private readonly minimum: number;
  private readonly write: (line: string) => void;

  constructor(options: { service: string; persistentKeys?: Record<string, unknown>; env?: NodeJS.ProcessEnv; write?: (line: string) => void }) {
    this.service = options.service;
    this.persistent = options.persistentKeys ?? {};
    this.minimum = threshold(options.env ?? process.env);
    this.write = options.write ?? ((line) => void process.stdout.write(line));
  }

  debug(message: string, ...extras: LogExtra[]): void {
    this.log('DEBUG', message, extras);
  }
  info(message: string, ...extras: LogExtra[]): void {
    this.log('INFO', message, extras);
  }
  warn(message: string, ...extras: LogExtra[]): void {
    this.log('WARN', message, extras);
  }
  error(message: string, ...extras: LogExtra[]): void {
    this.log('ERROR', message, extras);
  }

  private log(level: LevelName, message: string, extras: readonly LogExtra[]): void {
    if (LEVELS[level] < this.minimum) return;
    const trace = traceId(process.env);
    const entry: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      ...(trace ? { xray_trace_id: trace } : {}),
      ...this.persistent,
    };
    for (const extra of extras) {
      if (extra instanceof Error) entry['error'] = extra;
      else if (typeof extra === 'string') entry['extra'] = extra;
      else Object.assign(entry, extra);
    }
    this.write(JSON.stringify(redact(entry)) + '\n');
  }
}

export type Logger = JsonLogger;

export function createLogger(functionName: string): Logger {
  // The stack names each function's service (hookline-<function>).
  return new JsonLogger({ service: process.env[FUNCTION_ENV.serviceName] || 'hookline', persistentKeys: { function: functionName } });
}
