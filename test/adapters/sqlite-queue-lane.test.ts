/**
 * The deliveries queue's memory lane: first attempts, whose delivery rows already record that
 * they are owed, are kept in memory instead of in the queue table (RowBackedLane), with the
 * table's semantics while the process lives, and rebuilt from the rows after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openLocalStore, type LocalStore } from '../../infra/local/local-store.ts';
import { HooklineDatabase } from '../../shared/adapters/sqlite/database.ts';
import { SqliteDeliveryQueue } from '../../shared/adapters/sqlite/sqlite-pipeline-queues.ts';
import { SqliteQueues } from '../../shared/adapters/sqlite/sqlite-queue.ts';
import type { DeliveryMessage } from '../../shared/domain/deliveries.ts';

/** Hidden 300 ms once received; dead-lettered after 2 receives. */
const SETTINGS = { visibilityMs: 300, maxReceiveCount: 2 };

let db: HooklineDatabase;
let now: number;
const clock = () => new Date(now);
const queuesWith = (laneCapacity: number) => new SqliteQueues(db, { events: SETTINGS, deliveries: SETTINGS }, clock, laneCapacity);
/** Messages in the queue table (the lane's are not). */
const stored = () => Number((db.connection.prepare('SELECT COUNT(*) AS n FROM queue_messages').get() as { n: number }).n);
const bodies = (messages: { body: string }[]) => messages.map((m) => JSON.parse(m.body) as unknown);

/**
 * Sends a message whose payload nothing but the queue holds, and answers a WeakRef to the
 * payload. Made here, not in the (async) test: an async function suspended at an `await` keeps
 * every local of its frame while it runs in V8's interpreter (optimized code keeps only those
 * still used), so a local there held the payload whenever V8 had not yet optimized the test's
 * loop, as on a loaded machine: the test failed about one full run in five.
 */
function sendWatched(queues: SqliteQueues): WeakRef<object> {
  const payload = { first: 'x'.repeat(1_000) };
  queues.sendRowBacked('deliveries', [{ payload, groupId: 't' }]);
  return new WeakRef(payload);
}

beforeEach(() => {
  db = new HooklineDatabase(new DatabaseSync(':memory:'), ':memory:');
  now = 1_000_000;
});
afterEach(() => db.close());

