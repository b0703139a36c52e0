import { DEFAULT_CATALOGUE } from '../../../shared/domain/catalogue.ts';
import { compileCatalogue } from '../../../shared/domain/catalogue-schemas.ts';
import type { PublishedEvent, QueuedEvent } from '../../../shared/domain/events.ts';
import { HooklineError, ValidationError } from '../../../shared/errors.ts';
import type { EventInput } from '../../../shared/http/schemas.ts';
import { PublishEvents } from '../../../shared/usecases/publish-events.ts';
import { FakeClock, RecordingLogger, T0, TENANT } from './fakes.ts';

/** Idempotent event storage keyed by (tenant, id); `done` marks events whose fan-out finished. */
class MemoryEventStore {
  readonly events = new Map<string, PublishedEvent>();
  readonly done = new Set<string>();
  async putIfAbsent(e: PublishedEvent): Promise<'created' | 'duplicate-pending' | 'duplicate-done'> {
    await Promise.resolve();
    const key = `${e.tenant_id}/${e.id}`;
    if (this.events.has(key)) return this.done.has(key) ? 'duplicate-done' : 'duplicate-pending';
    this.events.set(key, e);
    return 'created';
  }
  async get(tenantId: string, eventId: string): Promise<PublishedEvent | undefined> {
    await Promise.resolve();
    return this.events.get(`${tenantId}/${eventId}`);
  }
  async forget(events: readonly Pick<PublishedEvent, 'tenant_id' | 'id' | 'received_at'>[]): Promise<void> {
    await Promise.resolve();
    for (const e of events) if (this.events.get(`${e.tenant_id}/${e.id}`)?.received_at === e.received_at) this.events.delete(`${e.tenant_id}/${e.id}`);
  }
}

const catalogue = compileCatalogue([
  ...DEFAULT_CATALOGUE,
  {
    type: 'cve.published',
    title: 'CVE published',
    description: 'with a schema',
    schema: { type: 'object', required: ['cve'], properties: { cve: { type: 'string', pattern: '^CVE-' } } },
  },
]);

/** `reconciled`: a reconciler queues events stored but never queued (one machine); AWS has none. */
function setup({ reconciled = false }: { reconciled?: boolean } = {}) {
  const store = new MemoryEventStore();
  const queued: QueuedEvent[][] = [];
  const log = new RecordingLogger();
  const clock = new FakeClock();
  let failQueue = false;
  const publish = new PublishEvents({
    store,
    queue: {
      async enqueue(events) {
        if (failQueue) throw new Error('SQS unavailable');
        queued.push([...events]);
      },
      fits: (event) => JSON.stringify(event.data).length <= 1000,
    },
    catalogue,
    clock: clock.clock,
    log,
    reconciled,
  });
  return { publish, store, queued, log, clock, failQueue: (fails = true) => (failQueue = fails) };
}

const input = (overrides: Partial<EventInput> = {}): EventInput => ({ event: 'scan.completed', data: { scan_id: 's1' }, ...overrides });

