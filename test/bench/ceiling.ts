import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ownCpuMs } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The ceiling loop's requests in flight: more than the runtime may have at once for the bench's
 * one tenant (HOOKLINE_MAX_CONCURRENT_PER_TENANT, 50 by default), so that concurrency never holds
 * the ceiling back.
 */
export const CEILING_IN_FLIGHT = 80;

/** One ceiling run: the loop's (ceiling-worker.ts) figures, and this process's CPU meanwhile (the receivers'). */
export interface CeilingRun {
  readonly ms: number;
  readonly ok: number;
  readonly failed: number;
  /** The loop's own CPU. */
  readonly cpuMs: number;
  /** This process's CPU over the run: the receivers', which do nothing else then. */
  readonly receiverCpuMs: number;
}

/** The ceiling's figures over its runs. */
export interface Ceiling {
  /** Mean of the runs' rates. */
  readonly requestsPerSecond: number;
  readonly runsRequestsPerSecond: readonly number[];
  readonly failed: number;
  readonly receiverUsPerRequest: number;
  readonly clientUsPerRequest: number;
}

/** A plain undici POST loop to `urls`, in a process of its own (the runtime's dispatcher is one too). */
export async function runCeiling(root: string, urls: readonly string[], requests: number, bodyBytes: number): Promise<CeilingRun> {
  const arg = JSON.stringify({ urls, requests, inFlight: CEILING_IN_FLIGHT, bodyBytes });
  const before = ownCpuMs();
  const { stdout } = await promisify(execFile)(process.execPath, [join(here, 'ceiling-worker.ts'), arg], { cwd: root, timeout: 300_000 });
  const run = JSON.parse(stdout) as Omit<CeilingRun, 'receiverCpuMs'>;
  return { ...run, receiverCpuMs: ownCpuMs() - before };
}

/**
 * The runs together. The bench runs the ceiling right before and right after the pipeline: the
 * machine's speed drifts (by a third within a minute here), and a ceiling measured next to the
 * pipeline on both sides drifts least from it.
 */
export function ceilingOf(runs: readonly CeilingRun[]): Ceiling {
  const rates = runs.map((r) => (r.ok / r.ms) * 1000);
  const requests = Math.max(1, runs.reduce((n, r) => n + r.ok + r.failed, 0));
  return {
    requestsPerSecond: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length),
    runsRequestsPerSecond: rates,
    failed: runs.reduce((n, r) => n + r.failed, 0),
    receiverUsPerRequest: (runs.reduce((n, r) => n + r.receiverCpuMs, 0) * 1000) / requests,
    clientUsPerRequest: (runs.reduce((n, r) => n + r.cpuMs, 0) * 1000) / requests,
  };
}
