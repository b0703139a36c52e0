/**
 * What stops a ladder (CONTRACT.md section 6): 410 Gone disables the webhook at once (one email,
 * no more attempts, not even for another delivery waiting on its ladder), and a webhook made
 * inactive or deleted between rungs gets nothing more. Rungs are 1.5 s so that there is time to
 * act between them.
 */
import { WEBHOOKS } from '../support/hookline.ts';
import { allAttempts, attemptsOfEvent, createWebhook, forEvent, publish, waitForStatus, webhookStatus } from '../support/ladder.ts';
import { emailsMentioning } from '../support/outbox.ts';
import { startReceiver, type Receiver, type Responder } from '../support/receiver.ts';
import { api, sleep, startRuntime, type Api, type Runtime } from '../support/runtime.ts';

const OWNER = 'gone-owner@example.com';
const RUNG_MS = 1_500;
/** Past a rung, how long to keep listening to be sure that the retry does NOT come. */
const MARGIN_MS = 1_000;
const QUIET_MS = 1_500;

let rt: Runtime;
let tenant: Api;
const receivers: Receiver[] = [];

/** Each event tells the receiver how to answer it: `data.answer` is the status (200 when absent). */
const answerFromEvent: Responder = (req) => Number(req.json?.data?.answer ?? 200);

async function receiver(options: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(options);
  receivers.push(r);
  return r;
}

/** Sleeps until `ms` after `from` (a Date.now() value). */
const sleepUntil = (from: number, ms: number): Promise<void> => sleep(Math.max(0, from + ms - Date.now()));

beforeAll(async () => {
  rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: `0,${RUNG_MS / 1000},${RUNG_MS / 1000}`, HOOKLINE_OWNER_EMAIL: OWNER } });
  tenant = api(rt.baseUrl, rt.apiKey);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

describe('410 Gone', () => {
  it('disables the webhook at once: one request, one "disabled" email, the other delivery on its ladder stops, later events reach nothing', async () => {
    const r = await receiver({ respond: answerFromEvent });
    const hook = await createWebhook(tenant, { url: `${r.url}/hooks/gone`, events: ['alert.created'] });

    // A fails and waits 1.5 s for its next rung; meanwhile B is answered 410 Gone.
    const [a] = await publish(tenant, { event: 'alert.created', data: { answer: 500, name: 'A' } });
    const aArrivedAt = forEvent(await r.waitUntil('A arrives', (reqs) => forEvent(reqs, a!).length >= 1), a!)[0]!.receivedAt;
    const [b] = await publish(tenant, { event: 'alert.created', data: { answer: 410, name: 'B' } });
    await r.waitUntil('B arrives', (reqs) => forEvent(reqs, b!).length >= 1);
    await waitForStatus(tenant, hook.id, 'disabled');

    // Past A's next rung (and B's, had it been retried): nothing more arrived.
    await sleepUntil(aArrivedAt, RUNG_MS + MARGIN_MS);
    expect(forEvent(r.requests, a!)).toHaveLength(1);
    expect(forEvent(r.requests, b!)).toHaveLength(1);
    expect(r.requests).toHaveLength(2);

    const log = await allAttempts(tenant, hook.id);
    expect(attemptsOfEvent(log, b!)).toMatchObject([{ attempt: 1, success: false, status_code: 410 }]);
    expect(attemptsOfEvent(log, b!)[0].next_attempt_at).toBeUndefined();
    expect(attemptsOfEvent(log, a!)).toMatchObject([{ attempt: 1, success: false, status_code: 500 }]);
    expect(log).toHaveLength(2);

    const emails = await emailsMentioning(rt.dataDir, hook.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]!.to).toBe(OWNER);
    expect(emails[0]!.subject).toMatch(/disabled/i);
    expect(emails[0]!.subject).toContain(hook.id);
    expect(emails[0]!.text).toContain(b!);

    // A later event reaches nothing and is not logged.
    const [c] = await publish(tenant, { event: 'alert.created', data: { answer: 200, name: 'C' } });
    await sleep(QUIET_MS);
    expect(r.requests).toHaveLength(2);
    expect(attemptsOfEvent(await allAttempts(tenant, hook.id), c!)).toEqual([]);
    expect(await webhookStatus(tenant, hook.id)).toBe('disabled');
    expect(await emailsMentioning(rt.dataDir, hook.id)).toHaveLength(1);
  });
});

describe('a webhook changed while a delivery waits for its next rung', () => {
  it('gets no further request once PATCHed active:false or DELETEd between rungs', async () => {
    const paused = await receiver({ status: 500 });
    const deleted = await receiver({ status: 500 });
    const pausedHook = await createWebhook(tenant, { url: `${paused.url}/hooks/paused`, events: ['device.offline'] });
    const deletedHook = await createWebhook(tenant, { url: `${deleted.url}/hooks/deleted`, events: ['device.offline'] });

    const [eventId] = await publish(tenant, { event: 'device.offline', data: { device: 'sw-1' } });
    const [p] = await paused.waitFor(1);
    const [d] = await deleted.waitFor(1);
    expect(p!.headers['webhook-id']).toBe(eventId);
    expect(d!.headers['webhook-id']).toBe(eventId);

    const patched = await tenant.patch(`${WEBHOOKS}/${pausedHook.id}`, { active: false });
    expect(patched.status).toBe(200);
    expect(patched.json.active).toBe(false);
    expect((await tenant.del(`${WEBHOOKS}/${deletedHook.id}`)).status).toBe(204);

    await sleepUntil(Math.max(p!.receivedAt, d!.receivedAt), 2 * RUNG_MS + MARGIN_MS);
    expect(paused.requests).toHaveLength(1);
    expect(deleted.requests).toHaveLength(1);
    expect((await allAttempts(tenant, pausedHook.id)).map((a) => a.attempt)).toEqual([1]);
  });
});
