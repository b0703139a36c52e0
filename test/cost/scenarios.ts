/**
 * The metered run: the stack synthesized with bundling and run by the Lambda suite's harness,
 * with the cost meter hooked in. Each scenario is a segment of the meter, driven only through the
 * HTTP API and the services the harness plays, so whatever the code does is what gets counted:
 *
 * - setup: tenants and webhooks are created (the secrets they leave are counted);
 * - fanout-1 / fanout-5: a tenant with 1 or 5 webhooks (every event type) publishes batches of
 *   events of a given size; every receiver answers 200 at once;
 * - failing: a tenant's one webhook answers 500 to everything; each fired schedule is played as
 *   EventBridge Scheduler would, until nothing is left to do (the whole ladder);
 * - reconciler: one run of each schedule rule's function, after the traffic (the stack has none now:
 *   on AWS nothing is re-queued by a sweep).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HooklineSettings } from '../../infra/stack/settings.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { Harness } from '../lambda/harness.ts';
import { synthesize } from '../lambda/synth.ts';
import { newTenant, newWebhook, publish, type SuiteTenant } from '../lambda/tenant-api.ts';
import { Meter, type Segment } from './meter.ts';
import { describeStack, physicalToShort, type StackInfo } from './stack.ts';
import { StorageTracker, type TableStorage } from './storage.ts';

export interface RunOptions {
  /** Publishes of the fan-out 1 and fan-out 5 scenarios (each `eventsPerPublish` events). */
  readonly publishes: number;
  readonly fanout5Publishes: number;
  readonly failingPublishes: number;
  readonly eventsPerPublish: number;
  /** Size of each published event's JSON (`{"event", "data"}`), in bytes. */
  readonly payloadBytes: number;
  /**
   * The retry ladder of the run: the default's shape (rungs SQS can delay, then one longer than
   * SQS can, through Scheduler) with short SQS rungs, so the run takes seconds.
   */
  readonly retryDelaysSeconds: readonly number[];
  readonly progress: (message: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  readonly fanout: number;
  readonly events: number;
  /** Successful deliveries (receiver answered 2xx). */
  readonly deliveries: number;
  readonly failedAttempts: number;
  readonly tenantId: string;
  readonly webhookIds: readonly string[];
  /** Markers of the tenant in partition keys and secret names: its id, its API key and the key's hashes. */
  readonly tenantMarkers: readonly string[];
  readonly wallMs: number;
  /** Time the containers' clocks moved (schedules fired jump it forward). */
  readonly clockMs: number;
  readonly storage: readonly TableStorage[];
  readonly segment: Segment;
}

export interface SetupResult {
  /** Live secrets after creating a tenant, then after its webhooks: (tenant, webhooks) -> secrets. */
  readonly secretsByShape: readonly { readonly webhooks: number; readonly secrets: number }[];
  readonly segment: Segment;
}

export interface RunResult {
  readonly stack: StackInfo;
  readonly settings: HooklineSettings;
  readonly setup: SetupResult;
  readonly scenarios: readonly ScenarioResult[];
  readonly reconciler: { readonly runs: number; readonly segment: Segment };
  /** A tenant publishing once every `stepMinutes` of the containers' clock for an hour: its secret reads. */
  readonly secretCache: { readonly tenantMarkers: readonly string[]; readonly webhookIds: readonly string[]; readonly publishes: number; readonly clockMs: number; readonly segment: Segment };
  /** Calls the meter could not account for (none expected). */
  readonly meterErrors: readonly string[];
  /** Function errors of event source mapping invocations (none expected). */
  readonly functionErrors: readonly string[];
  /** Cold start init times (ms) of each function on this machine. */
  readonly coldStartsMs: Readonly<Record<string, readonly number[]>>;
}

const ADMIN_KEY = `hkadm_${randomBytes(24).toString('base64url')}`;
const SENDER = 'hooks@example.com';