describe('SqliteQueues.sendRowBacked', () => {
  it('hands a message out once until its visibility timeout ends, deletes it by its latest receipt, and dead-letters it after max receives', () => {
    const queues = queuesWith(10);
    queues.sendRowBacked('deliveries', [{ payload: { n: 1 }, groupId: 'tenant-a' }]);
    expect(stored()).toBe(0);
    expect(queues.depth('deliveries')).toBe(1);
    expect(queues.nextVisibleAt('deliveries')).toBe(now);

    const [first] = queues.receive('deliveries', 10);
    expect(first).toMatchObject({ body: '{"n":1}', groupId: 'tenant-a', receiveCount: 1 });
    expect(queues.receive('deliveries', 10)).toEqual([]);
    expect(queues.nextVisibleAt('deliveries')).toBe(now + SETTINGS.visibilityMs);

    now += SETTINGS.visibilityMs;
    const [second] = queues.receive('deliveries', 10);
    expect(second).toMatchObject({ id: first!.id, body: '{"n":1}', receiveCount: 2 });
    // The first receive's receipt deletes nothing any more.
    queues.delete([first!.receipt]);
    expect(queues.depth('deliveries')).toBe(1);

    now += SETTINGS.visibilityMs;
    const told: string[] = [];
    queues.onDeadLetter((letter) => told.push(`${letter.queue} ${letter.id} ${letter.body} ${letter.receiveCount}`));
    expect(queues.receive('deliveries', 10)).toEqual([]);
    expect(queues.depth('deliveries')).toBe(0);
    expect(queues.deadLetters('deliveries').map((d) => [d.body, d.receiveCount])).toEqual([['{"n":1}', 2]]);
    expect(told).toEqual([`deliveries ${queues.deadLetters('deliveries')[0]!.id} {"n":1} 2`]);
  });

  it('lets go of the messages it handed out while a backlog stands (it never empties)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queues = queuesWith(100);
    queues.sendRowBacked('deliveries', Array.from({ length: 11 }, (_, i) => ({ payload: { backlog: i }, groupId: 't' })));
    const sent = sendWatched(queues);
    for (let i = 0; i < 5_000; i++) {
      queues.sendRowBacked('deliveries', [{ payload: { n: i }, groupId: 't' }]);
      if (i % 10 === 9) queues.delete(queues.receive('deliveries', 10).map((m) => m.receipt));
    }
    expect(queues.depth('deliveries')).toBe(12);
    // A WeakRef holds its target until the current job ends: a few rounds, each after the job
    // ends, still fail if the queue holds it.
    for (let round = 0; round < 5 && sent.deref() !== undefined; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(sent.deref()).toBeUndefined();
  });

  it('deletes what was received and done', () => {
    const queues = queuesWith(10);
    queues.sendRowBacked('deliveries', [{ payload: 1 }, { payload: 2 }]);
    const received = queues.receive('deliveries', 10);
    queues.delete(received.map((m) => m.receipt));
    expect(queues.depth('deliveries')).toBe(0);
    now += SETTINGS.visibilityMs;
    expect(queues.receive('deliveries', 10)).toEqual([]);
  });

  it('sends to the table once the lane is full, and a receive takes from both in turns', () => {
    const queues = queuesWith(2);
    queues.sendRowBacked('deliveries', [{ payload: 'lane-1' }, { payload: 'lane-2' }]);
    queues.sendRowBacked('deliveries', [{ payload: 'table-1' }]);
    queues.send('deliveries', [{ body: '"table-2"' }]);
    expect(stored()).toBe(2);
    expect(queues.depth('deliveries')).toBe(4);
    const firstTurn = bodies(queues.receive('deliveries', 1));
    const secondTurn = bodies(queues.receive('deliveries', 1));
    expect([firstTurn, secondTurn].flat().sort()).toEqual(['lane-1', 'table-1']);
    expect(bodies(queues.receive('deliveries', 10)).sort()).toEqual(['lane-2', 'table-2']);
  });

  it('gives receipts that name one message of one queue', () => {
    const queues = queuesWith(10);
    queues.sendRowBacked('events', [{ payload: 'e' }]);
    queues.sendRowBacked('deliveries', [{ payload: 'd' }]);
    const [event] = queues.receive('events', 1);
    const [delivery] = queues.receive('deliveries', 1);
    expect(event!.receipt).not.toBe(delivery!.receipt);
    queues.delete([event!.receipt]);
    expect(queues.depth('events')).toBe(0);
    expect(queues.depth('deliveries')).toBe(1);
  });
});

describe('SqliteDeliveryQueue', () => {
  const message = (attempt: number, extra: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
    delivery_id: `dlv_${attempt}`,
    tenant_id: 't',
    webhook_id: 'w',
    event_id: 'e',
    attempt,
    trigger: 'scheduled',
    ...extra,
  });

  it('keeps first attempts due now in memory, and stores later rungs, manual attempts and anything delayed', async () => {
    const queues = queuesWith(10);
    const deliveries = new SqliteDeliveryQueue(queues, clock);
    await deliveries.enqueue([message(1), message(1, { delivery_id: 'dlv_b' })]);
    expect(stored()).toBe(0);
    await deliveries.enqueue([message(2)]);
    await deliveries.enqueue([message(1, { delivery_id: 'dlv_manual', trigger: 'manual' })]);
    await deliveries.enqueue([message(1, { delivery_id: 'dlv_later' })], 5);
    await deliveries.schedule(message(1, { delivery_id: 'dlv_slot' }), new Date(now + 1_000));
    expect(stored()).toBe(4);
    expect(queues.depth('deliveries')).toBe(6);
  });
});

