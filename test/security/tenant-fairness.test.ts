/**
 * Issue 8, fairness between tenants: one tenant's endpoints that never answer used to hold every
 * dispatcher worker, so another tenant's delivery waited for their timeouts (19.6 s at 200 in
 * flight). Now a tenant has at most HOOKLINE_MAX_CONCURRENT_PER_TENANT attempts in flight, and the
 * one-machine dispatcher always has room beyond it. Receivers are on 127.0.0.1 only.
 */
import { createTenant, createWebhook, publish } from '../support/hookline.ts';
import { api, startRuntime, type Runtime } from '../support/runtime.ts';
import { startProbe, type Probe } from './helpers.ts';

const TENANT_CAP = 25;

/**
 * A runtime whose tenant cap is TENANT_CAP and whose attempts time out after `timeoutMs`, five
 * receivers that never answer (tenant A's) and one that answers at once (tenant B's).
 */
function useFairnessRig(timeoutMs: number) {
  const rig = { rt: undefined as Runtime | undefined, hanging: [] as Probe[], answering: undefined as Probe | undefined };
  beforeAll(async () => {
    rig.rt = await startRuntime({
      env: {
        HOOKLINE_REQUEST_TIMEOUT_MS: String(timeoutMs),
        HOOKLINE_RETRY_DELAYS: '0',
        HOOKLINE_MAX_CONCURRENT_PER_TENANT: String(TENANT_CAP),
      },
    });
    for (let i = 0; i < 5; i++) rig.hanging.push(await startProbe({ respond: () => ({ delayMs: 10 * timeoutMs }) }));
    rig.answering = await startProbe();
  });
  afterAll(async () => {
    // Closing the probes first ends A's attempts, so the runtime stops without waiting them out.
    await Promise.all([...rig.hanging, rig.answering].map((p) => p?.close()));
    await rig.rt?.cleanup();
  });
  return rig;
}

/**
 * Tenant A (the bootstrap tenant) gets a webhook on each hanging receiver and publishes `events`
 * events, 100 a request; once A holds its cap of requests open, tenant B publishes one event to
 * its own webhook. Resolves once B's delivery arrived, with the time since A reached its cap.
 */
async function aThenB(rig: ReturnType<typeof useFairnessRig>, events: number): Promise<{ msSinceAFull: number; openAtA: () => number }> {
  const rt = rig.rt!;
  const answering = rig.answering!;
  const openAtA = () => rig.hanging.reduce((sum, p) => sum + p.open(), 0);
  const a = api(rt.baseUrl, rt.apiKey);
  for (const [i, probe] of rig.hanging.entries()) await createWebhook(a, { url: `${probe.url}/a${i}`, events: ['scan.completed'] });
  for (let from = 0; from < events; from += 100) {
    await publish(a, { events: Array.from({ length: Math.min(100, events - from) }, (_, k) => ({ event: 'scan.completed', data: { i: from + k } })) });
  }
  const started = Date.now();
  while (openAtA() < TENANT_CAP) {
    if (Date.now() - started > 10_000) throw new Error(`tenant A has only ${openAtA()} requests open`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const b = await createTenant(rt, `fairness-b-${events}`);
  await createWebhook(b.api, { url: `${answering.url}/b`, events: ['scan.completed'] });
  await publish(b.api, { event: 'scan.completed', data: { from: 'B' } });
  await answering.waitUntil("tenant B's delivery", (rs) => rs.length >= 1, 10_000);
  expect(answering.requests[0]!.json).toMatchObject({ data: { from: 'B' } });
  return { msSinceAFull: Date.now() - started, openAtA };
}

describe(`per-tenant concurrency (HOOKLINE_MAX_CONCURRENT_PER_TENANT=${TENANT_CAP})`, () => {
  /** Long enough that A's attempts are all still open when B's delivery is checked. */
  const TIMEOUT_MS = 20_000;
  const rig = useFairnessRig(TIMEOUT_MS);

  it("a tenant whose 5 webhooks never answer holds at most its cap, and another tenant's delivery goes through meanwhile", async () => {
    // A: 150 deliveries, well over the 80 records the dispatcher used to hold at once.
    const { msSinceAFull, openAtA } = await aThenB(rig, 30);

    // B got it while A's receivers still held their requests open, well before A's timeouts.
    expect(openAtA()).toBeGreaterThan(0);
    expect(msSinceAFull).toBeLessThan(TIMEOUT_MS);
    // A's requests never end before the timeout, so the maxima add up to A's most at once.
    const maxAtA = rig.hanging.reduce((sum, p) => sum + p.maxOpen(), 0);
    expect(maxAtA).toBeLessThanOrEqual(TENANT_CAP);
    expect(rig.hanging.reduce((sum, p) => sum + p.requests.length, 0)).toBeLessThanOrEqual(TENANT_CAP);
  });
});

/**
 * The one-machine dispatcher takes no more messages while 50 attempts wait for slots. Attempts to
 * a tenant whose endpoints hang must not take those places: a tenant full with nothing coming
 * free refuses at once, so another tenant's message behind thousands of them is still taken soon.
 */
describe('a backlog of 2,000 hanging deliveries ahead of another tenant', () => {
  const TIMEOUT_MS = 5_000;
  const rig = useFairnessRig(TIMEOUT_MS);

  it("does not hold up the other tenant's delivery: it arrives before the first hanging attempt times out", async () => {
    const { msSinceAFull } = await aThenB(rig, 400);
    expect(msSinceAFull).toBeLessThan(TIMEOUT_MS);
  });
});