/** `{"event": type, "data": {...}}` of exactly `bytes` bytes (at least the bare minimum). */
/**
 * An event whose data is `bytes` of JSON shaped like a scanner's findings: repeated keys, host
 * names and CVE ids, and random ids and digests that do not compress. Padding of one repeated
 * character would compress to nothing and flatter the event store, which compresses the data.
 */
export function eventOfSize(type: string, bytes: number, n: number): { event: string; data: Record<string, unknown> } {
  const severities = ['low', 'medium', 'high', 'critical'];
  const data: { seq: number; scan_id: string; host: string; findings: Record<string, unknown>[] } = {
    seq: n,
    scan_id: randomUUID(),
    host: `host-${n % 997}.corp.example`,
    findings: [],
  };
  for (let i = 0; ; i++) {
    const finding = {
      cve: `CVE-20${20 + (i % 6)}-${10000 + ((n * 7 + i * 131) % 89999)}`,
      severity: severities[(n + i) % 4],
      port: [22, 80, 443, 3389, 8080][i % 5],
      digest: randomBytes(8).toString('hex'),
    };
    if (Buffer.byteLength(JSON.stringify({ event: type, data: { ...data, findings: [...data.findings, finding] } })) > bytes) break;
    data.findings.push(finding);
  }
  return { event: type, data };
}

async function inPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

