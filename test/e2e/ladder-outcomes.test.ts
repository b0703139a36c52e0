/**
 * The retry ladder end to end (CONTRACT.md section 6), through the one-machine runtime with a
 * ladder of fractions of a second: retried until a success, exhausted (failing + one email),
 * healthy again on the next success, and the manual retry / recover of exhausted deliveries.
 * Spacing is asserted as lower bounds only.
 */
import { createTenant, WEBHOOKS } from '../support/hookline.ts';
import {
  allAttempts,
  attemptsOfEvent,
  createWebhook,
  expectGapsAtLeast,
  forEvent,
  perEvent,
  publish,
  waitForLog,
  waitForStatus,
  webhookStatus,
} from '../support/ladder.ts';
import { emailsMentioning, readOutbox } from '../support/outbox.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, sleep, startRuntime, type Api, type Runtime } from '../support/runtime.ts';

const OWNER = 'ladder-owner@example.com';
/** Seconds before attempts 1..5. */
const LADDER = '0,0.3,0.3,0.3,0.3';
/** A rung is 300 ms; arrivals may be a little early relative to each other only by timer jitter. */
const MIN_GAP_MS = 250;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let rt: Runtime;
let tenant: Api;
const receivers: Receiver[] = [];

async function receiver(options: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(options);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  rt = await startRuntime({ env: { HOOKLINE_RETRY_DELAYS: LADDER, HOOKLINE_OWNER_EMAIL: OWNER } });
  tenant = api(rt.baseUrl, rt.apiKey);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await rt?.cleanup();
});

