/**
 * `npm run bench`: throughput and latency of the one-machine pipeline, against the ceiling of a
 * plain undici POST loop, and the size and cold import time of each Lambda bundle beside its SDK
 * floor (test/bench/bundles.ts).
 *
 * flags: --bundles-only (only the bundle table, in a few seconds), --noisy-neighbour (only the
 *        scenario of test/bench/noisy-neighbour.ts: one webhook that never answers beside healthy
 *        ones; exits 1 when its bound does not hold), --json (one JSON document on stdout instead
 *        of the text report; progress stays on stderr).
 * env: BENCH_EVENTS (default 2000), BENCH_WEBHOOKS (5), BENCH_PUBLISHERS (4),
 *      BENCH_TIMEOUT_S (300, the wait for deliveries), BENCH_LOAD_RUNS (9, cold imports per bundle),
 *      BENCH_STEADY_RATE (200 events/s, one event a request) for BENCH_STEADY_S (10 s), after
 *      BENCH_STEADY_WARMUP_S (2 s) at the same rate whose latencies are printed apart (0: none),
 *      BENCH_STARTS (5, starts after the first one: test/bench/startup.ts), BENCH_ROUNDS (3, the
 *      pipeline's rounds, each on a fresh runtime: test/bench/rounds.ts).
 *
 * The one-machine runtime's targets are printed (and in the JSON) with the run that measured them:
 * end to end at least half the ceiling and ingest at 5,000 events/s in batches of 100 (the median
 * of the rounds, each printed), p99 within 50 ms at the steady rate, healthy within 300 ms of
 * the start, RSS within 200 MB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTable, measureBundles } from './bundles.ts';
import { CEILING_IN_FLIGHT, runCeiling, type Ceiling } from './ceiling.ts';
import { noisyNeighbourReport, runNoisyNeighbour } from './noisy-neighbour.ts';
import { runPipeline, type PipelineResult } from './pipeline.ts';
import { startReceiver, type Receiver } from './receivers.ts';
import { runRounds, type CpuBudget, type Round } from './rounds.ts';
import { ADMIN_KEY, type Runtime } from './runtime.ts';
import { measureStartup, type StartupResult } from './startup.ts';
import { envInt, heading, line, median as medianOf, troubleLines, warmupLine } from './stats.ts';
import { target, TARGETS, targetLine, type TargetResult } from './targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const N = envInt('BENCH_EVENTS', 2000);
const K = envInt('BENCH_WEBHOOKS', 5);
const PUBLISHERS = envInt('BENCH_PUBLISHERS', 4);
const TIMEOUT_MS = envInt('BENCH_TIMEOUT_S', 300) * 1000;
const LOAD_RUNS = envInt('BENCH_LOAD_RUNS', 9);
const STEADY_RATE = envInt('BENCH_STEADY_RATE', 200);
const STEADY_SECONDS = envInt('BENCH_STEADY_S', 10);
const STEADY_WARMUP_SECONDS = envInt('BENCH_STEADY_WARMUP_S', 2, 0);
const STARTS = envInt('BENCH_STARTS', 5);
const ROUNDS = envInt('BENCH_ROUNDS', 3);

/** The ceiling's bodies: the size of the pipeline's (it prints their average, 205 bytes in the default format). */
const CEILING_BODY_BYTES = 205;

const BUNDLES_ONLY = process.argv.includes('--bundles-only');
const NOISY_NEIGHBOUR = process.argv.includes('--noisy-neighbour');
const JSON_OUTPUT = process.argv.includes('--json');

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const out = (text: string) => {
  if (!JSON_OUTPUT) process.stdout.write(text + '\n');
};

/** The bootstrap tenant's request limit, through the admin API, as the platform team would raise it. */
async function setRateLimit(baseUrl: string, requestsPerSecond: number): Promise<void> {
  const res = await fetch(`${baseUrl}/admin/v1/tenants/default/rate-limit`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests_per_second: requestsPerSecond, burst: requestsPerSecond }),
  });
  if (res.status !== 200) throw new Error(`raising the rate limit: ${res.status} ${await res.text()}`);
}