export async function runScenarios(options: RunOptions): Promise<RunResult> {
  const settings: HooklineSettings = {
    retryDelaysSeconds: options.retryDelaysSeconds,
    senderEmail: SENDER,
    publicUrl: 'https://hooks.example.com',
    // The receivers are on 127.0.0.1.
    allowPrivateTargets: true,
  };
  const dir = mkdtempSync(join(tmpdir(), 'hookline-cost-'));
  const receivers: Receiver[] = [];
  let h: Harness | undefined;
  let meter: Meter | undefined;
  try {
    options.progress('synthesizing the stack with bundling');
    const model = await synthesize(join(dir, 'cdk.out'), 'Hookline', settings);
    const stack = describeStack(model);
    meter = new Meter(stack, physicalToShort(model));
    const adminSecret = model.physicalName(model.findByPath('AWS::SecretsManager::Secret', '/AdminApiKey/'));
    h = await Harness.start(model, { secretValues: { [adminSecret]: ADMIN_KEY }, verifiedIdentities: [SENDER], meter: meter.hooks() });
    meter.connect(h.standIns.dynamoOrigin);
    const harness = h;
    meter.instrumentHarnessSqs(h.standIns.sqs, (url) => [...harness.mappings].find(([, m]) => m.options.queueUrl === url)?.[0]);
    const storage = new StorageTracker(stack.tables, h.standIns.dynamoOrigin);
    await h.warm();

    options.progress('setup: tenants and webhooks');
    const liveSecrets = () => harness.fakes.secrets.names().length;
    const secretsByShape: { webhooks: number; secrets: number }[] = [];
    const tenantWith = async (webhooks: number, status: number) => {
      const before = liveSecrets();
      const receiver = await startReceiver({ status });
      receivers.push(receiver);
      const tenant = await newTenant(harness, ADMIN_KEY);
      const ids: string[] = [];
      for (let i = 0; i < webhooks; i++) ids.push((await newWebhook(harness, tenant.api, { url: `${receiver.url}/hook-${i}`, events: ['*'] })).id);
      secretsByShape.push({ webhooks, secrets: liveSecrets() - before });
      return { tenant, receiver, ids };
    };
    const one = await tenantWith(1, 200);
    const eventType = await firstEventType(one.tenant);
    const five = await tenantWith(5, 200);
    const failing = await tenantWith(1, 500);
    await h.settle();
    await storage.since(h.now().getTime());
    const setup: SetupResult = { secretsByShape, segment: meter.get('setup')! };

    const scenario = async (name: string, t: { tenant: SuiteTenant; receiver: Receiver; ids: string[] }, publishes: number) => {
      options.progress(`${name}: ${publishes} publishes of ${options.eventsPerPublish} events of ${options.payloadBytes} bytes to ${t.ids.length} webhook(s)`);
      const segment = meter!.segment(name);
      const wall = performance.now();
      const clock = harness.now().getTime();
      let seq = 0;
      await inPool(Array.from({ length: publishes }, (_, i) => i), 4, async () => {
        const events = Array.from({ length: options.eventsPerPublish }, () => eventOfSize(eventType, options.payloadBytes, seq++));
        await publish(harness, t.tenant.api, { events });
      });
      const events = publishes * options.eventsPerPublish;
      // Whole ladders: settle, fire what Scheduler holds, again until nothing is left.
      for (;;) {
        await harness.settle(600_000);
        const due = harness.fakes.scheduler.list();
        if (due.length === 0) break;
        options.progress(`${name}: firing ${due.length} schedule(s)`);
        for (const s of due) {
          await harness.fire(s);
          meter!.scheduleInvoked(s.group);
        }
      }
      const ok = t.receiver.requests.length;
      const result: ScenarioResult = {
        name,
        fanout: t.ids.length,
        events,
        deliveries: t === failing ? 0 : ok,
        failedAttempts: t === failing ? ok : 0,
        tenantId: t.tenant.id,
        webhookIds: t.ids,
        tenantMarkers: tenantMarkers(t.tenant),
        wallMs: performance.now() - wall,
        clockMs: harness.now().getTime() - clock,
        storage: await storage.since(harness.now().getTime()),
        segment,
      };
      return result;
    };
    const scenarios = [
      await scenario('fanout-1', one, options.publishes),
      await scenario('fanout-5', five, options.fanout5Publishes),
      await scenario('failing', failing, options.failingPublishes),
    ];

    options.progress('reconciler: one run of each schedule rule');
    const reconcilerSegment = meter.segment('reconciler');
    const rules = model.ofType('AWS::Events::Rule').filter((id) => model.resource(id).Properties?.ScheduleExpression);
    for (const id of rules) await h.runRule(id);
    await h.settle();

    // The caches' lifetimes show only over time: an hour of the containers' clock, a publish every 10 minutes.
    options.progress('secret-cache: a tenant with 5 webhooks publishing every 10 minutes for an hour of the clock');
    const cacheSegment = meter.segment('secret-cache');
    const clockStart = h.now().getTime();
    const CACHE_STEPS = 7;
    for (let i = 0; i < CACHE_STEPS; i++) {
      if (i > 0) h.advanceClock(10 * 60_000);
      await publish(h, five.tenant.api, { events: [eventOfSize(eventType, options.payloadBytes, i)] });
      await h.settle();
    }
    const secretCache = { tenantMarkers: tenantMarkers(five.tenant), webhookIds: five.ids, publishes: CACHE_STEPS, clockMs: h.now().getTime() - clockStart, segment: cacheSegment };
    meter.segment('after');
    const coldStartsMs = Object.fromEntries([...h.functions].map(([name, f]) => [name, [...f.container.coldStarts]]));
    return {
      stack,
      settings,
      setup,
      scenarios,
      reconciler: { runs: rules.length, segment: reconcilerSegment },
      secretCache,
      meterErrors: [...meter.errors],
      functionErrors: [...h.functionErrors],
      coldStartsMs,
    };
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
    await h?.close();
    meter?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first event type of the catalogue the stack serves, but the test event. */
async function firstEventType(tenant: SuiteTenant): Promise<string> {
  const res = await tenant.api.get('/api/v1/event-types');
  const types: string[] = (res.json?.items ?? []).map((t: { type: string }) => t.type).filter((t: string) => t !== 'webhook.test');
  if (types.length === 0) throw new Error(`GET /api/v1/event-types answered ${res.status}: ${res.text}`);
  return types[0]!;
}

/** How a tenant may show in a partition key or a secret name: its id, its API key, the key's SHA-256. */
function tenantMarkers(t: SuiteTenant): string[] {
  const digest = createHash('sha256').update(t.key).digest();
  return [t.id, t.key, digest.toString('hex'), digest.toString('base64url'), digest.toString('base64')];
}
