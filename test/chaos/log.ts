/** The runtime's deliveries log through its public API, and what a lost delivery is. */
import { api, type Runtime } from '../support/runtime.ts';
import type { ChaosReceiver } from './receivers.ts';

export const WEBHOOKS = '/api/v1/integrations/webhooks';

export interface LoggedAttempt {
  readonly delivery_id: string;
  readonly event_id: string;
  readonly attempt: number;
  readonly success: boolean;
  readonly status_code: number | null;
  readonly error?: string;
  readonly attempted_at: string;
  readonly next_attempt_at?: string;
}

/** Every attempt in a webhook's deliveries log, newest first. */
export async function* attemptLog(rt: Runtime, apiKey: string, webhookId: string): AsyncGenerator<LoggedAttempt> {
  const client = api(rt.baseUrl, apiKey);
  // By cursor: page numbers stop at 1000 attempts.
  for (let cursor = ''; ; ) {
    const res = await client.get(`${WEBHOOKS}/${webhookId}/deliveries?per_page=100${cursor && `&cursor=${cursor}`}`);
    if (res.status !== 200) throw new Error(`deliveries log of ${webhookId}, page ${res.json?.page}: ${res.status} ${res.text}`);
    yield* res.json.items as LoggedAttempt[];
    if (!res.json.next_cursor) return;
    cursor = res.json.next_cursor;
  }
}

export interface MissingPair {
  readonly webhookId: string;
  readonly receiverUrl: string;
  readonly eventId: string;
  /** Requests the receiver got for it (none answered 2xx). */
  readonly requests: number;
}

/** Log entries, over every webhook's whole log, whose (delivery, attempt number) an earlier entry has. */
export async function countRepeatedAttemptNumbers(rt: Runtime, apiKey: string, webhookIds: readonly string[]): Promise<number> {
  let repeated = 0;
  for (const id of webhookIds) {
    const seen = new Set<string>();
    for await (const a of attemptLog(rt, apiKey, id)) {
      const key = `${a.delivery_id}#${a.attempt}`;
      if (seen.has(key)) repeated++;
      else seen.add(key);
    }
  }
  return repeated;
}

/**
 * webhook id -> event ids whose delivery exhausted its ladder: the runtime's log shows the last
 * rung failed with no next attempt. Reads the logs of failing webhooks only, unless `all`.
 */
export async function findExhausted(rt: Runtime, apiKey: string, webhookIds: readonly string[], rungs: number, all: boolean): Promise<Map<string, Set<string>>> {
  const client = api(rt.baseUrl, apiKey);
  const found = new Map<string, Set<string>>();
  const list = await client.get(`${WEBHOOKS}?per_page=100`);
  if (list.status !== 200) return found;
  const failing = new Set<string>((list.json.items as { id: string; status: string }[]).filter((w) => w.status === 'failing').map((w) => w.id));
  for (const id of webhookIds) {
    if (!all && !failing.has(id)) continue;
    for await (const a of attemptLog(rt, apiKey, id)) {
      if (!a.success && a.attempt >= rungs && !a.next_attempt_at) {
        let set = found.get(id);
        if (!set) found.set(id, (set = new Set()));
        set.add(a.event_id);
      }
    }
  }
  return found;
}

/** Deliveries the receivers never answered 2xx among those the log shows exhausted. */
export function countMissing(receivers: readonly ChaosReceiver[], webhookIds: readonly string[], exhausted: Map<string, Set<string>>): number {
  let n = 0;
  webhookIds.forEach((id, i) => {
    for (const eventId of exhausted.get(id) ?? []) if (!receivers[i]!.ok.has(eventId)) n++;
  });
  return n;
}

/** The (webhook, event) pairs no receiver answered 2xx and no exhausted ladder explains. */
export function missingPairs(
  receivers: readonly ChaosReceiver[],
  webhookIds: readonly string[],
  eventIds: readonly string[],
  exhausted: Map<string, Set<string>>,
): MissingPair[] {
  const out: MissingPair[] = [];
  webhookIds.forEach((webhookId, i) => {
    const r = receivers[i]!;
    for (const eventId of eventIds) {
      if (!r.ok.has(eventId) && !exhausted.get(webhookId)?.has(eventId)) {
        out.push({ webhookId, receiverUrl: r.url, eventId, requests: r.requests.get(eventId) ?? 0 });
      }
    }
  });
  return out;
}
