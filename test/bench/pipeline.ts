import { Agent, request } from 'undici';
import type { Receiver } from './receivers.ts';
import { percentile, sleep } from './stats.ts';

const BATCH = 100;

export interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const latenciesOf = (sorted: readonly number[]): Latencies => ({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN });

export interface PipelineResult {
  readonly events: number;
  readonly webhooks: number;
  readonly expected: number;
  readonly accepted: number;
  readonly publishErrors: string[];
  readonly ingestMs: number;
  /** First publish request sent -> last delivery received (Date.now() clock). */
  readonly endToEndMs: number;
  readonly delivered: number;
  readonly duplicates: number;
  /** Publish sent -> receipt, of the events after the warm-up. */
  readonly latencies: Latencies;
  /** The same of the first `warmupEvents` (paced runs): counted as delivered, not in `latencies`. */
  readonly warmup?: { readonly events: number; readonly latencies: Latencies };
  readonly avgBodyBytes: number;
  readonly timedOut: boolean;
  /** Per webhook: how many deliveries never arrived, and a few of their event ids. */
  readonly missing: { url: string; count: number; sample: string[] }[];
}

async function api(baseUrl: string, key: string, dispatcher: Agent, method: 'POST' | 'GET', path: string, body?: unknown) {
  const res = await request(`${baseUrl}${path}`, {
    method,
    dispatcher,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A tenant made with the admin key; returns its API key. */
export async function createTenant(baseUrl: string, adminKey: string, name: string): Promise<string> {
  const agent = new Agent({ connections: 1 });
  try {
    const res = await api(baseUrl, adminKey, agent, 'POST', '/admin/v1/tenants', { name, owner_email: `owner@${name}.example` });
    if (res.status !== 201) throw new Error(`creating tenant ${name}: ${res.status} ${JSON.stringify(res.json)}`);
    return String(res.json['api_key']);
  } finally {
    await agent.close();
  }
}

export async function registerWebhooks(baseUrl: string, key: string, receivers: readonly Pick<Receiver, 'url'>[]): Promise<string[]> {
  const agent = new Agent({ connections: 4 });
  try {
    const ids: string[] = [];
    for (const [i, r] of receivers.entries()) {
      const res = await api(baseUrl, key, agent, 'POST', '/api/v1/integrations/webhooks', {
        url: r.url,
        events: ['*'],
        description: `bench receiver ${i + 1}`,
      });
      if (res.status !== 201) throw new Error(`creating webhook ${i + 1}: ${res.status} ${JSON.stringify(res.json)}`);
      ids.push(String(res.json['id']));
    }
    return ids;
  } finally {
    await agent.close();
  }
}

export async function runPipeline(options: {
  baseUrl: string;
  apiKey: string;
  receivers: readonly Receiver[];
  events: number;
  publishers: number;
  timeoutMs: number;
  progress: (message: string) => void;
  /** Publish at this steady rate, in requests of `batch` events (default: all at once, 100 a request). */
  pace?: { eventsPerSecond: number; batch: number };
  /**
   * The first events of a paced run, whose latencies are reported apart: the runtime's warm-up
   * for the run's traffic (V8 compiles the functions that one event a request makes hot).
   * @default 0
   */
  warmupEvents?: number;
  /** API keys of other tenants that publish the same events alongside (their deliveries are not measured). */
  neighbours?: readonly string[];
}): Promise<PipelineResult> {
  const { baseUrl, apiKey, receivers, events } = options;
  const runId = Date.now().toString(36);
  const eventId = (i: number) => `bench-${runId}-${i}`;
  const sentAt = new Map<string, number>();
  const publishErrors: string[] = [];
  let accepted = 0;
  const agent = new Agent({ connections: options.publishers, keepAliveTimeout: 30_000 });

  let next = 0;
  const firstSend = Date.now();
  const t0 = performance.now();
  const batchSize = options.pace?.batch ?? BATCH;
  const publisher = async () => {
    while (next < events) {
      const from = next;
      const to = Math.min(events, from + batchSize);
      next = to;
      if (options.pace) await sleep(firstSend + (from / options.pace.eventsPerSecond) * 1000 - Date.now());
      const sent = Date.now();
      const batch: { id: string; event: string; data: Record<string, unknown> }[] = [];
      for (let i = from; i < to; i++) {
        batch.push({
          id: eventId(i),
          event: 'scan.completed',
          data: { scan_id: `scan-${i}`, target: `10.0.${(i >> 8) & 255}.${i & 255}`, findings: i % 7, sent_at_ms: sent },
        });
        sentAt.set(eventId(i), sent);
      }
      try {
        const [res] = await Promise.all([
          api(baseUrl, apiKey, agent, 'POST', '/v1/events', { events: batch }),
          ...(options.neighbours ?? []).map((key) => api(baseUrl, key, agent, 'POST', '/v1/events', { events: batch })),
        ]);
        if (res.status === 202) accepted += to - from;
        else publishErrors.push(`batch ${from}-${to - 1}: HTTP ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
      } catch (err) {
        publishErrors.push(`batch ${from}-${to - 1}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.publishers }, publisher));
  const ingestMs = performance.now() - t0;
  await agent.close();
  options.progress(`published ${accepted}/${events} events in ${(ingestMs / 1000).toFixed(1)} s; waiting for deliveries`);

  const expected = accepted * receivers.length;
  const count = () => receivers.reduce((n, r) => n + r.arrivals.size, 0);
  const deadline = Date.now() + options.timeoutMs;
  let lastReport = Date.now();
  let timedOut = false;
  while (count() < expected) {
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    if (Date.now() - lastReport >= 10_000) {
      options.progress(`${count()}/${expected} deliveries after ${((Date.now() - firstSend) / 1000).toFixed(0)} s`);
      lastReport = Date.now();
    }
    await sleep(50);
  }
  // A moment more, so duplicates that trail the last first-arrival are counted too.
  await sleep(timedOut ? 0 : 500);

  const warmupEvents = options.warmupEvents ?? 0;
  const warmupIds = new Set(Array.from({ length: Math.min(warmupEvents, events) }, (_, i) => eventId(i)));
  const latencies: number[] = [];
  const warmupLatencies: number[] = [];
  let lastArrival = firstSend;
  const missing: PipelineResult['missing'] = [];
  for (const r of receivers) {
    for (const [id, at] of r.arrivals) {
      const s = sentAt.get(id);
      if (s === undefined) continue;
      (warmupIds.has(id) ? warmupLatencies : latencies).push(at - s);
      if (at > lastArrival) lastArrival = at;
    }
    const lost: string[] = [];
    for (const id of sentAt.keys()) if (!r.arrivals.has(id)) lost.push(id);
    if (lost.length > 0) missing.push({ url: r.url, count: lost.length, sample: lost.slice(0, 5) });
  }
  latencies.sort((a, b) => a - b);
  warmupLatencies.sort((a, b) => a - b);
  const bodies = receivers.reduce((n, r) => n + r.bodies, 0);
  return {
    events,
    webhooks: receivers.length,
    expected: events * receivers.length,
    accepted,
    publishErrors,
    ingestMs,
    endToEndMs: lastArrival - firstSend,
    delivered: latencies.length + warmupLatencies.length,
    duplicates: receivers.reduce((n, r) => n + r.duplicates, 0),
    latencies: latenciesOf(latencies),
    ...(warmupIds.size > 0 ? { warmup: { events: warmupIds.size, latencies: latenciesOf(warmupLatencies) } } : {}),
    avgBodyBytes: bodies ? Math.round(receivers.reduce((n, r) => n + r.bodyBytes, 0) / bodies) : 0,
    timedOut,
    missing,
  };
}
