/**
 * The chaos run: N events to K webhooks whose receivers fail at random, through the one-machine
 * runtime (`node infra/local/main.mjs`), which is SIGKILLed and started again on the same data dir
 * at random moments. Receivers keep running throughout. Used by `npm run chaos` (run.ts) and by
 * the short case in test/e2e/chaos.test.ts.
 *
 * Healthy endpoint: every receiver here is one. It fails at random, but each attempt succeeds with
 * probability 1 - q (q = its failure rate), so a ladder of L rungs leaves a delivery undelivered
 * with probability q^L only. A delivery that really exhausts its ladder (the runtime's log shows
 * its last rung failed with no next attempt) is counted as "exhausted (endpoint failing)", not as
 * lost. So: expected = accepted events x K; delivered = distinct (webhook-id, receiver) pairs
 * answered 2xx at least once; lost = expected - delivered - exhausted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, randomKey, sleep, startRuntime, type Runtime } from '../support/runtime.ts';
import { diagnose, type Diagnosis } from './diagnose.ts';
import { countMissing, countRepeatedAttemptNumbers, findExhausted, missingPairs, WEBHOOKS } from './log.ts';
import { seededRandom } from './random.ts';
import { drawMix, startChaosReceiver, type ChaosReceiver, type MixOptions, type Outcome } from './receivers.ts';
import { duplicatesByKill, exhaustProbability, FIRST_ATTEMPTS_LINE, summarizeLogs, tallyReceivers, type DuplicateKills } from './tally.ts';

export interface ChaosOptions {
  readonly events: number;
  readonly webhooks: number;
  /** How many times the runtime is SIGKILLed and started again. */
  readonly kills: number;
  /** The killer waits a random [min, max] ms (after the runtime is up again) before each kill. */
  readonly killEveryMs: readonly [number, number];
  readonly seed: number;
  /** Events are published at about this rate, in batches of 1..batchMax (at most 100). */
  readonly publishPerSecond: number;
  readonly batchMax: number;
  /** HOOKLINE_RETRY_DELAYS, in seconds. */
  readonly ladder: readonly number[];
  /** HOOKLINE_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs: number;
  readonly mix: MixOptions;
  /** After the last publish and the last restart, how long to wait for the deliveries at most. */
  readonly settleTimeoutMs: number;
  /** Stop waiting early when no delivery arrived for this long (stuck work; then it is diagnosed). */
  readonly stallTimeoutMs: number;
  /** Keep the data dir (it is always kept when deliveries are lost). */
  readonly keepData?: boolean;
  readonly progress: (message: string) => void;
}

export interface ChaosResult {
  readonly seed: number;
  readonly events: number;
  readonly webhooks: number;
  readonly published: number;
  readonly expected: number;
  readonly delivered: number;
  readonly exhausted: number;
  readonly lost: number;
  /** Extra 2xx answers for a (webhook-id, receiver) pair already answered 2xx. */
  readonly duplicates2xx: number;
  /** Pairs answered 2xx more than once. */
  readonly duplicatePairs: number;
  /** The duplicates by the kill before each repeated 2xx (see DuplicateKills). */
  readonly duplicateKills: DuplicateKills;
  /** Entries of the deliveries log that repeat a (delivery, attempt number) already logged: must be 0. */
  readonly repeatedAttemptNumbers: number;
  /** Requests that arrived for a pair already answered 2xx, whatever the new answer. */
  readonly arrivalsAfter2xx: number;
  /** Requests that arrived for a pair more than once (retries of failed attempts included). */
  readonly repeatedArrivals: number;
  readonly requests: number;
  readonly answers: Record<Outcome, number>;
  readonly restarts: number;
  /** ms from the kill to /healthz ok on the new process. */
  readonly restartMs: readonly number[];
  /**
   * What each restart found taken and not finished by the killed process (its banner's "Resumed"
   * line), and the first attempts it queued again from their delivery rows (the "Queued again" line).
   */
  readonly resumed: { readonly events: number; readonly deliveries: number; readonly firstAttempts: number };
  /** What the periodic reconcile (work overdue by 60 s) queued again, from the runtime's log. */
  readonly requeuedPeriodic: { readonly events: number; readonly deliveries: number };
  /** ERROR lines the runtime logged, and the first of them. */
  readonly runtimeErrors: number;
  readonly firstRuntimeError?: string;
  readonly publishRequests: number;
  readonly publishFailures: number;
  /** The probability that at least one delivery exhausts its ladder, from the receivers' mixes. */
  readonly pExhaustAny: number;
  readonly failureRates: { readonly min: number; readonly max: number; readonly mean: number };
  /** First publish -> the last delivery first received (or the deadline). */
  readonly deliveryMs: number;
  /** Runtime start -> end of the settle wait. */
  readonly totalMs: number;
  readonly timedOut: boolean;
  readonly diagnosis?: Diagnosis;
  readonly dataDir?: string;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const startedAt = performance.now();
  // Independent streams, so the kill schedule does not shift the receivers' draws.
  const mixRandom = seededRandom(o.seed);
  const answerRandom = seededRandom(o.seed ^ 0x5bd1e995);
  const killRandom = seededRandom(o.seed ^ 0x27d4eb2f);
  const publishRandom = seededRandom(o.seed ^ 0x165667b1);