async function rejection(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

describe('PublishEvents: validation', () => {
  it('an unknown type is a ValidationError and nothing is stored or queued', async () => {
    const h = setup();
    const err = await rejection(h.publish.execute(TENANT, [input({ event: 'scan.exploded' })]));
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual([{ path: 'event', message: expect.stringContaining('scan.exploded') }]);
    expect(h.store.events.size).toBe(0);
    expect(h.queued).toHaveLength(0);
  });

  it('one unknown type in a batch rejects the whole batch: the valid ones are not stored either', async () => {
    const h = setup();
    const err = await rejection(
      h.publish.execute(TENANT, [input({ id: 'good-1' }), input({ id: 'bad', event: 'nope.nope' }), input({ id: 'good-2' })]),
    );
    expect(err.details).toEqual([{ path: 'events.1.event', message: expect.any(String) }]);
    expect(h.store.events.size).toBe(0);
    expect(h.queued).toHaveLength(0);
  });

  it('data that breaks its type schema rejects the batch, naming the path', async () => {
    const h = setup();
    const err = await rejection(
      h.publish.execute(TENANT, [input({ id: 'ok' }), input({ event: 'cve.published', data: { cve: 'XYZ' } })]),
    );
    expect((err.details as { path: string }[]).map((d) => d.path)).toEqual(['events.1.data.cve']);
    expect(h.store.events.size).toBe(0);
  });

  it('the same id twice in one batch is a ValidationError naming each repeat, and nothing is stored', async () => {
    const h = setup();
    const err = await rejection(h.publish.execute(TENANT, [input({ id: 'dup' }), input({ id: 'other' }), input({ id: 'dup' }), input({ id: 'dup' })]));
    expect(err.message).toBe('The batch has the same event id twice');
    expect(err.details).toEqual([
      { path: 'events.2.id', message: 'the same id as events.0.id' },
      { path: 'events.3.id', message: 'the same id as events.0.id' },
    ]);
    expect(h.store.events.size).toBe(0);
    expect(h.queued).toHaveLength(0);
  });

  it('an event the queue cannot carry is a 413 naming it, and nothing of the batch is stored', async () => {
    const h = setup();
    const err = await h.publish.execute(TENANT, [input({ id: 'small' }), input({ id: 'big', data: { blob: 'x'.repeat(2000) } })]).then(
      () => undefined,
      (e: unknown) => e as HooklineError,
    );
    expect(err?.statusCode).toBe(413);
    expect(err?.details).toEqual([{ path: 'events.1.data', message: 'too large to queue once encoded' }]);
    expect(h.store.events.size).toBe(0);
    expect(h.queued).toHaveLength(0);
  });

  it('events without ids in one batch are not duplicates', async () => {
    const h = setup();
    const ids = await h.publish.execute(TENANT, [input(), input(), input({ id: 'x' })]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it('webhook.test is always publishable; a schema-valid event is accepted', async () => {
    const h = setup();
    await expect(h.publish.execute(TENANT, [input({ event: 'webhook.test', data: {} })])).resolves.toHaveLength(1);
    await expect(h.publish.execute(TENANT, [input({ event: 'cve.published', data: { cve: 'CVE-2025-1' } })])).resolves.toHaveLength(1);
  });
});

describe('PublishEvents: storing and queueing', () => {
  it('stores each event with the given or a generated id, the timestamp given or now, and queues them', async () => {
    const h = setup();
    const ids = await h.publish.execute(TENANT, [
      input({ id: 'mine-1', timestamp: '2025-05-31T10:00:00+02:00' }),
      input({ event: 'alert.created', data: { a: 1 } }),
    ]);
    expect(ids[0]).toBe('mine-1');
    expect(ids[1]).toMatch(/^evt_[0-9A-Z]{26}$/);
    const first = h.store.events.get(`${TENANT}/mine-1`)!;
    expect(first).toEqual({
      tenant_id: TENANT,
      id: 'mine-1',
      event: 'scan.completed',
      timestamp: '2025-05-31T10:00:00+02:00',
      data: { scan_id: 's1' },
      received_at: T0.toISOString(),
    });
    const second = h.store.events.get(`${TENANT}/${ids[1]}`)!;
    expect(second.timestamp).toBe(T0.toISOString());
    expect(second.event).toBe('alert.created');
    expect(h.queued).toEqual([[first, second]]);
  });

  it('the same id from two tenants is two events', async () => {
    const h = setup();
    await h.publish.execute(TENANT, [input({ id: 'same' })]);
    await h.publish.execute('ten_B', [input({ id: 'same' })]);
    expect(h.store.events.size).toBe(2);
    expect(h.queued.flat()).toHaveLength(2);
  });

  it('a duplicate whose fan-out is done is not queued again; a pending duplicate is', async () => {
    const h = setup();
    await h.publish.execute(TENANT, [input({ id: 'done-one' }), input({ id: 'pending-one' })]);
    h.store.done.add(`${TENANT}/done-one`);
    h.queued.length = 0;

    const ids = await h.publish.execute(TENANT, [input({ id: 'done-one' }), input({ id: 'pending-one' }), input({ id: 'fresh' })]);

    expect(ids).toEqual(['done-one', 'pending-one', 'fresh']);
    expect(h.queued).toHaveLength(1);
    expect(h.queued[0]!.map((e) => e.id)).toEqual(['pending-one', 'fresh']);
    expect(h.store.events.size).toBe(3);
  });

  it('queues a pending duplicate as it was first stored (its arrival, timestamp and data: the same deliveries), marked as queued again', async () => {
    const h = setup();
    await h.publish.execute(TENANT, [input({ id: 'dup', data: { scan_id: 'first' } })]);
    const first = h.store.events.get(`${TENANT}/dup`)!;
    h.clock.advance(60_000);
    await h.publish.execute(TENANT, [input({ id: 'dup', data: { scan_id: 'second' } }), input({ id: 'new' })]);
    expect(h.store.events.get(`${TENANT}/dup`)).toEqual(first);
    expect(h.queued[1]).toEqual([
      { ...first, again: true },
      expect.objectContaining({ id: 'new', received_at: h.clock.now.toISOString() }),
    ]);
    expect(h.queued[1]![1]).not.toHaveProperty('again');
  });

  it('without a reconciler (AWS), a queue failure is a 503: the publisher sends the same request again', async () => {
    const h = setup();
    h.failQueue();
    const err = await h.publish.execute(TENANT, [input({ id: 'a' }), input({ id: 'b' })]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HooklineError);
    expect((err as HooklineError).statusCode).toBe(503);
    expect((err as HooklineError).cause).toEqual(new Error('SQS unavailable'));
    expect(h.log.warnings).toHaveLength(0);
    // Not accepted, so not kept: the same request, whenever it comes, is accepted anew.
    expect(h.store.events.size).toBe(0);
    h.failQueue(false);
    h.clock.advance(3_600_000);
    expect(await h.publish.execute(TENANT, [input({ id: 'a' }), input({ id: 'b' })])).toEqual(['a', 'b']);
    expect(h.queued.flat().map((e) => [e.id, e.again])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
    expect(h.store.events.size).toBe(2);
  });

  it('without a reconciler, a duplicate it queued again is not removed when queueing fails (it was stored by an earlier request)', async () => {
    const h = setup();
    await h.publish.execute(TENANT, [input({ id: 'old' })]);
    h.failQueue();
    await expect(h.publish.execute(TENANT, [input({ id: 'old' }), input({ id: 'new' })])).rejects.toMatchObject({ statusCode: 503 });
    expect([...h.store.events.keys()]).toEqual([`${TENANT}/old`]);
  });

  it('without a reconciler, a queue failure whose clean-up fails too is still a 503, and says so in the log', async () => {
    const h = setup();
    h.failQueue();
    h.store.forget = async () => {
      throw new Error('DynamoDB down');
    };
    await expect(h.publish.execute(TENANT, [input({ id: 'a' })])).rejects.toMatchObject({ statusCode: 503 });
    expect(h.log.warnings).toHaveLength(1);
    expect(h.log.warnings[0]!.extra).toMatchObject({ error: 'DynamoDB down' });
  });

  it('with a reconciler (one machine), a queue failure still returns the ids (the events are stored) and logs a warning', async () => {
    const h = setup({ reconciled: true });
    h.failQueue();
    const ids = await h.publish.execute(TENANT, [input({ id: 'a' }), input({ id: 'b' })]);
    expect(ids).toEqual(['a', 'b']);
    expect(h.store.events.size).toBe(2);
    expect(h.log.warnings).toHaveLength(1);
    expect(h.log.warnings[0]!.extra).toMatchObject({ count: 2, error: 'SQS unavailable' });
  });

  it('a store failure is an error (the caller must not answer 202)', async () => {
    const h = setup();
    h.store.putIfAbsent = async () => {
      throw new Error('DynamoDB down');
    };
    await expect(h.publish.execute(TENANT, [input({ id: 'a' })])).rejects.toThrow('DynamoDB down');
    expect(h.queued).toHaveLength(0);
  });
});
