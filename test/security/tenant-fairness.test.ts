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
/** Long enough that A's attempts are all still open when B's delivery is checked. */
const TIMEOUT_MS = 20_000;

let rt: Runtime;
const hanging: Probe[] = [];
let answering: Probe;

beforeAll(async () => {
  rt = await startRuntime({
    env: {
      HOOKLINE_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
      HOOKLINE_RETRY_DELAYS: '0',
      HOOKLINE_MAX_CONCURRENT_PER_TENANT: String(TENANT_CAP),
    },
  });
  for (let i = 0; i < 5; i++) hanging.push(await startProbe({ respond: () => ({ delayMs: 10 * TIMEOUT_MS }) }));
  answering = await startProbe();
});

afterAll(async () => {
  // Closing the probes first ends A's attempts, so the runtime stops without waiting them out.
  await Promise.all([...hanging, answering].map((p) => p?.close()));
  await rt?.cleanup();
});

const openAtA = () => hanging.reduce((sum, p) => sum + p.open(), 0);

describe(`per-tenant concurrency (HOOKLINE_MAX_CONCURRENT_PER_TENANT=${TENANT_CAP})`, () => {
  it("a tenant whose 5 webhooks never answer holds at most its cap, and another tenant's delivery goes through meanwhile", async () => {
    // Tenant A (the bootstrap tenant): 5 webhooks that hang, 150 deliveries, well over the
    // 80 records the dispatcher used to hold at once.
    const a = api(rt.baseUrl, rt.apiKey);
    for (const [i, probe] of hanging.entries()) await createWebhook(a, { url: `${probe.url}/a${i}`, events: ['scan.completed'] });
    await publish(a, { events: Array.from({ length: 30 }, (_, i) => ({ event: 'scan.completed', data: { i } })) });
    const started = Date.now();
    while (openAtA() < TENANT_CAP) {
      if (Date.now() - started > 10_000) throw new Error(`tenant A has only ${openAtA()} requests open`);
      await new Promise((r) => setTimeout(r, 50));
    }

    // Tenant B: one webhook that answers at once.
    const b = await createTenant(rt, 'fairness-b');
    await createWebhook(b.api, { url: `${answering.url}/b`, events: ['scan.completed'] });
    await publish(b.api, { event: 'scan.completed', data: { from: 'B' } });
    await answering.waitUntil("tenant B's delivery", (rs) => rs.length >= 1, 10_000);

    // B got it while A's receivers still held their requests open, well before A's timeouts.
    expect(openAtA()).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(answering.requests[0]!.json).toMatchObject({ data: { from: 'B' } });
    // A's requests never end before the timeout, so the maxima add up to A's most at once.
    const maxAtA = hanging.reduce((sum, p) => sum + p.maxOpen(), 0);
    expect(maxAtA).toBeLessThanOrEqual(TENANT_CAP);
    expect(hanging.reduce((sum, p) => sum + p.requests.length, 0)).toBeLessThanOrEqual(TENANT_CAP);
  });
});

/**
 * The one-machine dispatcher takes no more messages while 50 attempts wait for slots. Attempts to
 * a tenant whose endpoints hang must not take those places: a tenant full with nothing coming
 * free refuses at once, so another tenant's message behind thousands of them is still taken soon.
 */
describe('a backlog of 2,000 hanging deliveries ahead of another tenant', () => {
  const FLOOD_TIMEOUT_MS = 5_000;
  let flood: Runtime;
  const floodHanging: Probe[] = [];
  let floodAnswering: Probe;

  beforeAll(async () => {
    flood = await startRuntime({
      env: {
        HOOKLINE_REQUEST_TIMEOUT_MS: String(FLOOD_TIMEOUT_MS),
        HOOKLINE_RETRY_DELAYS: '0',
        HOOKLINE_MAX_CONCURRENT_PER_TENANT: String(TENANT_CAP),
      },
    });
    for (let i = 0; i < 5; i++) floodHanging.push(await startProbe({ respond: () => ({ delayMs: 10 * FLOOD_TIMEOUT_MS }) }));
    floodAnswering = await startProbe();
  });

  afterAll(async () => {
    await Promise.all([...floodHanging, floodAnswering].map((p) => p?.close()));
    await flood?.cleanup();
  });

  it("does not hold up the other tenant's delivery: it arrives before the first hanging attempt times out", async () => {
    const a = api(flood.baseUrl, flood.apiKey);
    for (const [i, probe] of floodHanging.entries()) await createWebhook(a, { url: `${probe.url}/a${i}`, events: ['scan.completed'] });
    for (let i = 0; i < 4; i++) {
      await publish(a, { events: Array.from({ length: 100 }, (_, k) => ({ event: 'scan.completed', data: { i: i * 100 + k } })) });
    }
    const started = Date.now();
    const open = () => floodHanging.reduce((sum, p) => sum + p.open(), 0);
    while (open() < TENANT_CAP) {
      if (Date.now() - started > 10_000) throw new Error(`tenant A has only ${open()} requests open`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const b = await createTenant(flood, 'flood-b');
    await createWebhook(b.api, { url: `${floodAnswering.url}/b`, events: ['scan.completed'] });
    await publish(b.api, { event: 'scan.completed', data: { from: 'B' } });
    await floodAnswering.waitUntil("tenant B's delivery", (rs) => rs.length >= 1, 10_000);

    expect(Date.now() - started).toBeLessThan(FLOOD_TIMEOUT_MS);
    expect(floodAnswering.requests[0]!.json).toMatchObject({ data: { from: 'B' } });
  });
});
