/**
 * `npm run bench -- --noisy-neighbour`: does one endpoint that never answers slow down everyone
 * else? Two runs of the one-machine runtime publish the same events to K healthy receivers; in
 * the second, a webhook of another tenant points at a receiver that never answers, so each of
 * its attempts holds a worker until the request timeout (10 s by default), and its deliveries
 * wait on its in-flight limit. (Within one tenant, its attempts also take their share of the
 * tenant's cap, HOOKLINE_MAX_CONCURRENT_PER_TENANT: that is the tenant's own endpoint.) The events are
 * published at a steady rate the pipeline keeps up with, so that the p99 is the latency of a
 * delivery, not the time to drain a burst. The bound: the healthy webhooks' p99 from publish to
 * receipt stays within 2x of the run without the hanging webhook.
 *
 * Each run is a fresh runtime, and its first bursts are slow while V8 compiles for them: without
 * a warm-up the two runs' p99 were 191 and 150 ms, the first second's deliveries, so the bound
 * compared two starts rather than a hanging neighbour's effect. The first BENCH_NOISY_WARMUP_S of
 * events are published at the same rate and reported apart, as the steady run's are: then the
 * warm-ups' p99 were 234 and 188 ms, and the runs' own 40 and 38.
 *
 * env: BENCH_NOISY_EVENTS (default 600, after the warm-up), BENCH_NOISY_RATE (events/s, default 20),
 *      BENCH_NOISY_WARMUP_S (2; 0: none), BENCH_WEBHOOKS (5), BENCH_TIMEOUT_S (300).
 */
import { createTenant, registerWebhooks, runPipeline, type PipelineResult } from './pipeline.ts';
import { startHangingReceiver, startReceiver, type HangingReceiver, type Receiver } from './receivers.ts';
import { ADMIN_KEY, startRuntime } from './runtime.ts';
import { envInt, heading, line, troubleLines, warmupLine } from './stats.ts';

/** The other webhooks' p99 may at most double while one webhook hangs. */
export const NOISY_P99_BOUND = 2;

export interface NoisyRun {
  readonly hanging: boolean;
  readonly pipeline: PipelineResult;
  /** Requests the hanging receiver got (each held open until the dispatcher's timeout). */
  readonly hangingRequests: number;
  /** Error and warning lines of the runtime (a timed-out attempt is logged at INFO). */
  readonly trouble: string[];
}

export interface NoisyNeighbourResult {
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly warmupSeconds: number;
  readonly webhooks: number;
  readonly baseline: NoisyRun;
  readonly noisy: NoisyRun;
  readonly p99Ratio: number;
  readonly bound: number;
  readonly withinBound: boolean;
  readonly anomalies: string[];
}

interface NoisyOptions {
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Seconds of events at the same rate before the measured ones, whose latencies are reported apart. */
  readonly warmupSeconds: number;
  readonly webhooks: number;
  readonly timeoutMs: number;
  readonly progress: (m: string) => void;
}

async function run(root: string, hanging: boolean, options: NoisyOptions): Promise<NoisyRun> {
  const receivers: Receiver[] = await Promise.all(Array.from({ length: options.webhooks }, () => startReceiver()));
  const hangingReceiver: HangingReceiver | undefined = hanging ? await startHangingReceiver() : undefined;
  const runtime = await startRuntime(root);
  try {
    await registerWebhooks(runtime.baseUrl, runtime.apiKey, receivers);
    const neighbours: string[] = [];
    if (hangingReceiver) {
      // The neighbour publishes the same events as the measured tenant, to its hanging endpoint.
      neighbours.push(await createTenant(runtime.baseUrl, ADMIN_KEY, 'noisy-neighbour'));
      await registerWebhooks(runtime.baseUrl, neighbours[0]!, [hangingReceiver]);
    }
    const warmupEvents = options.eventsPerSecond * options.warmupSeconds;
    options.progress(
      `${hanging ? 'with' : 'without'} a hanging webhook: ${options.events} events at ${options.eventsPerSecond}/s to ${options.webhooks} healthy webhooks, after ${options.warmupSeconds} s of warm-up`,
    );
    const pipeline = await runPipeline({
      baseUrl: runtime.baseUrl,
      apiKey: runtime.apiKey,
      receivers,
      events: warmupEvents + options.events,
      warmupEvents,
      publishers: 4,
      timeoutMs: options.timeoutMs,
      progress: options.progress,
      pace: { eventsPerSecond: options.eventsPerSecond, batch: 10 },
      neighbours,
    });
    const trouble = troubleLines(`${runtime.stdout()}\n${runtime.stderr()}`).filter((l) => !/"delivery attempt failed"/.test(l));
    return { hanging, pipeline, hangingRequests: hangingReceiver?.received ?? 0, trouble };
  } finally {
    // The hanging receiver goes first, so that the runtime stops without waiting out its attempts.
    await hangingReceiver?.close();
    await runtime.stop();
    await Promise.all(receivers.map((r) => r.close()));
  }
}

