/**
 * The short chaos case (issue 5, `npm run chaos` is the long one): events to webhooks whose
 * receivers fail at random (500, timeouts, resets, slow bodies, 429 + Retry-After) through the
 * one-machine runtime, SIGKILLed and started again twice on the same data dir while events are
 * being published and delivered. Every delivery reaches its receiver with a 2xx: none is lost.
 */
import { runChaos } from '../chaos/chaos.ts';
import { report } from '../chaos/report.ts';

it('loses no delivery when receivers fail at random and the runtime is SIGKILLed twice', async () => {
  const seed = Number(process.env['CHAOS_SEED'] || Math.floor(Math.random() * 2 ** 31));
  const ladder = [0, 0.2, 0.5, 1, 2, 3, 5, 8];
  const messages: string[] = [];
  const result = await runChaos({
    events: 150,
    webhooks: 6,
    kills: 2,
    killEveryMs: [1_500, 3_000],
    seed,
    // Spread over ~6 s, so both kills land while events are still being published and delivered.
    publishPerSecond: 25,
    batchMax: 20,
    ladder,
    requestTimeoutMs: 1000,
    mix: { failureMin: 0.05, failureMax: 0.15, slowShare: 0.05 },
    settleTimeoutMs: 60_000,
    stallTimeoutMs: 60_000,
    progress: (m) => messages.push(m),
  });
  const text = report(result, `ladder ${ladder.join(',')} s, 2 SIGKILLs`);
  process.stdout.write(`${text}\n${messages.map((m) => `[chaos] ${m}`).join('\n')}\n`);

  expect(result.restarts).toBe(2);
  expect(result.published).toBe(150);
  expect(result.expected).toBe(900);
  expect({ lost: result.lost, timedOut: result.timedOut, diagnosis: result.diagnosis }).toEqual({ lost: 0, timedOut: false, diagnosis: undefined });
  expect(result.delivered + result.exhausted).toBe(result.expected);
  // Some of every kind of trouble really happened.
  for (const kind of ['error500', 'timeout', 'reset', 'throttle429', 'slow'] as const) expect(result.answers[kind]).toBeGreaterThan(0);
}, 90_000);
