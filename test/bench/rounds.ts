import { availableParallelism } from 'node:os';
import { ceilingOf, type Ceiling, type CeilingRun } from './ceiling.ts';
import { registerWebhooks, runPipeline, type PipelineResult } from './pipeline.ts';
import { resetReceiver, type Receiver } from './receivers.ts';
import { startRuntime, type Runtime } from './runtime.ts';
import { rssSampler, threadCpuMs, type ThreadGroup } from './stats.ts';

/**
 * Where the CPU goes, per delivery, and the rate the machine's CPUs allow at that cost: the
 * runtime's CPU (all its threads; ingest and fan-out included) and the receivers' per request
 * (this process, during the ceiling run, when it does nothing else) must both fit in the CPUs.
 * On a machine with few CPUs this bound, not the wire, limits end to end.
 */
export interface CpuBudget {
  readonly cpus: number;
  readonly runtimeUsPerDelivery: number;
  /** The same by thread group (test/bench/stats.ts, threadCpuMs). */
  readonly runtimeUsPerDeliveryByThread: Record<ThreadGroup, number>;
  readonly receiverUsPerRequest: number;
  readonly ceilingClientUsPerRequest: number;
  /** cpus / (runtime + receiver CPU per delivery), in deliveries/s. */
  readonly boundDeliveriesPerSecond: number;
}

/** One round: the pipeline on a runtime of its own, against the ceiling runs either side of it. */
export interface Round {
  readonly pipeline: PipelineResult;
  readonly ceiling: Ceiling;
  readonly deliveriesPerSecond: number;
  readonly ingestEventsPerSecond: number;
  /** End to end against the ceiling: the target's measure. */
  readonly shareOfCeiling: number;
  readonly cpu: CpuBudget;
}

export interface RoundsOptions {
  readonly root: string;
  readonly rounds: number;
  readonly receivers: readonly Receiver[];
  readonly events: number;
  readonly publishers: number;
  readonly timeoutMs: number;
  readonly progress: (message: string) => void;
  /** A ceiling run of the bench's size (test/bench/ceiling.ts, runCeiling). */
  readonly ceilingRun: () => Promise<CeilingRun>;
  /** What a round's runtime gets before its webhooks (the bench raises the tenant's request limit). */
  readonly prepare: (runtime: Runtime) => Promise<void>;
}

export interface RoundsResult {
  readonly rounds: readonly Round[];
  /** The round with the median share of the ceiling (the lower of the two middle ones for an even count). */
  readonly median: Round;
  /** The last round's runtime, still running (the steady run follows on it). */
  readonly runtime: Runtime;
  /** What the runtimes already stopped wrote, and how they stopped. */
  readonly stoppedLogs: string;
  readonly stopped: readonly { readonly code: number | null; readonly signal: NodeJS.Signals | null }[];
  /** The peak RSS of the rounds' runtimes so far, and a sampler of the last one's (stopped by the caller). */
  readonly rss: { readonly peakSoFar: number; readonly sampler: ReturnType<typeof rssSampler> };
}

/**
 * The pipeline `rounds` times, each on a fresh runtime (a fresh data directory; the first burst's
 * compiling is part of what a delivery costs, so a runtime is never reused for a second round),
 * with a ceiling run before the first round and after each: a round is measured against the mean
 * of the ceiling runs either side of it, as the bench of one round was. The machine's speed
 * drifts (by a third within a minute here), and one 4-second round against its ceiling moved the
 * ratio by about 0.05 from run to run (0.484 to 0.576 in ten runs of one round on 2026-12-02):
 * the median round is the measure, and every round's figures are printed beside it.
 */
export async function runRounds(options: RoundsOptions): Promise<RoundsResult> {
  const { receivers, progress } = options;
  const rounds: Round[] = [];
  const stopped: { code: number | null; signal: NodeJS.Signals | null }[] = [];
  let stoppedLogs = '';
  let peakSoFar = 0;
  // Each runtime is started and given its webhooks before the ceiling run that precedes its
  // round, so that every round's runtime has been idle as long when its pipeline begins.
  let runtime = await startRound(options, 1);
  let sampler = rssSampler(runtime.pid);
  try {
    let before = await options.ceilingRun();
    for (let i = 1; ; i++) {
      progress(`round ${i} of ${options.rounds}: runtime at ${runtime.baseUrl}; publishing ${options.events} events`);
      const cpuBefore = await threadCpuMs(runtime.pid);
      const pipeline = await runPipeline({ baseUrl: runtime.baseUrl, apiKey: runtime.apiKey, receivers, events: options.events, publishers: options.publishers, timeoutMs: options.timeoutMs, progress });
      const cpuAfter = await threadCpuMs(runtime.pid);
      receivers.forEach(resetReceiver);
      const last = i === options.rounds;
      if (!last) {
        sampler.stop();
        peakSoFar = Math.max(peakSoFar, sampler.peak());
        stoppedLogs += runtime.stdout() + '\n' + runtime.stderr() + '\n';
        const { code, signal } = await runtime.stop();
        stopped.push({ code, signal });
        runtime = await startRound(options, i + 1);
        sampler = rssSampler(runtime.pid);
      }
      const after = await options.ceilingRun();
      const ceiling = ceilingOf([before, after]);
      before = after;
      const deliveriesPerSecond = (pipeline.delivered / pipeline.endToEndMs) * 1000;
      const perDelivery = (group: ThreadGroup | 'all') => ((cpuAfter[group] - cpuBefore[group]) * 1000) / Math.max(1, pipeline.delivered);
      rounds.push({
        pipeline,
        ceiling,
        deliveriesPerSecond,
        ingestEventsPerSecond: (pipeline.accepted / pipeline.ingestMs) * 1000,
        shareOfCeiling: deliveriesPerSecond / ceiling.requestsPerSecond,
        cpu: budget(perDelivery('all'), { main: perDelivery('main'), workers: perDelivery('workers'), v8: perDelivery('v8'), other: perDelivery('other') }, ceiling),
      });
      if (last) {
        const median = [...rounds].sort((a, b) => a.shareOfCeiling - b.shareOfCeiling)[Math.floor((rounds.length - 1) / 2)]!;
        return { rounds, median, runtime, stoppedLogs, stopped, rss: { peakSoFar, sampler } };
      }
    }
  } catch (error) {
    sampler.stop();
    await runtime.stop().catch(() => undefined);
    throw error;
  }
}

/** A fresh runtime with the bench's webhooks, idle. */
async function startRound(options: RoundsOptions, round: number): Promise<Runtime> {
  options.progress(`round ${round} of ${options.rounds}: starting a runtime`);
  const runtime = await startRuntime(options.root);
  try {
    await options.prepare(runtime);
    await registerWebhooks(runtime.baseUrl, runtime.apiKey, options.receivers);
    return runtime;
  } catch (error) {
    await runtime.stop().catch(() => undefined);
    throw error;
  }
}

function budget(runtimeUsPerDelivery: number, byThread: Record<ThreadGroup, number>, ceiling: Ceiling): CpuBudget {
  const cpus = availableParallelism();
  return {
    cpus,
    runtimeUsPerDelivery,
    runtimeUsPerDeliveryByThread: byThread,
    receiverUsPerRequest: ceiling.receiverUsPerRequest,
    ceilingClientUsPerRequest: ceiling.clientUsPerRequest,
    boundDeliveriesPerSecond: (cpus * 1e6) / (runtimeUsPerDelivery + ceiling.receiverUsPerRequest),
  };
}
