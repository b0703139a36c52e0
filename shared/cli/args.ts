/**
 * Command lines are parsed with Node's own `util.parseArgs` (strict: an unknown option or a
 * missing value is a usage error), so the CLI has no dependency. Every command takes `--help`
 * and `--json`.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './errors.ts';

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

/** Thrown by `parseCommand` on `--help`: the dispatcher prints the usage and exits 0. */
export class HelpRequest {
  readonly usage: string;
  constructor(usage: string) {
    this.usage = usage;
  }
}

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  readonly usage: string;
  readonly options: O;
  /** How many positional arguments the command takes: [min, max]. */
  readonly positionals?: readonly [number, number];
}

/** Parses one command's arguments; `--help` throws a HelpRequest, a bad line a UsageError. */
export function parseCommand<O extends ParseArgsOptionsConfig>(argv: readonly string[], spec: CommandSpec<O>) {
  const config = { args: [...argv], options: { ...COMMON, ...spec.options } as typeof COMMON & O, allowPositionals: true, strict: true } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), spec.usage);
  }
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequest(spec.usage);
  const [min, max] = spec.positionals ?? [0, 0];
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError(`missing argument${min - count > 1 ? 's' : ''}`, spec.usage);
  if (count > max) throw new UsageError(`unexpected argument: ${parsed.positionals[max]}`, spec.usage);
  return parsed;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `90`, `90s`, `15m`, `2h`, `1h30m`, `7d`, `1w` -> seconds; undefined when it is not a duration. */
export function durationSeconds(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^(\d+[smhdw])+$/.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([smhdw])/g)) total += Number(amount) * UNIT_SECONDS[unit!]!;
  return total;
}

/** A duration option's value in seconds, or a usage error naming the option (past `maxSeconds` too). */
export function parseDuration(option: string, text: string, usage: string, maxSeconds = Number.MAX_SAFE_INTEGER): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined) throw new UsageError(`--${option} must be a duration such as 90s, 15m, 2h or 7d (got "${text}")`, usage);
  if (seconds > maxSeconds) throw new UsageError(`--${option} must be at most ${maxSeconds}s (got "${text}")`, usage);
  return seconds;
}

/** The furthest back `--since` may go: no time before the Unix epoch is a delivery's. */
const SINCE_MAX_SECONDS = 100 * 365 * 86_400;

/**
 * `--since`: an ISO 8601 time (`2026-03-15T10:30:00Z`, or a date meaning its midnight UTC) or a
 * duration back from now (`2h`). Answers the time as ISO 8601 in UTC.
 */
export function parseSince(text: string, now: Date, usage: string): string {
  const seconds = durationSeconds(text);
  if (seconds !== undefined && seconds <= SINCE_MAX_SECONDS) return new Date(now.getTime() - seconds * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return new Date(at).toISOString();
  }
  throw new UsageError(`--since must be an ISO 8601 time (2026-03-15T10:30:00Z) or a duration back from now (2h, 1d); got "${text}"`, usage);
}

/** Repeatable list options also accept comma-separated values: `--event a,b --event c`. */
export function listOption(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** A JSON-valued option (`--filter '{"data.severity": "high"}'`), or a usage error. */
export function jsonOption(option: string, text: string, usage: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${option} must be JSON: ${error instanceof Error ? error.message : String(error)}`, usage);
  }
}