export async function runNoisyNeighbour(root: string, progress: (m: string) => void): Promise<NoisyNeighbourResult> {
  const options: NoisyOptions = {
    events: envInt('BENCH_NOISY_EVENTS', 600),
    eventsPerSecond: envInt('BENCH_NOISY_RATE', 20),
    warmupSeconds: envInt('BENCH_NOISY_WARMUP_S', 2, 0),
    webhooks: envInt('BENCH_WEBHOOKS', 5),
    timeoutMs: envInt('BENCH_TIMEOUT_S', 300) * 1000,
    progress,
  };
  const baseline = await run(root, false, options);
  const noisy = await run(root, true, options);
  const p99Ratio = noisy.pipeline.latencies.p99 / baseline.pipeline.latencies.p99;
  const anomalies: string[] = [];
  for (const r of [baseline, noisy]) {
    const label = r.hanging ? 'with the hanging webhook' : 'baseline';
    const p = r.pipeline;
    if (p.publishErrors.length > 0) anomalies.push(`${label}: ${p.publishErrors.length} publish batch(es) failed`);
    if (p.timedOut || p.missing.length > 0) anomalies.push(`${label}: ${p.missing.reduce((n, m) => n + m.count, 0)} healthy deliveries never arrived`);
    if (p.duplicates > 0) anomalies.push(`${label}: ${p.duplicates} duplicate deliveries`);
    if (r.trouble.length > 0) anomalies.push(`${label}: ${r.trouble.length} error/warning line(s), first: ${r.trouble.slice(0, 3).map((l) => l.slice(0, 300)).join(' | ')}`);
  }
  if (noisy.hangingRequests === 0) anomalies.push('the hanging webhook got no request: the scenario did not happen');
  const withinBound = Number.isFinite(p99Ratio) && p99Ratio <= NOISY_P99_BOUND && anomalies.length === 0;
  return { events: options.events, eventsPerSecond: options.eventsPerSecond, warmupSeconds: options.warmupSeconds, webhooks: options.webhooks, baseline, noisy, p99Ratio, bound: NOISY_P99_BOUND, withinBound, anomalies };
}

export function noisyNeighbourReport(r: NoisyNeighbourResult): string {
  const lines = [
    heading(
      `Noisy neighbour: ${r.events} events at ${r.eventsPerSecond}/s x ${r.webhooks} healthy webhooks after ${r.warmupSeconds} s of warm-up, with and without one that never answers`,
    ),
  ];
  for (const run of [r.baseline, r.noisy]) {
    const p = run.pipeline;
    const label = run.hanging ? 'with hanging webhook' : 'without';
    lines.push(line(`p50 ${label}`, p.latencies.p50, 'ms (publish -> receipt, healthy webhooks)'));
    lines.push(line(`p99 ${label}`, p.latencies.p99, 'ms'));
    lines.push(line(`max ${label}`, p.latencies.max, 'ms'));
    if (p.warmup) lines.push(warmupLine(r.warmupSeconds, p.warmup.latencies));
    lines.push(line(`delivered ${label}`, `${p.delivered}/${p.accepted * p.webhooks}`));
  }
  lines.push(line('hanging webhook requests', r.noisy.hangingRequests, '(each held open until the timeout)'));
  lines.push(line('p99 ratio', r.p99Ratio, `x (bound ${r.bound}x)`, 2));
  lines.push(line('within bound', r.withinBound ? 'yes' : 'NO'));
  if (r.anomalies.length > 0) lines.push(...r.anomalies.map((a) => `  ${a}`));
  return lines.join('\n');
}
