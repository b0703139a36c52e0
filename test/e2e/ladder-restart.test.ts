/**
 * A ladder survives a crash (README "How a delivery moves"): the runtime is SIGKILLed between
 * rungs and restarted on the same data dir; the delivery's remaining attempts are made, each
 * exactly once (attempt claims in DynamoDB, the start-up reconcile re-queues the due delivery).
 */
import { allAttempts, attemptsOfEvent, createWebhook, forEvent, perEvent, publish, waitForLog } from '../support/ladder.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, sleep, startRuntime, type Runtime } from '../support/runtime.ts';

const RUNG_MS = 2_000;

let rt: Runtime;
let r: Receiver;

beforeAll(async () => {
  r = await startReceiver({ respond: perEvent([500, 500, 200]) });
  rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: `0,${RUNG_MS / 1000},${RUNG_MS / 1000}` } });
});

afterAll(async () => {
  await r?.close();
  await rt?.cleanup();
});

it('completes a ladder interrupted by SIGKILL after a restart: 3 requests in all, attempts 1, 2, 3 each logged once', async () => {
  const tenant = api(rt.baseUrl, rt.apiKey);
  const hook = await createWebhook(tenant, { url: `${r.url}/hooks/crash`, events: ['backup.completed'] });
  const [eventId] = await publish(tenant, { event: 'backup.completed', data: { job: 'crash-test' } });

  await r.waitFor(1);
  const first = await waitForLog(tenant, hook.id, 'attempt 1', (a) => a.length >= 1);
  expect(first.map((a) => [a.attempt, a.status_code, a.success])).toEqual([[1, 500, false]]);
  expect(typeof first[0].next_attempt_at).toBe('string');

  await rt.kill();
  const killedAt = Date.now();
  rt = await rt.restart();
  const after = api(rt.baseUrl, rt.apiKey);

  const requests = await r
    .waitUntil('3 requests for the event', (reqs) => forEvent(reqs, eventId!).length >= 3, 20_000)
    .catch(async (error: Error) => {
      const log = await allAttempts(after, hook.id).catch((e: Error) => e.message);
      throw new Error(`${error.message}\nlog: ${JSON.stringify(log)}\n--- restarted runtime ---\n${rt.stdout()}\n${rt.stderr().slice(-4000)}`);
    });
  const mine = forEvent(requests, eventId!);
  expect(mine).toHaveLength(3);
  expect(mine[1]!.receivedAt).toBeGreaterThan(killedAt);

  await waitForLog(after, hook.id, 'attempt 3', (a) => a.some((x) => x.attempt === 3));
  // Nothing more comes: no attempt is made twice.
  await sleep(RUNG_MS + 500);
  expect(forEvent(r.requests, eventId!)).toHaveLength(3);
  expect(r.requests).toHaveLength(3);
  const final = attemptsOfEvent(await waitForLog(after, hook.id, 'the log', () => true), eventId!);
  expect(final.map((a) => [a.attempt, a.status_code, a.success])).toEqual([
    [1, 500, false],
    [2, 500, false],
    [3, 200, true],
  ]);
  expect(new Set(final.map((a) => a.delivery_id)).size).toBe(1);
  // The rungs are kept across the restart, give or take the dispatcher's 1 s early tolerance for a
  // message with `not_before` (shared/usecases/dispatch.ts); lower bounds only.
  expect(mine[1]!.receivedAt - mine[0]!.receivedAt).toBeGreaterThanOrEqual(RUNG_MS - 1_000);
  expect(mine[2]!.receivedAt - mine[1]!.receivedAt).toBeGreaterThanOrEqual(RUNG_MS - 100);
});
