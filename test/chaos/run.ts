/**
 * `npm run chaos`: the fault-injection run (see chaos.ts). Prints the figures; exits 1 when a
 * delivery was lost, the log repeats an attempt number, or duplicates exceed 0.1%.
 *
 * env: CHAOS_EVENTS (1500), CHAOS_WEBHOOKS (20), CHAOS_KILLS (5), CHAOS_SEED (random),
 *      CHAOS_PUBLISH_RATE (events/s, 40), CHAOS_LADDER (0,0.2,0.5,1,2,3,5,8 seconds),
 *      CHAOS_TIMEOUT_MS (per-attempt timeout, 1000), CHAOS_FAILURE (per-attempt failure rate
 *      range, 0.05-0.15), CHAOS_SETTLE_S (wait for deliveries after the last publish and restart,
 *      600), CHAOS_STALL_S (stop waiting when nothing arrived for this long, 180), CHAOS_KEEP=1 keeps
 *      the data dir (it is kept anyway when a delivery was lost).
 */
import { availableParallelism } from 'node:os';
import { runChaos } from './chaos.ts';
import { report } from './report.ts';

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

const seed = int('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31));
const ladder = (process.env['CHAOS_LADDER'] || '0,0.2,0.5,1,2,3,5,8').split(',').map(Number);
const [failureMin, failureMax] = (process.env['CHAOS_FAILURE'] || '0.05-0.15').split('-').map(Number) as [number, number];
const options = {
  events: int('CHAOS_EVENTS', 1500),
  webhooks: int('CHAOS_WEBHOOKS', 20),
  kills: int('CHAOS_KILLS', 5),
  killEveryMs: [3_000, 8_000] as const,
  seed,
  publishPerSecond: int('CHAOS_PUBLISH_RATE', 40),
  batchMax: 100,
  ladder,
  requestTimeoutMs: int('CHAOS_TIMEOUT_MS', 1000),
  mix: { failureMin, failureMax, slowShare: 0.05 },
  settleTimeoutMs: int('CHAOS_SETTLE_S', 600) * 1000,
  stallTimeoutMs: int('CHAOS_STALL_S', 180) * 1000,
  keepData: process.env['CHAOS_KEEP'] === '1',
  progress: (m: string) => process.stderr.write(`[chaos] ${m}\n`),
};
const settings =
  `ladder ${ladder.join(',')} s, attempt timeout ${options.requestTimeoutMs} ms, ${options.kills} SIGKILLs every ` +
  `${options.killEveryMs[0] / 1000}-${options.killEveryMs[1] / 1000} s, publishing ~${options.publishPerSecond} events/s, ` +
  `node ${process.version}, ${availableParallelism()} CPUs`;
process.stderr.write(`[chaos] ${settings}; seed ${seed}\n`);

const result = await runChaos(options);
process.stdout.write(report(result, settings) + '\n');
/** Duplicates allowed: 2xx answers just before a kill, sent again after it (at most 0.1% of the deliveries). */
const DUPLICATE_SHARE = 0.001;
const failed = result.lost > 0 || result.published < result.events || result.repeatedAttemptNumbers > 0 || result.duplicates2xx > DUPLICATE_SHARE * result.expected;
process.exitCode = failed ? 1 : 0;
