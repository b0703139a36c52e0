/**
 * Only when deliveries were lost: where each one stopped. First the runtime's deliveries log (its
 * public API), then, with the runtime stopped, its DynamoDB state read straight from the data dir
 * (dynalite on the same LevelDB files): the event item (stored? fanned out?) and the delivery item
 * (created? attempts started/completed? due when?). The stage of each lost delivery is one of:
 *
 *   event not stored                      - a 202 was given for an event that is not in the table
 *   event stored, never fanned out        - no fanned_out_at, the event still in the due index
 *   fanned out, delivery not created      - fanned_out_at set, no delivery item
 *   delivery created, never attempted     - pending, attempts_started = 0
 *   attempt claimed, never completed      - pending, attempts_started > attempts_completed
 *   retry scheduled, never made           - pending, attempts_started = attempts_completed > 0
 *   recorded succeeded, receiver saw no 2xx / failed / cancelled - a finished state
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DUE_INDEX, DUE_SHARDS } from '../../shared/adapters/aws/tables.ts';
import { deliveryIdFor } from '../../shared/domain/ids.ts';
import type { Runtime } from '../support/runtime.ts';
import { attemptLog, type LoggedAttempt, type MissingPair } from './log.ts';

export interface LostDelivery extends MissingPair {
  readonly deliveryId: string;
  readonly stage: string;
  readonly event?: Record<string, unknown>;
  readonly delivery?: Record<string, unknown>;
  /** The delivery's entries in the sparse `due` index (which the reconciler reads), if any. */
  readonly dueIndex?: readonly Record<string, unknown>[];
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
/** Lost deliveries whose due-index entries are looked up (each reads the whole index). */
const INDEX_CHECKS = 20;

async function indexEntries(doc: DynamoDBDocumentClient, deliveryId: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (let shard = 0; shard < DUE_SHARDS; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out: QueryCommandOutput = await doc.send(
        new QueryCommand({
          TableName: 'hookline-deliveries',
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'due_shard = :s',
          ExpressionAttributeValues: { ':s': `due#${shard}` },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) if (item['delivery_id'] === deliveryId) found.push(item);
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return found;
}
const SAMPLES = 5;

export async function diagnose(rt: Runtime, missing: readonly MissingPair[], progress: (m: string) => void): Promise<{ diagnosis: Diagnosis; runtime: Runtime }> {
  progress(`${missing.length} deliveries lost: reading the deliveries log and the tables`);
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
  await rt.stop();

  const db = dynalite({ path: join(rt.dataDir, 'dynamodb'), createTableMs: 0 });
  await new Promise<void>((resolve) => db.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(client);
  const lost: LostDelivery[] = [];
  try {
    for (const m of missing) {
      const deliveryId = deliveryIdFor(TENANT, m.eventId, m.webhookId);
      const [event, delivery] = await Promise.all([
        doc.send(new GetCommand({ TableName: 'hookline-events', Key: { tenant_id: TENANT, event_id: m.eventId } })).then((o) => o.Item),
        doc.send(new GetCommand({ TableName: 'hookline-deliveries', Key: { delivery_id: deliveryId } })).then((o) => o.Item),
      ]);
      const attempts = logged.get(`${m.webhookId} ${m.eventId}`) ?? [];
      const dueIndex = lost.length < INDEX_CHECKS ? await indexEntries(doc, deliveryId) : undefined;
      let stage = stageOf(event, delivery);
      // dynalite writes index entries and the item separately: a SIGKILL in between tears them apart.
      const disagree = dueIndex?.find((e) => e['due_at'] !== delivery?.['due_at'] || e['attempts_completed'] !== delivery?.['attempts_completed']);
      if (disagree) stage += ` (due index disagrees with the item: index due_at ${disagree['due_at']}, attempts_completed ${disagree['attempts_completed']})`;
      else if (dueIndex && dueIndex.length === 0 && delivery?.['state'] === 'pending') stage += ' (not in the due index)';
      lost.push({ ...m, deliveryId, stage, ...(event ? { event } : {}), ...(delivery ? { delivery } : {}), ...(dueIndex ? { dueIndex } : {}), attempts });
    }
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
  const stages: Record<string, number> = {};
  for (const l of lost) stages[l.stage] = (stages[l.stage] ?? 0) + 1;
  // One sample per stage first, then more of the commonest.
  const samples: LostDelivery[] = [];
  for (const stage of Object.keys(stages)) samples.push(lost.find((l) => l.stage === stage)!);
  for (const l of lost) if (samples.length < SAMPLES && !samples.includes(l)) samples.push(l);
  return { diagnosis: { stages, samples, runtimeStderrTail }, runtime: rt };
}

function stageOf(event: Record<string, unknown> | undefined, delivery: Record<string, unknown> | undefined): string {
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