describe('a delivery that fails twice, then succeeds', () => {
  it('is tried 3 times with the same webhook-id, logged as attempts 1-3, and leaves the webhook healthy without an email', async () => {
    const r = await receiver({ respond: perEvent([500, 500, 200]) });
    const hook = await createWebhook(tenant, { url: `${r.url}/hooks/flaky`, events: ['scan.completed'] });
    const [eventId] = await publish(tenant, { event: 'scan.completed', data: { scan_id: 'flaky' } });

    const requests = await r.waitFor(3);
    expect(requests.map((q) => q.headers['webhook-id'])).toEqual([eventId, eventId, eventId]);
    expectGapsAtLeast(requests, MIN_GAP_MS);

    const log = await waitForLog(tenant, hook.id, '3 attempts', (a) => a.length >= 3);
    expect(log).toHaveLength(3);
    expect(log.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(log.map((a) => a.success)).toEqual([false, false, true]);
    expect(log.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(log.map((a) => a.trigger)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    expect(new Set(log.map((a) => a.delivery_id)).size).toBe(1);
    expect(log.every((a) => a.event_id === eventId && a.event === 'scan.completed')).toBe(true);
    for (const failed of log.slice(0, 2)) {
      expect(failed.next_attempt_at).toMatch(ISO);
      // The next rung is 0.3 s after this attempt.
      expect(Date.parse(failed.next_attempt_at) - Date.parse(failed.attempted_at)).toBeGreaterThanOrEqual(MIN_GAP_MS);
      expect(typeof failed.response_time_ms).toBe('number');
    }
    expect(log[2].next_attempt_at).toBeUndefined();

    await sleep(500);
    expect(r.requests).toHaveLength(3);
    expect(await webhookStatus(tenant, hook.id)).toBe('healthy');
    // The first test of this runtime: nothing has been emailed at all.
    expect(await readOutbox(rt.dataDir)).toEqual([]);
  });
});

describe('a delivery that exhausts its ladder', () => {
  let failing: { hook: any; r: Receiver; eventId: string };

  it('is tried exactly 5 times, rungs apart, then the webhook is failing and its owner gets one email', async () => {
    const r = await receiver({ status: 500 });
    const url = `${r.url}/hooks/always-500`;
    const hook = await createWebhook(tenant, { url, events: ['scan.failed'], description: 'always down' });
    const [eventId] = await publish(tenant, { event: 'scan.failed', data: { scan_id: 'down' } });
    failing = { hook, r, eventId: eventId! };

    const requests = await r.waitFor(5);
    expect(requests.map((q) => q.headers['webhook-id'])).toEqual(Array(5).fill(eventId));
    expectGapsAtLeast(requests, MIN_GAP_MS);
    await waitForStatus(tenant, hook.id, 'failing');
    await sleep(1_000);
    expect(r.requests).toHaveLength(5);

    const log = await allAttempts(tenant, hook.id);
    expect(log.map((a) => [a.attempt, a.success, a.status_code])).toEqual([1, 2, 3, 4, 5].map((n) => [n, false, 500]));
    expect(log.slice(0, 4).every((a) => typeof a.next_attempt_at === 'string')).toBe(true);
    expect(log[4].next_attempt_at).toBeUndefined();

    const outbox = await readOutbox(rt.dataDir);
    expect(outbox).toHaveLength(1);
    const [email] = outbox;
    expect(email!.to).toBe(OWNER);
    expect(email!.subject).toContain(hook.id);
    expect(email!.text).toContain(hook.id);
    // The receiver by its origin only: the path and query are the tenant's text (CONTRACT.md section 6).
    expect(email!.text).toContain(`${new URL(url).origin} (path not shown)`);
    expect(email!.subject + email!.text).not.toContain('/hooks/always-500');
    expect(email!.text).toContain('scan.failed');
    expect(email!.text).toContain(eventId);
    const lines = email!.text.split('\n').filter((l) => /^\s*#\d+\s/.test(l));
    expect(lines).toHaveLength(5);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^\\s*#${i + 1}\\s`));
      expect(line).toContain('HTTP 500');
    });
  });

  it('sends still exactly one email when 10 deliveries to one webhook exhaust together', async () => {
    const r = await receiver({ status: 500 });
    const hook = await createWebhook(tenant, { url: `${r.url}/hooks/batch-500`, events: ['device.discovered'] });
    const ids = await publish(tenant, { events: Array.from({ length: 10 }, (_, i) => ({ event: 'device.discovered', data: { n: i } })) });
    expect(ids).toHaveLength(10);

    await r.waitFor(50, 20_000);
    const log = await waitForLog(tenant, hook.id, 'attempt 5 of all 10 events', (a) => a.filter((x) => x.attempt === 5).length === 10, 15_000);
    for (const id of ids) expect(attemptsOfEvent(log, id).map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    await waitForStatus(tenant, hook.id, 'failing');
    await sleep(1_000);
    expect(r.requests).toHaveLength(50);
    const emails = await emailsMentioning(rt.dataDir, hook.id);
    expect(emails.map((e) => e.subject)).toHaveLength(1);
    expect(emails[0]!.to).toBe(OWNER);
  });

  it('becomes healthy again with the first later success, and no new email is sent', async () => {
    expect(failing).toBeDefined();
    const { hook, r } = failing;
    expect(await webhookStatus(tenant, hook.id)).toBe('failing');
    const emailsBefore = (await readOutbox(rt.dataDir)).length;

    r.setStatus(200);
    const [eventId] = await publish(tenant, { event: 'scan.failed', data: { scan_id: 'back' } });
    const requests = await r.waitFor(6);
    expect(requests[5]!.headers['webhook-id']).toBe(eventId);
    await waitForStatus(tenant, hook.id, 'healthy');
    const log = await waitForLog(tenant, hook.id, 'the success', (a) => attemptsOfEvent(a, eventId!).length === 1);
    expect(attemptsOfEvent(log, eventId!)).toMatchObject([{ attempt: 1, success: true, status_code: 200 }]);

    await sleep(500);
    expect(await readOutbox(rt.dataDir)).toHaveLength(emailsBefore);
    expect(await emailsMentioning(rt.dataDir, hook.id)).toHaveLength(1);
  });
});

describe('manual retry and recover', () => {
  it('retries one exhausted delivery once (attempt 6, manual) and refuses a pending, foreign or unknown one', async () => {
    const r = await receiver({ status: 500 });
    const hook = await createWebhook(tenant, { url: `${r.url}/hooks/retry-me`, events: ['backup.failed'] });
    const [eventId] = await publish(tenant, { event: 'backup.failed', data: { job: 'nightly' } });

    // While the ladder still runs, a manual retry is refused.
    await r.waitFor(1);
    const first = await waitForLog(tenant, hook.id, 'attempt 1', (a) => a.length >= 1);
    const deliveryId: string = first[0].delivery_id;
    const retryPath = `${WEBHOOKS}/${hook.id}/deliveries/${deliveryId}/retry`;
    const early = await tenant.post(retryPath);
    expect(early.status).toBe(409);

    await r.waitFor(5);
    // `failing` is set after the delivery is recorded as failed.
    await waitForStatus(tenant, hook.id, 'failing');
    await sleep(300);
    expect(r.requests).toHaveLength(5);

    // Another tenant cannot retry it, neither through this webhook nor through one of its own.
    const other = await createTenant(rt);
    const otherHook = await createWebhook(other.api, { url: `${r.url}/hooks/other`, events: ['backup.failed'] });
    expect((await other.api.post(retryPath)).status).toBe(404);
    expect((await other.api.post(`${WEBHOOKS}/${otherHook.id}/deliveries/${deliveryId}/retry`)).status).toBe(404);
    expect((await tenant.post(`${WEBHOOKS}/${hook.id}/deliveries/dlv_does_not_exist/retry`)).status).toBe(404);
    await sleep(500);
    expect(r.requests).toHaveLength(5);

    r.setStatus(200);
    const retried = await tenant.post(retryPath);
    expect(retried.status).toBe(202);
    expect(retried.json).toEqual({ delivery_id: deliveryId, attempt: 6 });

    const requests = await r.waitFor(6);
    expect(requests[5]!.headers['webhook-id']).toBe(eventId);
    const log = await waitForLog(tenant, hook.id, 'attempt 6', (a) => a.some((x) => x.attempt === 6));
    expect(log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log[5]).toMatchObject({ delivery_id: deliveryId, event_id: eventId, attempt: 6, trigger: 'manual', success: true, status_code: 200 });
    expect(log.slice(0, 5).every((a) => a.trigger === 'scheduled' && a.success === false)).toBe(true);
    await waitForStatus(tenant, hook.id, 'healthy');
    await sleep(500);
    expect(r.requests).toHaveLength(6);
  });

  it('recovers every exhausted delivery since a time: 202 {queued: 2}, both arrive again; a bad since is 400', async () => {
    const r = await receiver({ status: 500 });
    const hook = await createWebhook(tenant, { url: `${r.url}/hooks/recover-me`, events: ['backup.failed'] });
    const since = new Date(Date.now() - 1_000).toISOString();
    const ids = await publish(tenant, { events: [{ event: 'backup.failed', data: { n: 1 } }, { event: 'backup.failed', data: { n: 2 } }] });

    await r.waitFor(10);
    await waitForLog(tenant, hook.id, 'attempt 5 of both', (a) => a.filter((x) => x.attempt === 5).length === 2);
    await waitForStatus(tenant, hook.id, 'failing');
    // Let the second delivery's completion land after its logged attempt.
    await sleep(500);

    const path = `${WEBHOOKS}/${hook.id}/recover`;
    const bad = await tenant.post(path, { since: 'yesterday' });
    expect(bad.status).toBe(400);
    expect((await tenant.post(path, {})).status).toBe(400);
    expect(r.requests).toHaveLength(10);

    r.setStatus(200);
    const res = await tenant.post(path, { since });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ queued: 2 });

    const requests = await r.waitFor(12);
    for (const id of ids) expect(forEvent(requests, id)).toHaveLength(6);
    const log = await waitForLog(tenant, hook.id, 'attempt 6 of both', (a) => a.filter((x) => x.attempt === 6).length === 2);
    for (const id of ids) {
      expect(attemptsOfEvent(log, id).map((a) => [a.attempt, a.trigger, a.success])).toEqual([
        [1, 'scheduled', false],
        [2, 'scheduled', false],
        [3, 'scheduled', false],
        [4, 'scheduled', false],
        [5, 'scheduled', false],
        [6, 'manual', true],
      ]);
    }
    await sleep(500);
    expect(r.requests).toHaveLength(12);
  });
});
