import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { FUNCTION_ENV } from './config.ts';

/**
 * Structured JSON logs (Powertools Logger) that never carry a credential: keys on the redaction
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

class RedactingLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      ...(attributes.lambdaContext ? { request_id: attributes.lambdaContext.awsRequestId } : {}),
      ...(attributes.xRayTraceId ? { xray_trace_id: attributes.xRayTraceId } : {}),
    };
    return new LogItem({ attributes: redact({ ...base, ...additional }) as LogAttributes });
  }

  override formatError(error: Error): LogAttributes {
    return redact(super.formatError(error)) as LogAttributes;
  }
}

export function createLogger(functionName: string): Logger {
  // The stack names each function's service (hookline-<function>).
  return new Logger({ serviceName: process.env[FUNCTION_ENV.serviceName] || 'hookline', persistentKeys: { function: functionName }, logFormatter: new RedactingLogFormatter() });
}