function printPipeline(p: PipelineResult, rounds: number) {
  out(heading(`Pipeline: ${p.events} events x ${p.webhooks} webhooks = ${p.expected} deliveries${rounds > 1 ? `, the median of ${rounds} rounds` : ''}`));
  out(line('ingest accepted', (p.accepted / p.ingestMs) * 1000, rounds > 1 ? "events/s (this round's; the target takes the rounds' median)" : 'events/s'));
  out(line('ingest time', p.ingestMs / 1000, 's', 2));
  out(line('deliveries received', `${p.delivered}/${p.accepted * p.webhooks}`));
  out(line('end to end', (p.delivered / p.endToEndMs) * 1000, 'deliveries/s'));
  out(line('end to end time', p.endToEndMs / 1000, 's', 2));
  out(line('latency p50', p.latencies.p50, 'ms (publish sent -> receipt)'));
  out(line('latency p99', p.latencies.p99, 'ms'));
  out(line('latency max', p.latencies.max, 'ms'));
  out(line('duplicate deliveries', p.duplicates));
  out(line('body size (avg)', p.avgBodyBytes, 'bytes'));
}

/** The bundle table alone: no runtime, no receivers. */
async function bundlesOnly(): Promise<void> {
  const bundleDir = await mkdtemp(join(tmpdir(), 'hookline-bench-bundles-'));
  try {
    const bundles = await measureBundles(ROOT, bundleDir, LOAD_RUNS, progress);
    if (JSON_OUTPUT) process.stdout.write(JSON.stringify({ node: process.version, loadRuns: LOAD_RUNS, bundles }, null, 2) + '\n');
    else out(bundleTable(bundles, LOAD_RUNS));
    if (bundles.some((b) => !b.withinTarget)) process.exitCode = 1;
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

/** The noisy-neighbour scenario alone: two runtime runs, with and without a hanging webhook. */
async function noisyNeighbour(): Promise<void> {
  const result = await runNoisyNeighbour(ROOT, progress);
  if (JSON_OUTPUT) process.stdout.write(JSON.stringify({ node: process.version, noisyNeighbour: result }, null, 2) + '\n');
  else out(noisyNeighbourReport(result));
  if (!result.withinBound) process.exitCode = 1;
}

async function main(): Promise<void> {
  if (BUNDLES_ONLY) return bundlesOnly();
  if (NOISY_NEIGHBOUR) return noisyNeighbour();
  const anomalies: string[] = [];
  const started = performance.now();
  out(`Hookline bench: N=${N} events, K=${K} webhooks, ${PUBLISHERS} publishers, node ${process.version}, ${availableParallelism()} CPUs`);

  const receivers: Receiver[] = await Promise.all(Array.from({ length: K }, () => startReceiver()));
  let runtime: Runtime | undefined;
  let pipeline: PipelineResult | undefined;
  let bundles: Awaited<ReturnType<typeof measureBundles>> | undefined;
  let ceilingResult: Ceiling | undefined;
  let runtimeTimes: { startupMs: number; firstStartupMs: number; startupRunsMs: readonly number[]; shutdownMs: number } | undefined;
  let steady: PipelineResult | undefined;
  let peakRssMb: number | undefined;
  let cpu: CpuBudget | undefined;
  let rounds: readonly Round[] | undefined;
  const targets: TargetResult[] = [];
  const bundleDir = await mkdtemp(join(tmpdir(), 'hookline-bench-bundles-'));
  try {
    progress(`timing starts: the first with empty caches, then ${STARTS}`);
    const startup: StartupResult = await measureStartup(ROOT, STARTS);
    // A shorter ceiling run first compiles the receivers' code, which the first measured run
    // would otherwise pay for alone.
    const ceilingRun = (requests = N * K) => {
      progress(`ceiling: ${requests} plain undici POSTs, ${CEILING_IN_FLIGHT} in flight`);
      return runCeiling(ROOT, receivers.map((r) => r.url), requests, CEILING_BODY_BYTES);
    };
    await ceilingRun(Math.ceil((N * K) / 5));
    const measured = await runRounds({
      root: ROOT,
      rounds: ROUNDS,
      receivers,
      events: N,
      publishers: PUBLISHERS,
      timeoutMs: TIMEOUT_MS,
      progress,
      ceilingRun: () => ceilingRun(),
      // The steady run sends one request an event: the bootstrap tenant's default limit (100
      // requests/s) would refuse most. Raised first: the API keeps a tenant's limit for a while.
      prepare: (r) => setRateLimit(r.baseUrl, Math.min(500, STEADY_RATE * 2)),
    });
    runtime = measured.runtime;
    rounds = measured.rounds;
    const median = measured.median;
    pipeline = median.pipeline;
    const c = median.ceiling;
    progress(`steady: ${STEADY_RATE} events/s for ${STEADY_WARMUP_SECONDS} s of warm-up and ${STEADY_SECONDS} s, one event a request`);
    // One paced run, on the last round's runtime: the warm-up's events go first, at the same
    // rate, and their latencies are reported apart (the runtime compiles for the new traffic's
    // shape then, see docs/performance.md).
    steady = await runPipeline({
      baseUrl: runtime.baseUrl,
      apiKey: runtime.apiKey,
      receivers,
      events: STEADY_RATE * (STEADY_WARMUP_SECONDS + STEADY_SECONDS),
      warmupEvents: STEADY_RATE * STEADY_WARMUP_SECONDS,
      publishers: 16,
      timeoutMs: TIMEOUT_MS,
      progress,
      pace: { eventsPerSecond: STEADY_RATE, batch: 1 },
    });
    measured.rss.sampler.stop();
    peakRssMb = Math.max(measured.rss.peakSoFar, measured.rss.sampler.peak());

    const logs = measured.stoppedLogs + runtime.stdout() + '\n' + runtime.stderr();
    progress('stopping the runtime (SIGTERM)');
    const stopped = await runtime.stop();
    runtime = undefined;

    runtimeTimes = { startupMs: startup.medianMs, firstStartupMs: startup.firstMs, startupRunsMs: startup.runsMs, shutdownMs: stopped.ms };
    out(heading('Runtime'));
    out(line('first start to /healthz ok', startup.firstMs, 'ms (empty compile and bundle caches, as after npm ci)'));
    out(line('startup to /healthz ok', startup.medianMs, `ms (median of ${STARTS} starts after it: ${startup.runsMs.map((ms) => ms.toFixed(0)).join(', ')})`));
    out(line('shutdown on SIGTERM', stopped.ms, `ms (exit ${stopped.code ?? stopped.signal})`));
    printPipeline(pipeline, rounds.length);
    out(heading(`Steady: ${STEADY_RATE} events/s x ${K} webhooks, one event a request, after ${STEADY_WARMUP_SECONDS} s of warm-up`));
    out(line('deliveries received', `${steady.delivered}/${steady.accepted * K}`));
    out(line('latency p50', steady.latencies.p50, 'ms (publish sent -> receipt)'));
    out(line('latency p99', steady.latencies.p99, 'ms'));
    out(line('latency max', steady.latencies.max, 'ms'));
    if (steady.warmup) {
      out(warmupLine(STEADY_WARMUP_SECONDS, steady.warmup.latencies));
    }
    out(line('runtime RSS (peak)', peakRssMb, 'MB'));

    for (const [i, round] of rounds.entries()) {
      const p = round.pipeline;
      const which = rounds.length > 1 ? `round ${i + 1}: ` : '';
      if (p.publishErrors.length > 0) anomalies.push(`${which}${p.publishErrors.length} publish batch(es) failed: ${p.publishErrors.slice(0, 3).join('; ')}`);
      if (p.timedOut || p.missing.length > 0) {
        const lost = p.missing.reduce((n, m) => n + m.count, 0);
        anomalies.push(`${which}${lost} of ${p.accepted * K} deliveries never arrived within ${TIMEOUT_MS / 1000} s`);
        for (const m of p.missing) anomalies.push(`  ${m.url}: ${m.count} missing, e.g. ${m.sample.join(', ')}`);
      }
      if (p.duplicates > 0) anomalies.push(`${which}${p.duplicates} deliveries arrived more than once at the same receiver`);
      if (round.ceiling.failed > 0) anomalies.push(`${which}${round.ceiling.failed} ceiling requests failed`);
    }
    if (steady.timedOut || steady.missing.length > 0 || steady.publishErrors.length > 0) anomalies.push(`steady run: ${steady.publishErrors.length} publish error(s), ${steady.accepted * K - steady.delivered} deliveries missing`);
    for (const s of [...measured.stopped, stopped]) if (s.code !== 0) anomalies.push(`runtime exited with ${s.code ?? s.signal} on SIGTERM`);
    const trouble = troubleLines(logs);
    if (trouble.length > 0) {
      anomalies.push(`${trouble.length} error/warning line(s) in the runtime's output, first ones:`);
      for (const l of trouble.slice(0, 5)) anomalies.push(`  ${l.slice(0, 300)}`);
    }

    const ceilingRate = c.requestsPerSecond;
    const [before, after] = c.runsRequestsPerSecond.map((r) => r.toFixed(0));
    out(heading(`Ceiling: plain undici request loop, ${CEILING_IN_FLIGHT} in flight, separate process`));
    out(line('ceiling', ceilingRate, `requests/s (mean of ${before} right before the pipeline and ${after} right after)`));
    out(line('pipeline / ceiling', median.shareOfCeiling * 100, '%', 1));
    if (rounds.length > 1) {
      out(heading(`Rounds: the pipeline ${rounds.length} times, each on a fresh runtime against the ceiling either side`));
      for (const [i, r] of rounds.entries()) {
        const figures = `deliveries/s / ${r.ceiling.requestsPerSecond.toFixed(0)} requests/s = ${r.shareOfCeiling.toFixed(3)} x, ingest ${r.ingestEventsPerSecond.toFixed(0)} events/s, ${r.cpu.runtimeUsPerDelivery.toFixed(0)} us a delivery`;
        out(line(`round ${i + 1}${r === median ? ' (median)' : ''}`, r.deliveriesPerSecond, figures));
      }
    }
    cpu = median.cpu;
    out(heading(`CPU per delivery (${cpu.cpus} CPUs${rounds.length > 1 ? ', the median round' : ''})`));
    out(line('runtime, all threads', cpu.runtimeUsPerDelivery, 'us (ingest and fan-out included)'));
    const byThread = cpu.runtimeUsPerDeliveryByThread;
    out(line('  main thread', byThread.main, 'us (the database, every use case)'));
    out(line('  sender thread', byThread.workers, "us (Node's HTTP client)"));
    out(line('  V8 helper threads', byThread.v8, 'us (garbage collection, compilers)'));
    out(line('  other', byThread.other, "us (libuv's pool, threads that ended)"));
    out(line('receivers', cpu.receiverUsPerRequest, 'us a request'));
    out(line('ceiling client', cpu.ceilingClientUsPerRequest, 'us a request'));
    out(line('CPU bound, end to end', cpu.boundDeliveriesPerSecond, `deliveries/s = ${((cpu.boundDeliveriesPerSecond / ceilingRate) * 100).toFixed(0)}% of the ceiling`));

    targets.push(
      target('end to end / ceiling', median.shareOfCeiling, TARGETS.pipelineShareOfCeiling, 'x', true),
      target('ingest, batches of 100', medianOf(rounds.map((r) => r.ingestEventsPerSecond)), TARGETS.ingestEventsPerSecond, 'events/s', true),
      target(`p99 at ${STEADY_RATE} events/s`, steady.latencies.p99, TARGETS.steadyP99Ms, 'ms', false),
      target('healthy after start', startup.medianMs, TARGETS.startupMs, 'ms', false),
      target('RSS (peak)', peakRssMb, TARGETS.rssMb, 'MB', false),
    );
    out(heading('Targets (one-machine runtime)'));
    for (const t of targets) out(targetLine(t));
    for (const t of targets.filter((x) => !x.met)) anomalies.push(`target missed: ${t.name}`);

    progress('bundling the functions');
    bundles = await measureBundles(ROOT, bundleDir, LOAD_RUNS, progress);
    out(heading('Lambda bundles'));
    out(bundleTable(bundles, LOAD_RUNS));
    for (const b of bundles.filter((x) => !x.withinTarget)) anomalies.push(`bundle ${b.name} misses its target${b.error ? `: ${b.error}` : ''}`);
    ceilingResult = c;
  } finally {
    if (runtime) await runtime.stop().catch(() => undefined);
    await Promise.all(receivers.map((r) => r.close()));
    await rm(bundleDir, { recursive: true, force: true });
  }

  if (JSON_OUTPUT) {
    const report = { node: process.version, events: N, webhooks: K, runtime: { ...runtimeTimes, peakRssMb }, pipeline, rounds: rounds?.map(({ pipeline: _p, ...r }) => r), steady, ceiling: ceilingResult, cpu, targets, bundles, anomalies };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  }
  out(heading('Anomalies'));
  out(anomalies.length > 0 ? anomalies.join('\n') : 'none');
  if (targets.some((t) => !t.met)) process.exitCode = 1;
  out(`\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
