/**
 * Only when deliveries were lost: where each one stopped. First the runtime's deliveries log (its
 * public API), then its SQLite database read straight from the data dir (a second, read-only
 * connection: WAL lets it read while the runtime runs, so the runtime stays up for the rest of
 * the report): the event row (stored? fanned out?), the delivery row (created? attempts
 * started/completed? due when?) and the queues' messages for either. The stage of each lost
 * delivery is one of:
 *
 *   event not stored                      - a 202 was given for an event that is not in the table
 *   event stored, never fanned out        - no fanned_out_at, the event still due
 *   fanned out, delivery not created      - fanned_out_at set, no delivery row
 *   delivery created, never attempted     - pending, attempts_started = 0
 *   attempt claimed, never completed      - pending, attempts_started > attempts_completed
 *   retry scheduled, never made           - pending, attempts_started = attempts_completed > 0
 *   recorded succeeded, receiver saw no 2xx / failed / cancelled - a finished state
 *
 * followed, for work that is still owed, by where its message is: `(message queued)`,
 * `(message dead-lettered)` or `(no message queued)` (then only the reconciler can find it).
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DATABASE_FILE } from '../../infra/local/local-store.ts';
import { deliveryIdFor } from '../../shared/domain/ids.ts';
import type { Runtime } from '../support/runtime.ts';
import { attemptLog, type LoggedAttempt, type MissingPair } from './log.ts';

/** A message for the event or the delivery, on its queue or in the queue's dead letters. */
export interface QueuedMessage {
  readonly queue: string;
  readonly dead: boolean;
  readonly receiveCount: number;
  /** When it can next be received (queued) or when it was dead-lettered. */
  readonly at: string;
  readonly body: Record<string, unknown>;
}

export interface LostDelivery extends MissingPair {
  readonly deliveryId?: string;
  readonly stage: string;
  readonly event?: Record<string, unknown>;
  readonly delivery?: Record<string, unknown>;
  /** The messages of the event (events queue) and of the delivery (deliveries queue). */
  readonly messages: readonly QueuedMessage[];
  /** The webhook's log entries for this event, newest first. */
  readonly attempts: readonly LoggedAttempt[];
}

export interface Diagnosis {
  /** stage -> how many lost deliveries stopped there. */
  readonly stages: Record<string, number>;
  /** A few lost deliveries in full. */
  readonly samples: readonly LostDelivery[];
  readonly runtimeStderrTail: string;
}

const TENANT = 'default';
const SAMPLES = 5;

export async function diagnose(rt: Runtime, missing: readonly MissingPair[], progress: (m: string) => void): Promise<{ diagnosis: Diagnosis; runtime: Runtime }> {
  progress(`${missing.length} deliveries lost: reading the deliveries log and the database`);
  const wanted = new Map<string, Set<string>>();
  for (const m of missing) {
    let s = wanted.get(m.webhookId);
    if (!s) wanted.set(m.webhookId, (s = new Set()));
    s.add(m.eventId);
  }
  const logged = new Map<string, LoggedAttempt[]>();
  for (const [webhookId, events] of wanted) {
    for await (const a of attemptLog(rt, rt.apiKey, webhookId)) {
      if (!events.has(a.event_id)) continue;
      const key = `${webhookId} ${a.event_id}`;
      logged.set(key, [...(logged.get(key) ?? []), a]);
    }
  }
  const runtimeStderrTail = rt.stderr().slice(-4000);

  const db = new DatabaseSync(join(rt.dataDir, DATABASE_FILE), { readOnly: true });
  const lost: LostDelivery[] = [];
  try {
    const messages = messagesByKey(db);
    const eventRow = db.prepare('SELECT * FROM events WHERE tenant_id = ? AND event_id = ?');
    const deliveryRow = db.prepare('SELECT * FROM deliveries WHERE delivery_id = ?');
    for (const m of missing) {
      const event = eventRow.get(TENANT, m.eventId);
      // A delivery's id starts with its event's arrival time: without the event, there is none.
      const deliveryId = event ? deliveryIdFor(TENANT, m.eventId, m.webhookId, String(event['received_at'])) : undefined;
      const delivery = deliveryId ? deliveryRow.get(deliveryId) : undefined;
      const found = [...(messages.get(`event ${m.eventId}`) ?? []), ...(deliveryId ? (messages.get(`delivery ${deliveryId}`) ?? []) : [])];
      const stage = stageOf(event, delivery) + whereQueued(event, delivery, found);
      lost.push({ ...m, ...(deliveryId ? { deliveryId } : {}), stage, ...(event ? { event } : {}), ...(delivery ? { delivery } : {}), messages: found, attempts: logged.get(`${m.webhookId} ${m.eventId}`) ?? [] });
    }
  } finally {
    db.close();
  }
  const stages: Record<string, number> = {};
  for (const l of lost) stages[l.stage] = (stages[l.stage] ?? 0) + 1;
  // One sample per stage first, then more of the commonest.
  const samples: LostDelivery[] = [];
  for (const stage of Object.keys(stages)) samples.push(lost.find((l) => l.stage === stage)!);
  for (const l of lost) if (samples.length < SAMPLES && !samples.includes(l)) samples.push(l);
  return { diagnosis: { stages, samples, runtimeStderrTail }, runtime: rt };
}

/** Every message of both queues and their dead letters, read once, by `event <id>` or `delivery <id>`. */
function messagesByKey(db: DatabaseSync): Map<string, QueuedMessage[]> {
  const rows = [
    ...db.prepare('SELECT queue, body, receive_count, visible_at AS at, 0 AS dead FROM queue_messages').all(),
    ...db.prepare('SELECT queue, body, receive_count, dead_at AS at, 1 AS dead FROM queue_dead_letters').all(),
  ];
  const byKey = new Map<string, QueuedMessage[]>();
  for (const row of rows) {
    const body = JSON.parse(String(row['body'])) as Record<string, unknown>;
    const key = row['queue'] === 'events' ? `event ${String(body['id'])}` : `delivery ${String(body['delivery_id'])}`;
    const message: QueuedMessage = {
      queue: String(row['queue']),
      dead: row['dead'] === 1,
      receiveCount: Number(row['receive_count']),
      at: new Date(Number(row['at'])).toISOString(),
      body,
    };
    byKey.set(key, [...(byKey.get(key) ?? []), message]);
  }
  return byKey;
}

type Row = Record<string, unknown> | undefined;

function stageOf(event: Row, delivery: Row): string {
  if (!event) return 'event not stored';
  if (!delivery) return event['fanned_out_at'] ? 'fanned out, delivery not created' : 'event stored, never fanned out';
  const state = String(delivery['state']);
  const started = Number(delivery['attempts_started'] ?? 0);
  const completed = Number(delivery['attempts_completed'] ?? 0);
  if (state !== 'pending') return state === 'succeeded' ? 'recorded succeeded, receiver saw no 2xx' : `delivery ${state}`;
  if (started === 0) return 'delivery created, never attempted';
  if (started > completed) return 'attempt claimed, never completed';
  return 'retry scheduled, never made';
}

/** Where the message of the step still owed is (nothing for an event never stored or a finished delivery). */
function whereQueued(event: Row, delivery: Row, messages: readonly QueuedMessage[]): string {
  if (!event || (delivery && delivery['state'] !== 'pending')) return '';
  // The event's step, until the delivery exists; then the delivery's.
  const owed = messages.filter((m) => m.queue === (delivery ? 'deliveries' : 'events'));
  if (owed.some((m) => !m.dead)) return ' (message queued)';
  if (owed.length > 0) return ' (message dead-lettered)';
  return ' (no message queued)';
}
