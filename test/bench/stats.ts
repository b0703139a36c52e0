/** Small numeric and printing helpers for the benchmark. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/**
 * The median of `a[i] / b[i]`: how much larger `a` is than `b` when each pair was measured back
 * to back. The machine's speed drifts between pairs (by a third within a minute here), which a
 * ratio of the two medians takes in whenever the medians come from different moments; a pair's
 * own ratio does not.
 */
export function medianPairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`paired ratios need as many values on each side (${a.length} and ${b.length})`);
  return median(a.map((x, i) => x / b[i]!));
}

/** An integer setting of the bench: at least `min` (1 unless said). */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got "${raw}"`);
  return n;
}

const LABEL_WIDTH = 26;
const VALUE_WIDTH = 10;

/** `ingest accepted             1234 events/s`: label left, number right-aligned, unit after. */
export function line(label: string, value: number | string, unit = '', digits = 0): string {
  const v = typeof value === 'number' ? (Number.isFinite(value) ? value.toFixed(digits) : 'n/a') : value;
  return `${label.padEnd(LABEL_WIDTH)}${v.padStart(VALUE_WIDTH)}${unit ? ' ' + unit : ''}`;
}

/** The line of a paced run's warm-up: its latencies, which the run's own p50/p99/max leave out. */
export function warmupLine(seconds: number, l: { readonly p50: number; readonly p99: number; readonly max: number }): string {
  return line(`warm-up (first ${seconds} s)`, `${l.p50.toFixed(0)}/${l.p99.toFixed(0)}/${l.max.toFixed(0)}`, 'ms p50/p99/max (not counted above)');
}

export function heading(title: string): string {
  return `\n${title}\n${'-'.repeat(title.length)}`;
}

/** Waits `ms` (none when it is past already: a paced publisher late for its slot sends at once). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

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

/** The runtime's threads by the names Linux gives them: Node's main thread, its worker threads (the sender), V8's helpers. */
export type ThreadGroup = 'main' | 'workers' | 'v8' | 'other';
const GROUP_OF: Record<string, ThreadGroup> = { MainThread: 'main', WorkerThread: 'workers' };

/** utime + stime of a /proc stat line, in ms (clock ticks of 1/100 s, USER_HZ on every Linux). */
function statCpuMs(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU time a process has used so far, in ms (Linux /proc): in all (`all`, /proc/<pid>/stat, which
 * keeps the time of threads that ended) and by thread group, from each thread's stat and name
 * (`MainThread`, `WorkerThread`, `V8Worker`, ...); `other` is the rest (libuv's pool, threads
 * that ended). NaN in all once the process is gone.
 */
export async function threadCpuMs(pid: number): Promise<Record<ThreadGroup | 'all', number>> {
  const { readFile, readdir } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const all = stat ? statCpuMs(stat) : NaN;
  const groups: Record<ThreadGroup, number> = { main: 0, workers: 0, v8: 0, other: 0 };
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const [name, taskStat] = await Promise.all([readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8'), readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')]).catch(() => ['', '']);
    if (!taskStat) continue;
    const group = GROUP_OF[name.trim()] ?? (name.startsWith('V8') ? 'v8' : 'other');
    groups[group] += statCpuMs(taskStat);
  }
  groups.other += all - (groups.main + groups.workers + groups.v8 + groups.other);
  return { all, ...groups };
}

/** This process's CPU time so far (user + system, all threads), in ms. */
export const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
