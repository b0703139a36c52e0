import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DatabaseSync } from 'node:sqlite';
import { QueuePoller } from '../../infra/local/queue-poller.ts';
import { HooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { deadLetterRef, SqliteDeliveryQueue } from '../../shared/adapters/sqlite/sqlite-pipeline-queues.ts';
import type { DeadLetter, QueueName } from '../../shared/adapters/sqlite/queue-messages.ts';
import { DEAD_LETTER_RETENTION_MS, SqliteQueues } from '../../shared/adapters/sqlite/sqlite-queue.ts';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';

/** Hidden 300 ms once received; dead-lettered after 2 receives. */
const SETTINGS = { visibilityMs: 300, maxReceiveCount: 2 };
const ARN = 'arn:aws:sqs:us-east-1:000000000000:hookline-deliveries';

let db: HooklineDatabase;
let queues: SqliteQueues;
let now: number | undefined;
const clock = () => new Date(now ?? Date.now());

beforeEach(() => {
  db = new HooklineDatabase(new DatabaseSync(':memory:'), ':memory:');
  now = undefined;
  queues = new SqliteQueues(db, { events: SETTINGS, deliveries: SETTINGS }, clock);
});
afterEach(() => db.close());

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const send = (bodies: string[], queue: QueueName = 'deliveries') => queues.send(queue, bodies.map((body) => ({ body, groupId: 'tenant-a' })));

describe('SqliteQueues', () => {
  it('holds a delayed message back until it is due, then hands it out once until its visibility timeout ends', () => {
    now = 1_000_000;
    queues.send('deliveries', [{ body: 'later', delayMs: 60_000 }, { body: 'now' }]);
    const [first] = queues.receive('deliveries', 10);
    expect(first!.body).toBe('now');
    // The next to be visible: the one just received, once its visibility timeout ends.
    expect(queues.nextVisibleAt('deliveries')).toBe(1_000_000 + SETTINGS.visibilityMs);
    queues.delete([first!.receipt]);
    expect(queues.nextVisibleAt('deliveries')).toBe(1_000_000 + 60_000);
    expect(queues.receive('deliveries', 10)).toEqual([]);
    now += 60_000;
    const [later] = queues.receive('deliveries', 10);
    expect(later).toMatchObject({ body: 'later', receiveCount: 1 });
    expect(queues.receive('deliveries', 10)).toEqual([]);
    // Not deleted: seen again after the visibility timeout, with its receive count.
    now += SETTINGS.visibilityMs;
    expect(queues.receive('deliveries', 10).map((m) => [m.body, m.receiveCount])).toEqual([['later', 2]]);
  });

  it('moves a message received maxReceiveCount times to the dead-letter table instead of handing it out again', () => {
    now = 1_000_000;
    send(['poison']);
    for (let i = 0; i < SETTINGS.maxReceiveCount; i++) {
      expect(queues.receive('deliveries', 10)).toHaveLength(1);
      now += SETTINGS.visibilityMs;
    }
    const told: DeadLetter[] = [];
    queues.onDeadLetter((letter) => told.push(letter));
    expect(queues.receive('deliveries', 10)).toEqual([]);
    expect(queues.depth('deliveries')).toBe(0);
    expect(queues.deadLetters('deliveries').map((d) => [d.body, d.receiveCount])).toEqual([['poison', 2]]);
    // The runtime logs what it is told, as SQS's dead-letter queue alarm would fire.
    expect(told).toEqual([{ id: queues.deadLetters('deliveries')[0]!.id, queue: 'deliveries', body: 'poison', receiveCount: 2, deadAt: new Date(now) }]);
  });

  it('keeps a dead letter 14 days (as the stack does its dead-letter queues), then purges it', () => {
    now = 1_000_000;
    send(['old']);
    for (let i = 0; i <= SETTINGS.maxReceiveCount; i++, now += SETTINGS.visibilityMs) queues.receive('deliveries', 10);
    const oldDeadAt = queues.deadLetters('deliveries')[0]!.deadAt.getTime();
    now = oldDeadAt + 60_000;
    send(['newer']);
    for (let i = 0; i <= SETTINGS.maxReceiveCount; i++, now += SETTINGS.visibilityMs) queues.receive('deliveries', 10);
    expect(queues.deadLetters('deliveries').map((d) => d.body)).toEqual(['old', 'newer']);

    expect(queues.purgeDeadLetters(new Date(oldDeadAt + DEAD_LETTER_RETENTION_MS - 1))).toBe(0);
    expect(queues.purgeDeadLetters(new Date(oldDeadAt + DEAD_LETTER_RETENTION_MS))).toBe(1);
    expect(queues.deadLetters('deliveries').map((d) => d.body)).toEqual(['newer']);
    // At most `limit` a call: the rest go at the next.
    send(['third']);
    for (let i = 0; i <= SETTINGS.maxReceiveCount; i++, now += SETTINGS.visibilityMs) queues.receive('deliveries', 10);
    const later = new Date(now + DEAD_LETTER_RETENTION_MS);
    expect(queues.purgeDeadLetters(later, 1)).toBe(1);
    expect(queues.deadLetters('deliveries')).toHaveLength(1);
    expect(queues.purgeDeadLetters(later, 1)).toBe(1);
    expect(queues.deadLetters('deliveries')).toEqual([]);
    expect(DEAD_LETTER_RETENTION_MS).toBe(14 * 24 * 3600 * 1000);
  });

  it('names the work of a dead letter by its ids in the log, never by the data of its event', () => {
    const event = { id: 'evt_1', tenant_id: 'ten_1', event: 'scan.completed', data: { secret_finding: 'x' } };
    expect(deadLetterRef({ queue: 'events', body: JSON.stringify(event) })).toEqual({ tenant_id: 'ten_1', event_id: 'evt_1' });
    expect(deadLetterRef({ queue: 'deliveries', body: JSON.stringify({ delivery_id: 'dlv_1', tenant_id: 'ten_1', webhook_id: 'wh_1', attempt: 3, event }) })).toEqual({
      tenant_id: 'ten_1',
      delivery_id: 'dlv_1',
      attempt: 3,
    });
    expect(deadLetterRef({ queue: 'deliveries', body: 'poison' })).toEqual({});
    expect(deadLetterRef({ queue: 'events', body: '[1]' })).toEqual({});
  });

  it('deletes by the receipt of the latest receive only', () => {
    now = 1_000_000;
    send(['m']);
    const [first] = queues.receive('deliveries', 1);
    now += SETTINGS.visibilityMs;
    const [second] = queues.receive('deliveries', 1);
    queues.delete([first!.receipt]);
    expect(queues.depth('deliveries')).toBe(1);
    queues.delete([second!.receipt]);
    expect(queues.depth('deliveries')).toBe(0);
  });

  it('keeps the queues apart, and a restart sees at once what the last process had received', () => {
    now = 1_000_000;
    send(['e'], 'events');
    send(['d']);
    expect(queues.receive('events', 10).map((m) => m.body)).toEqual(['e']);
    expect(queues.receive('deliveries', 10).map((m) => m.body)).toEqual(['d']);
    expect(queues.releaseReceived()).toEqual({ events: 1, deliveries: 1 });
    expect(queues.receive('events', 10).map((m) => m.body)).toEqual(['e']);
  });

  it('schedules a retry however far away, without a not_before left in the message', async () => {
    now = 1_000_000;
    const retries = new SqliteDeliveryQueue(queues, clock);
    const message = { delivery_id: 'dlv_1', tenant_id: 't', webhook_id: 'w', event_id: 'e', attempt: 2, not_before: 'x' } as unknown as DeliveryMessage;
    await retries.schedule(message, new Date(now + 3 * 3600_000));
    expect(queues.nextVisibleAt('deliveries')).toBe(now + 3 * 3600_000);
    now += 3 * 3600_000;
    const [received] = queues.receive('deliveries', 1);
    expect(JSON.parse(received!.body)).toEqual({ delivery_id: 'dlv_1', tenant_id: 't', webhook_id: 'w', event_id: 'e', attempt: 2 });
    expect(received!.groupId).toBe('t');
  });

  it('is durable: what was sent is there after the database is opened again', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'hookline-queue-'));
    try {
      const file = join(dir, 'q.db');
      const first = new HooklineDatabase(new DatabaseSync(file), file);
      new SqliteQueues(first, { events: SETTINGS, deliveries: SETTINGS }, clock).send('deliveries', [{ body: 'kept' }]);
      first.close();
      const second = new HooklineDatabase(new DatabaseSync(file), file);
      expect(new SqliteQueues(second, { events: SETTINGS, deliveries: SETTINGS }, clock).receive('deliveries', 10).map((m) => m.body)).toEqual(['kept']);
      second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('QueuePoller', () => {
  const pollers: QueuePoller[] = [];
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
  });

  function startPoller(
    handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>,
    options: { concurrency?: number; batchSize?: number; canTakeMore?: () => boolean } = {},
  ) {
    const errors: unknown[] = [];
    const poller = new QueuePoller({
      name: 'test-consumer',
      queues,
      queue: 'deliveries',
      queueArn: ARN,
      handler: (event) => handler(event),
      batchSize: options.batchSize ?? 10,
      concurrency: options.concurrency ?? 1,
      ...(options.canTakeMore ? { canTakeMore: options.canTakeMore } : {}),
      onError: (e) => errors.push(e),
    });
    pollers.push(poller);
    poller.start();
    return { poller, errors };
  }

  it('deletes what the handler did not report, redelivers the reported failure, and dead-letters it after max receives', async () => {
    send(['ok-1', 'bad', 'ok-2']);
    const seen: { body: string; receiveCount: string; arn: string; group?: string }[] = [];
    const { errors } = startPoller(async (event) => {
      for (const r of event.Records) {
        seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount, arn: r.eventSourceARN, group: r.attributes.MessageGroupId });
      }
      return { batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await waitFor(() => queues.deadLetters('deliveries').length === 1, 'the dead letter');
    expect(queues.deadLetters('deliveries').map((d) => d.body)).toEqual(['bad']);
    expect(queues.depth('deliveries')).toBe(0);
    const bodies = seen.map((s) => s.body);
    expect(bodies.filter((b) => b === 'ok-1')).toHaveLength(1);
    expect(bodies.filter((b) => b === 'ok-2')).toHaveLength(1);
    expect(seen.filter((s) => s.body === 'bad').map((s) => s.receiveCount)).toEqual(['1', '2']);
    expect(new Set(seen.map((s) => s.arn))).toEqual(new Set([ARN]));
    expect(new Set(seen.map((s) => s.group))).toEqual(new Set(['tenant-a']));
    expect(errors).toEqual([]);
  });

  it('redelivers every message of a batch whose handler throws, or that names a failure not in the batch', async () => {
    queues = new SqliteQueues(db, { events: SETTINGS, deliveries: { ...SETTINGS, maxReceiveCount: 5 } }, clock);
    send(['x', 'y']);
    const seen: string[] = [];
    let calls = 0;
    const { errors } = startPoller(async (event) => {
      seen.push(...event.Records.map((r) => r.body));
      calls++;
      if (calls === 1) throw new Error('handler crashed');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-message-of-this-batch' }] };
      return undefined;
    });
    await waitFor(() => calls >= 3 && queues.depth('deliveries') === 0, 'the third run to delete both');
    expect(seen.filter((b) => b === 'x')).toHaveLength(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler crashed']);
  });

  it('wakes on a send instead of waiting for its next look', async () => {
    const seen: string[] = [];
    startPoller(async (event) => void seen.push(...event.Records.map((r) => r.body)));
    // Idle: the poller is asleep (up to a second) when the message comes.
    await new Promise((r) => setTimeout(r, 50));
    const sentAt = Date.now();
    send(['prompt']);
    await waitFor(() => seen.includes('prompt'), 'the message');
    expect(Date.now() - sentAt).toBeLessThan(900);
  });

  it('has at most `concurrency` invocations in flight and keeps receiving while batches hang', async () => {
    const state = { held: [] as (() => void)[], inFlight: 0, maxInFlight: 0, handled: [] as string[] };
    startPoller(
      async (event) => {
        state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
        state.handled.push(...event.Records.map((r) => r.body));
        if (event.Records.some((r) => r.body.startsWith('slow'))) await new Promise<void>((r) => state.held.push(r));
        state.inFlight--;
      },
      { concurrency: 3, batchSize: 1 },
    );
    send(['slow-0', 'slow-1']);
    await waitFor(() => state.held.length === 2, 'two held batches');
    send(['fast']);
    await waitFor(() => state.handled.includes('fast'), 'the quick message beside them');
    send(['slow-2', 'slow-3']);
    await waitFor(() => state.held.length === 3, 'a third held batch');
    expect(state.handled).not.toContain('slow-3');
    state.held.shift()!();
    await waitFor(() => state.handled.includes('slow-3'), 'the next batch once one ended');
    expect(state.maxInFlight).toBe(3);
    state.held.splice(0).forEach((release) => release());
  });

  it('takes no message while its handler cannot take more, and takes it once it can', async () => {
    const state = { canTake: false, asked: 0, handled: [] as string[] };
    startPoller(async (event) => void state.handled.push(...event.Records.map((r) => r.body)), {
      concurrency: 5,
      canTakeMore: () => (state.asked++, state.canTake),
    });
    send(['waits']);
    // The poller has looked several times since the message was sent, and held back each time.
    const askedAtSend = state.asked;
    await waitFor(() => state.asked >= askedAtSend + 3, 'the poller to look again');
    expect(state.handled).toEqual([]);
    expect(queues.receive('deliveries', 10).map((m) => [m.body, m.receiveCount])).toEqual([['waits', 1]]);
    queues.releaseReceived();
    state.canTake = true;
    await waitFor(() => state.handled.includes('waits'), 'the message');
  });

  it('stop() waits for the invocations in flight', async () => {
    send(['held']);
    let release: (() => void) | undefined;
    let finished = false;
    const { poller } = startPoller(async () => {
      await new Promise<void>((r) => (release = r));
      finished = true;
    });
    await waitFor(() => release !== undefined, 'the invocation');
    const stopped = poller.stop().then(() => finished);
    release!();
    await expect(stopped).resolves.toBe(true);
  });
});
