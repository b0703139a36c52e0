/** Small numeric and printing helpers for the benchmark. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

const LABEL_WIDTH = 26;
const VALUE_WIDTH = 10;

/** `ingest accepted             1234 events/s`: label left, number right-aligned, unit after. */
export function line(label: string, value: number | string, unit = '', digits = 0): string {
  const v = typeof value === 'number' ? (Number.isFinite(value) ? value.toFixed(digits) : 'n/a') : value;
  return `${label.padEnd(LABEL_WIDTH)}${v.padStart(VALUE_WIDTH)}${unit ? ' ' + unit : ''}`;
}

export function heading(title: string): string {
  return `\n${title}\n${'-'.repeat(title.length)}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Log lines of the runtime that look like trouble (powertools JSON levels, or plain text). */
export function troubleLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /"level":"(ERROR|WARN|CRITICAL)"|\berror\b|\bwarn(ing)?\b|exception/i.test(l))
    .filter((l) => !/Warning: webhook URLs may point at loopback/.test(l));
}

/** A process's resident set size in MB (Linux /proc), or NaN once it is gone. */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}

/** Samples a process's RSS every `everyMs` until stopped; `peak()` is the highest seen. */
export function rssSampler(pid: number, everyMs = 200) {
  let peak = 0;
  const sample = () => void rssMb(pid).then((mb) => (peak = Number.isFinite(mb) ? Math.max(peak, mb) : peak));
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    peak: () => peak,
    stop: () => clearInterval(timer),
  };
}

/**
 * CPU time a process has used so far, all its threads, in ms (Linux /proc/<pid>/stat: utime +
 * stime, in clock ticks of 1/100 s, USER_HZ on every Linux), or NaN once it is gone.
 */
export async function processCpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return stat ? ticks * 10 : NaN;
}

/** This process's CPU time so far (user + system, all threads), in ms. */
export const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
