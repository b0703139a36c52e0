/**
 * Helpers for the retry-ladder end-to-end tests (test/e2e/ladder*.test.ts): webhooks, events, the
 * deliveries log as a whole, and receivers answering each event with a programmed sequence.
 */
import { WEBHOOKS } from './hookline.ts';
import type { ReceivedRequest, ReceiverResponse, Responder } from './receiver.ts';
import { eventually, type Api } from './runtime.ts';

/** Creates a webhook; throws with the answer if it is not 201. */
export async function createWebhook(client: Api, body: Record<string, unknown>): Promise<any> {
  const res = await client.post(WEBHOOKS, body);
  if (res.status !== 201) throw new Error(`create webhook answered ${res.status}: ${res.text}`);
  return res.json;
}

/** Publishes one event or a batch (`{events: [...]}`); expects 202 and returns the ids. */
export async function publish(client: Api, body: unknown): Promise<string[]> {
  const res = await client.post('/v1/events', body);
  if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}: ${res.text}`);
  return res.json.ids as string[];
}

/** Every attempt in the deliveries log of a webhook (all pages), sorted by delivery then attempt. */
export async function allAttempts(client: Api, webhookId: string): Promise<any[]> {
  const items: any[] = [];
  for (let cursor = ''; ; ) {
    const res = await client.get(`${WEBHOOKS}/${webhookId}/deliveries?per_page=100${cursor && `&cursor=${cursor}`}`);
    if (res.status !== 200) throw new Error(`GET deliveries of ${webhookId} answered ${res.status}: ${res.text}`);
    items.push(...res.json.items);
    if (!res.json.next_cursor) break;
    cursor = res.json.next_cursor;
  }
  return items.sort((a, b) => (a.delivery_id === b.delivery_id ? a.attempt - b.attempt : a.delivery_id < b.delivery_id ? -1 : 1));
}

/** The attempts of one event, sorted by attempt number. */
export const attemptsOfEvent = (attempts: readonly any[], eventId: string): any[] =>
  attempts.filter((a) => a.event_id === eventId).sort((a, b) => a.attempt - b.attempt);

/** Polls the log until `done(attempts)` holds; returns the attempts then. */
export function waitForLog(client: Api, webhookId: string, what: string, done: (attempts: any[]) => boolean, timeoutMs = 10_000): Promise<any[]> {
  return eventually(
    `${what} (deliveries log of ${webhookId})`,
    async () => {
      const attempts = await allAttempts(client, webhookId);
      return done(attempts) ? attempts : undefined;
    },
    timeoutMs,
  );
}

export async function webhookStatus(client: Api, webhookId: string): Promise<string> {
  const res = await client.get(`${WEBHOOKS}/${webhookId}`);
  if (res.status !== 200) throw new Error(`GET webhook ${webhookId} answered ${res.status}: ${res.text}`);
  return res.json.status as string;
}

export function waitForStatus(client: Api, webhookId: string, status: string, timeoutMs = 10_000): Promise<string> {
  let last = '';
  return eventually(
    `webhook ${webhookId} to become ${status}`,
    async () => {
      last = await webhookStatus(client, webhookId);
      return last === status ? last : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last status: ${last})`);
  });
}

/** The requests that carried one event (Standard Webhooks' `webhook-id` is the event id). */
export const forEvent = (requests: readonly ReceivedRequest[], eventId: string): ReceivedRequest[] =>
  requests.filter((r) => r.headers['webhook-id'] === eventId);

/**
 * Answers the n-th request of each event (told apart by `webhook-id`) with `steps[n]`; the last
 * step repeats. `pick` may choose a different sequence per event.
 */
export function perEvent(steps: readonly (ReceiverResponse | number)[] | ((eventId: string) => readonly (ReceiverResponse | number)[])): Responder {
  const seen = new Map<string, number>();
  return (req) => {
    const id = String(req.headers['webhook-id'] ?? '');
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    const seq = typeof steps === 'function' ? steps(id) : steps;
    return seq[Math.min(n, seq.length - 1)];
  };
}

/** Milliseconds between consecutive arrivals. */
export const gaps = (requests: readonly ReceivedRequest[]): number[] =>
  requests.slice(1).map((r, i) => r.receivedAt - requests[i]!.receivedAt);

/** Asserts each gap is at least `minMs` (a lower bound only: slow machines are fine). */
export function expectGapsAtLeast(requests: readonly ReceivedRequest[], minMs: number): void {
  for (const gap of gaps(requests)) expect(gap).toBeGreaterThanOrEqual(minMs);
}