describe('LocalStore.resumeFirstAttempts', () => {
  let dir: string;
  const open = () => openLocalStore(dir, { retentionDays: 30 }, () => new Date());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hookline-lane-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('queues again, from their delivery rows, the first attempts a process held in memory when it ended', async () => {
    let store: LocalStore = open();
    const deliveries = ['dlv_a', 'dlv_b', 'dlv_done'].map((id) => ({ delivery_id: id, tenant_id: 't', webhook_id: 'w', event_id: `evt_${id}`, event_type: 'scan.completed' }));
    const { adapters } = store;
    const created = await adapters.deliveries.createMany(deliveries, new Date());
    await adapters.deliveryQueue.enqueue(created.map(({ event_type: _t, ...ref }) => ({ ...ref, attempt: 1, trigger: 'scheduled' as const })));
    expect(store.queues.depth('deliveries')).toBe(3);
    // dlv_done's first attempt was made and recorded: nothing is owed for it now.
    const claimed = await adapters.deliveries.claim({ ...deliveries[2]!, attempt: 1 }, new Date(), new Date(0));
    expect(claimed).toBeDefined();
    await adapters.deliveries.complete(deliveries[2]!, 1, { kind: 'succeeded' }, new Date());
    store.close();

    store = open();
    try {
      expect(store.queues.depth('deliveries')).toBe(0);
      await expect(store.resumeFirstAttempts()).resolves.toBe(2);
      const resumed = store.queues.receive('deliveries', 10).map((m) => JSON.parse(m.body) as DeliveryMessage);
      expect(resumed.map((m) => m.delivery_id).sort()).toEqual(['dlv_a', 'dlv_b']);
      expect(resumed[0]).toMatchObject({ tenant_id: 't', webhook_id: 'w', attempt: 1, trigger: 'scheduled', recheck: true });
    } finally {
      store.close();
    }
  });

  it('queues the rest as the lane drains when the last process held more than the lane takes, each once, none of its own', async () => {
    let store: LocalStore = open();
    const refs = Array.from({ length: 10 }, (_, i) => ({ delivery_id: `dlv_${String(i).padStart(2, '0')}`, tenant_id: 't', webhook_id: 'w', event_id: `evt_${i}`, event_type: 'scan.completed' }));
    await store.adapters.deliveries.createMany(refs, new Date());
    store.close();
    await new Promise((r) => setTimeout(r, 5));

    // A lane of 4: the start takes 4, and the rest come as the lane has room.
    store = openLocalStore(dir, { retentionDays: 30 }, () => new Date(), undefined, 4);
    try {
      await expect(store.resumeFirstAttempts()).resolves.toBe(4);
      // A delivery this process makes itself is not the last one's (its message is its own).
      await store.adapters.deliveries.createMany([{ ...refs[0]!, delivery_id: 'dlv_new', event_id: 'evt_new' }], new Date());
      // Full lane: nothing more yet.
      await expect(store.resumeMoreFirstAttempts()).resolves.toBe(true);
      expect(store.queues.depth('deliveries')).toBe(4);
      const seen: string[] = [];
      for (let round = 0; round < 10; round++) {
        const taken = store.queues.receive('deliveries', 10);
        seen.push(...taken.map((m) => (JSON.parse(m.body) as DeliveryMessage).delivery_id));
        store.queues.delete(taken.map((m) => m.receipt));
        if (!(await store.resumeMoreFirstAttempts())) break;
      }
      seen.push(...store.queues.receive('deliveries', 10).map((m) => (JSON.parse(m.body) as DeliveryMessage).delivery_id));
      expect(seen.sort()).toEqual(refs.map((r) => r.delivery_id));
      await expect(store.resumeMoreFirstAttempts()).resolves.toBe(false);
    } finally {
      store.close();
    }
  });
});