  const timing = {
    senderTimeoutMs: o.requestTimeoutMs,
    slowMinMs: Math.round(o.requestTimeoutMs * 0.05),
    slowMaxMs: Math.round(o.requestTimeoutMs * 0.3),
    retryAfterSeconds: 1,
  };
  const receivers: ChaosReceiver[] = [];
  for (let i = 0; i < o.webhooks; i++) receivers.push(await startChaosReceiver(answerRandom, drawMix(mixRandom, o.mix), timing));
  const rates = receivers.map((r) => r.mix.failure);
  const pExhaustAny = exhaustProbability(rates, o.events, o.ladder.length);

  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-chaos-'));
  const apiKey = randomKey('hk_chaos_');
  const adminKey = randomKey('hkadm_chaos_');
  let rt: Runtime | undefined;
  let keep = o.keepData ?? false;
  try {
    rt = await startRuntime({
      apiKey,
      adminKey,
      dataDir,
      startTimeoutMs: 180_000,
      env: {
        HOOKLINE_RETRY_DELAYS: o.ladder.join(','),
        HOOKLINE_REQUEST_TIMEOUT_MS: String(o.requestTimeoutMs),
        HOOKLINE_RATE_LIMIT_PER_SECOND: '500',
        HOOKLINE_RATE_LIMIT_BURST: '1000',
        HOOKLINE_MAX_WEBHOOKS_PER_TENANT: String(Math.max(100, o.webhooks)),
        HOOKLINE_OWNER_EMAIL: 'chaos@example.com',
      },
    });
    const webhookIds: string[] = [];
    for (const [i, r] of receivers.entries()) {
      const res = await api(rt.baseUrl, apiKey).post(WEBHOOKS, { url: r.url, events: ['*'], description: `chaos receiver ${i + 1}` });
      if (res.status !== 201) throw new Error(`creating webhook ${i + 1}: ${res.status} ${res.text}`);
      webhookIds.push(res.json.id);
    }
    o.progress(`runtime at ${rt.baseUrl} (data ${dataDir}); ${o.webhooks} receivers, failure rates ${pct(Math.min(...rates))}-${pct(Math.max(...rates))}`);

    const runId = Date.now().toString(36);
    const eventIds = Array.from({ length: o.events }, (_, i) => `chaos-${runId}-${i}`);
    const firstPublish = Date.now();
    let published = 0;
    let publishRequests = 0;
    let publishFailures = 0;
    let restarting = false;
    const restartMs: number[] = [];
    const killTimes: number[] = [];
    const logs: string[] = [];

    const publisher = async () => {
      const t0 = performance.now();
      let i = 0;
      while (i < o.events) {
        const size = Math.min(o.events - i, publishRandom.int(1, Math.min(100, o.batchMax)));
        const batch = eventIds.slice(i, i + size).map((id, j) => ({
          id,
          event: 'scan.completed',
          data: { scan_id: `scan-${i + j}`, target: `10.1.${((i + j) >> 8) & 255}.${(i + j) & 255}`, findings: (i + j) % 7 },
        }));
        // 202 means stored; no answer may or may not have stored it: send the same ids again.
        for (let tries = 1; ; tries++) {
          publishRequests++;
          let status = 0;
          let text: string;
          try {
            const res = await fetch(`${rt!.baseUrl}/v1/events`, {
              method: 'POST',
              headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ events: batch }),
              signal: AbortSignal.timeout(15_000),
            });
            status = res.status;
            text = await res.text();
          } catch (err) {
            text = (err as Error).message;
          }
          if (status === 202) break;
          publishFailures++;
          if (status >= 400 && status < 500 && status !== 429) throw new Error(`publishing events ${i}..${i + size - 1}: ${status} ${text}`);
          if (tries > 2000) throw new Error(`publishing events ${i}..${i + size - 1} kept failing: ${status} ${text}`);
          await sleep(restarting ? 200 : 100);
        }
        i += size;
        published = i;
        const due = t0 + (i / o.publishPerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
    };

    const killer = async () => {
      for (let k = 0; k < o.kills; k++) {
        await sleep(killRandom.between(o.killEveryMs[0], o.killEveryMs[1]));
        const killedAt = performance.now();
        killTimes.push(killedAt);
        restarting = true;
        await rt!.kill();
        logs.push(rt!.stdout() + rt!.stderr());
        o.progress(`SIGKILL ${k + 1}/${o.kills} (pid ${rt!.pid}) at ${secs(Date.now() - firstPublish)} s: ${published}/${o.events} events published, ${count()} deliveries received`);
        rt = await rt!.restart();
        restarting = false;
        restartMs.push(performance.now() - killedAt);
        const resumed = /Resumed (\d+) event\(s\) and (\d+) delivery\(ies\)/.exec(rt.stdout());
        const firstAttempts = FIRST_ATTEMPTS_LINE.exec(rt.stdout());
        o.progress(
          `restarted in ${secs(performance.now() - killedAt)} s at ${rt.baseUrl} (pid ${rt.pid})` +
            `${resumed ? `: resumed ${resumed[1]} event(s), ${resumed[2]} delivery(ies)` : ''}${firstAttempts ? `; ${firstAttempts[1]} first attempt(s) queued again` : ''}`,
        );
      }
    };

    const count = () => receivers.reduce((n, r) => n + r.ok.size, 0);
    let lastCount = 0;
    let lastArrivalAt = firstPublish;
    const ticker = setInterval(() => {
      const c = count();
      if (c !== lastCount) lastArrivalAt = Date.now();
      lastCount = c;
    }, 50);
    const reporter = setInterval(() => o.progress(`${secs(Date.now() - firstPublish)} s: ${published}/${o.events} published, ${count()}/${published * o.webhooks} delivered`), 10_000);

    let exhausted = new Map<string, Set<string>>();
    let timedOut = false;
    try {
      await Promise.all([publisher(), killer()]);
      o.progress(`all ${o.events} events published and ${o.kills} restarts done at ${secs(Date.now() - firstPublish)} s; waiting for the deliveries`);
      const expected = o.events * o.webhooks;
      const deadline = Date.now() + o.settleTimeoutMs;
      let nextExhaustCheck = Date.now() + 5_000;
      const exhaustedCount = () => countMissing(receivers, webhookIds, exhausted);
      while (count() + exhaustedCount() < expected) {
        if (Date.now() > deadline || Date.now() - lastArrivalAt > o.stallTimeoutMs) {
          timedOut = true;
          o.progress(`stopped waiting: ${Date.now() > deadline ? 'deadline' : `nothing arrived for ${secs(o.stallTimeoutMs)} s`}`);
          break;
        }
        // Deliveries stuck for a while on webhooks the runtime calls failing may have exhausted their ladder.
        if (Date.now() > nextExhaustCheck && Date.now() - lastArrivalAt > 3_000) {
          exhausted = await findExhausted(rt!, apiKey, webhookIds, o.ladder.length, false);
          nextExhaustCheck = Date.now() + 10_000;
          continue;
        }
        await sleep(100);
      }
      // A moment more, so duplicates that trail the last first arrival are counted too.
      await sleep(1_500);
    } finally {
      clearInterval(ticker);
      clearInterval(reporter);
    }
    const deliveryMs = lastArrivalAt - firstPublish;
    const logSummary = summarizeLogs([...logs, rt!.stdout() + rt!.stderr()]);

    const expected = o.events * o.webhooks;
    const delivered = count();
    if (delivered < expected) exhausted = await findExhausted(rt!, apiKey, webhookIds, o.ladder.length, true);
    const exhaustedCount = countMissing(receivers, webhookIds, exhausted);
    const lost = expected - delivered - exhaustedCount;
    let diagnosis: Diagnosis | undefined;
    if (lost > 0) {
      keep = true;
      const missing = missingPairs(receivers, webhookIds, eventIds, exhausted);
      rt = await diagnose(rt!, missing, o.progress).then((d) => {
        diagnosis = d.diagnosis;
        return d.runtime;
      });
    }

    const repeatedAttemptNumbers = await countRepeatedAttemptNumbers(rt!, apiKey, webhookIds);
    return {
      seed: o.seed,
      events: o.events,
      webhooks: o.webhooks,
      published,
      expected,
      delivered,
      exhausted: exhaustedCount,
      lost,
      ...tallyReceivers(receivers),
      duplicateKills: duplicatesByKill(receivers, killTimes),
      repeatedAttemptNumbers,
      restarts: restartMs.length,
      restartMs,
      ...logSummary,
      publishRequests,
      publishFailures,
      pExhaustAny,
      failureRates: { min: Math.min(...rates), max: Math.max(...rates), mean: rates.reduce((a, b) => a + b, 0) / rates.length },
      deliveryMs,
      totalMs: performance.now() - startedAt,
      timedOut,
      ...(diagnosis ? { diagnosis } : {}),
      ...(keep ? { dataDir } : {}),
    };
  } finally {
    if (rt) await rt.stop();
    await Promise.all(receivers.map((r) => r.close()));
    if (!keep) await rm(dataDir, { recursive: true, force: true });
  }
}

const secs = (ms: number) => (ms / 1000).toFixed(1);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
