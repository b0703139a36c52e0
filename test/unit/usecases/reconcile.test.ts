import type { DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import type { PublishedEvent } from '../../../shared/domain/events.ts';
import { DELIVERIES_QUEUE_LAG, LAG_FRESH_MS, webhookLag, type LagRecords } from '../../../shared/usecases/queue-lag.ts';
import { Reconcile, type DueDeliveryRef, type DueEventRef } from '../../../shared/usecases/reconcile.ts';
import { event, FakeClock, MemoryLagRecords, T0, TENANT } from './fakes.ts';

/**
 * The sparse `due` index: listDue returns items with due_at < before; postpone is the conditional
 * write `SET due_at = :until IF due_at = :expected`, so a second postpone from the same read fails.
 */
class DueIndex<T extends { due_at: string }> {
  readonly items = new Map<string, T>();
  readonly postponed: { key: string; until: Date }[] = [];
  private readonly keyOf: (item: T) => string;
  constructor(keyOf: (item: T) => string) {
    this.keyOf = keyOf;
  }
  add(item: T): void {
    this.items.set(this.keyOf(item), item);
  }
  async listDue(before: Date, _limitPerShard: number): Promise<T[]> {
    await Promise.resolve();
    return [...this.items.values()].filter((i) => i.due_at < before.toISOString()).map((i) => ({ ...i }));
  }
  async postpone(ref: T, until: Date): Promise<boolean> {
    await Promise.resolve();
    const key = this.keyOf(ref);
    const current = this.items.get(key);
    if (!current || current.due_at !== ref.due_at) return false;
    this.items.set(key, { ...current, due_at: until.toISOString() });
    this.postponed.push({ key, until });
    return true;
  }
  /** The item's own state; a test can make the index disagree with it through `items` vs `truth`. */
  readonly truth = new Map<string, T>();
  async refreshDue(ref: T): Promise<T | undefined> {
    await Promise.resolve();
    return this.truth.get(this.keyOf(ref)) ?? this.items.get(this.keyOf(ref));
  }
}

class DueEventsFake extends DueIndex<DueEventRef> {
  readonly stored = new Map<string, PublishedEvent>();
  constructor() {
    super((e) => `${e.tenant_id}/${e.id}`);
  }
  async get(tenantId: string, eventId: string): Promise<PublishedEvent | undefined> {
    return this.stored.get(`${tenantId}/${eventId}`);
  }
}

const iso = (msFromT0: number) => new Date(T0.getTime() + msFromT0).toISOString();
const MIN = 60_000;

function setup(lag?: LagRecords) {
  const events = new DueEventsFake();
  const deliveries = new DueIndex<DueDeliveryRef>((d) => d.delivery_id);
  const eventBatches: PublishedEvent[][] = [];
  const deliveryBatches: DeliveryMessage[][] = [];
  const clock = new FakeClock();
  const reconcile = new Reconcile({
    events,
    deliveries,
    eventQueue: { enqueue: async (e) => void eventBatches.push([...e]) },
    deliveryQueue: { enqueue: async (m) => void deliveryBatches.push([...m]) },
    ...(lag ? { lag } : {}),
    clock: clock.clock,
  });
  return { reconcile, events, deliveries, eventBatches, deliveryBatches, clock };
}

const dueDelivery = (id: string, dueAt: string, attemptsCompleted: number): DueDeliveryRef => ({
  delivery_id: id,
  tenant_id: TENANT,
  webhook_id: 'wh_00000000000000000000000001',
  event_id: 'evt_1',
  due_at: dueAt,
  attempts_completed: attemptsCompleted,
});

describe('Reconcile', () => {
  it('re-queues an overdue event and an overdue delivery, with attempt = attempts_completed + 1', async () => {
    const h = setup();
    const e = event({ id: 'evt_lost' });
    h.events.stored.set(`${TENANT}/evt_lost`, e);
    h.events.add({ tenant_id: TENANT, id: 'evt_lost', due_at: iso(-10 * MIN) });
    h.deliveries.add(dueDelivery('dlv_00000000000000000000000NEW', iso(-10 * MIN), 0));
    h.deliveries.add(dueDelivery('dlv_00000000000000000000000MID', iso(-10 * MIN), 2));

    const out = await h.reconcile.execute(5 * MIN);

    expect(out).toEqual({ events: 1, deliveries: 2, waiting: 0 });
    expect(h.eventBatches).toEqual([[e]]);
    expect(h.deliveryBatches).toHaveLength(1);
    expect(h.deliveryBatches[0]).toEqual([
      { delivery_id: 'dlv_00000000000000000000000NEW', tenant_id: TENANT, webhook_id: 'wh_00000000000000000000000001', event_id: 'evt_1', attempt: 1, trigger: 'scheduled' },
      { delivery_id: 'dlv_00000000000000000000000MID', tenant_id: TENANT, webhook_id: 'wh_00000000000000000000000001', event_id: 'evt_1', attempt: 3, trigger: 'scheduled' },
    ]);
    // Overdue items carry no not_before: they go now.
    for (const m of h.deliveryBatches[0]!) expect(m.not_before).toBeUndefined();
  });

  it('pushes each deadline forward by max(grace, 1 min) from now before queueing', async () => {
    const h = setup();
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 0));
    await h.reconcile.execute(5 * MIN);
    expect(h.deliveries.postponed).toEqual([{ key: 'dlv_0000000000000000000000000A', until: new Date(T0.getTime() + 5 * MIN) }]);

    const h2 = setup();
    h2.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 0));
    await h2.reconcile.execute(1000);
    expect(h2.deliveries.postponed).toEqual([{ key: 'dlv_0000000000000000000000000A', until: new Date(T0.getTime() + MIN) }]);
  });

  it('items not yet overdue by the grace are left alone', async () => {
    const h = setup();
    h.events.stored.set(`${TENANT}/evt_1`, event());
    h.events.add({ tenant_id: TENANT, id: 'evt_1', due_at: iso(-2 * MIN) });
    h.deliveries.add(dueDelivery('dlv_00000000000000000000RECENT', iso(-2 * MIN), 1));
    expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 0, deliveries: 0, waiting: 0 });
    expect(h.eventBatches).toHaveLength(0);
    expect(h.deliveryBatches).toHaveLength(0);
    expect(h.deliveries.postponed).toHaveLength(0);
  });

  it('queues each item once: a second reconciler finds the postpone refused', async () => {
    const h = setup();
    h.events.stored.set(`${TENANT}/evt_1`, event());
    h.events.add({ tenant_id: TENANT, id: 'evt_1', due_at: iso(-10 * MIN) });
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 1));

    // Two reconcilers that read the index at the same time.
    const [a, b] = await Promise.all([h.reconcile.execute(5 * MIN), h.reconcile.execute(5 * MIN)]);

    expect(a.events + b.events).toBe(1);
    expect(a.deliveries + b.deliveries).toBe(1);
    expect(h.eventBatches.flat()).toHaveLength(1);
    expect(h.deliveryBatches.flat()).toHaveLength(1);
    expect(h.deliveryBatches.flat()[0]!.attempt).toBe(2);
  });

  it('queues nothing again on a later run within the recheck period', async () => {
    const h = setup();
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 1));
    await h.reconcile.execute(5 * MIN);
    h.clock.advance(MIN);
    expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 0, deliveries: 0, waiting: 0 });
    expect(h.deliveryBatches.flat()).toHaveLength(1);
  });

  it('a postpone refused by the store (the item moved on) is not queued', async () => {
    const h = setup();
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 1));
    h.deliveries.postpone = async () => false;
    expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 0, deliveries: 0, waiting: 0 });
    expect(h.deliveryBatches).toHaveLength(0);
  });

  it('an event that is no longer stored is not queued', async () => {
    const h = setup();
    h.events.add({ tenant_id: TENANT, id: 'evt_gone', due_at: iso(-10 * MIN) });
    expect((await h.reconcile.execute(5 * MIN)).events).toBe(0);
    expect(h.eventBatches).toHaveLength(0);
  });

  it('lookahead: deliveries due soon are queued with not_before = the ladder\'s next attempt time', async () => {
    const h = setup();
    h.deliveries.add({ ...dueDelivery('dlv_0000000000000000000000SOON', iso(4 * MIN), 2), next_attempt_at: iso(4 * MIN) });
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000LATE', iso(30 * MIN), 1));
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000OVER', iso(-1 * MIN), 0));

    const out = await h.reconcile.execute(0, 10 * MIN);

    expect(out.deliveries).toBe(2);
    const byId = new Map(h.deliveryBatches.flat().map((m) => [m.delivery_id, m]));
    expect(byId.get('dlv_0000000000000000000000SOON')).toEqual({
      delivery_id: 'dlv_0000000000000000000000SOON',
      tenant_id: TENANT,
      webhook_id: 'wh_00000000000000000000000001',
      event_id: 'evt_1',
      attempt: 3,
      trigger: 'scheduled',
      not_before: iso(4 * MIN),
    });
    expect(byId.get('dlv_0000000000000000000000OVER')!.not_before).toBeUndefined();
    expect(byId.has('dlv_0000000000000000000000LATE')).toBe(false);
    // A future item's next check counts from its due time.
    expect(h.deliveries.postponed.find((p) => p.key === 'dlv_0000000000000000000000SOON')!.until).toEqual(new Date(T0.getTime() + 5 * MIN));
  });

  it('an index row that disagrees with its item (lagging or torn by a kill) is settled by re-reading the item', async () => {
    const h = setup();
    const stale = dueDelivery('dlv_0000000000000000000000STAL', iso(-10 * MIN), 0);
    h.deliveries.add(stale);
    // The item itself says attempt 1 is done and attempt 2 was due a minute ago.
    h.deliveries.truth.set(stale.delivery_id, { ...stale, due_at: iso(-1 * MIN), attempts_completed: 1 });
    h.deliveries.items.set(stale.delivery_id, { ...stale, due_at: iso(-1 * MIN), attempts_completed: 1 });
    const index = h.deliveries.listDue.bind(h.deliveries);
    h.deliveries.listDue = async (before, limit) => (await index(before, limit)).map((d) => ({ ...d, due_at: iso(-10 * MIN), attempts_completed: 0 }));

    const out = await h.reconcile.execute(0);

    expect(out.deliveries).toBe(1);
    expect(h.deliveryBatches.flat()).toEqual([expect.objectContaining({ delivery_id: stale.delivery_id, attempt: 2 })]);
  });

  it('an item re-read as already pushed forward by another reconciler is not queued again', async () => {
    const h = setup();
    const d = dueDelivery('dlv_0000000000000000000000RACE', iso(-5 * MIN), 0);
    h.deliveries.add(d);
    h.deliveries.items.set(d.delivery_id, { ...d, due_at: iso(5 * MIN) }); // the other one's postpone
    h.deliveries.listDue = async () => [d]; // an index that still shows the old deadline

    const out = await h.reconcile.execute(0);

    expect(out.deliveries).toBe(0);
    expect(h.deliveryBatches.flat()).toEqual([]);
  });

  it('nothing due: nothing queued, zero counts', async () => {
    const h = setup();
    expect(await h.reconcile.execute(5 * MIN, 10 * MIN)).toEqual({ events: 0, deliveries: 0, waiting: 0 });
    expect(h.eventBatches).toHaveLength(0);
    expect(h.deliveryBatches).toHaveLength(0);
  });

  it('a queue failure surfaces (the postponed items come back after the recheck)', async () => {
    const h = setup();
    h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 0));
    const reconcile = new Reconcile({
      events: h.events,
      deliveries: h.deliveries,
      eventQueue: { enqueue: async () => {} },
      deliveryQueue: { enqueue: async () => Promise.reject(new Error('SQS down')) },
      clock: h.clock.clock,
    });
    await expect(reconcile.execute(5 * MIN)).rejects.toThrow('SQS down');
    h.clock.advance(11 * MIN);
    expect((await h.reconcile.execute(5 * MIN)).deliveries).toBe(1);
  });

  describe('with a backlog: late is measured against what the consumers are taking', () => {
    /** The dispatcher, 30 s ago, took an attempt that was due 20 minutes ago: a 20-minute backlog. */
    async function backlogged() {
      const lag = new MemoryLagRecords();
      await lag.record(DELIVERIES_QUEUE_LAG, new Date(T0.getTime() - 20 * MIN), new Date(T0.getTime() - 30_000));
      return { h: setup(lag), lag };
    }

    it('leaves deliveries waiting in the backlog alone and queues the ones behind the front (lost)', async () => {
      const { h } = await backlogged();
      h.deliveries.add(dueDelivery('dlv_000000000000000000WAITING', iso(-15 * MIN), 0));
      h.deliveries.add(dueDelivery('dlv_00000000000000000000000LOST', iso(-40 * MIN), 0));
      // Events have no lag record: late by the clock, as before.
      h.events.stored.set(`${TENANT}/evt_1`, event());
      h.events.add({ tenant_id: TENANT, id: 'evt_1', due_at: iso(-15 * MIN) });

      expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 1, deliveries: 1, waiting: 0 });
      expect(h.deliveryBatches.flat().map((m) => m.delivery_id)).toEqual(['dlv_00000000000000000000000LOST']);
      // The waiting one is not even read, let alone written.
      expect(h.deliveries.postponed.map((p) => p.key)).toEqual(['dlv_00000000000000000000000LOST']);
    });

    it('within the grace of the front, a delivery is still taken for waiting (queues reorder)', async () => {
      const { h } = await backlogged();
      h.deliveries.add(dueDelivery('dlv_000000000000000000000NEAR', iso(-24 * MIN), 0));
      expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 0, deliveries: 0, waiting: 0 });
    });

    it('once the consumers stop reporting late work (caught up, or stopped), late is by the clock again', async () => {
      const { h } = await backlogged();
      h.deliveries.add(dueDelivery('dlv_000000000000000000WAITING', iso(-15 * MIN), 0));
      expect((await h.reconcile.execute(5 * MIN)).deliveries).toBe(0);
      h.clock.advance(LAG_FRESH_MS);
      expect((await h.reconcile.execute(5 * MIN)).deliveries).toBe(1);
    });

    it("a slow webhook's deliveries wait their turn (their deadline pushed forward), another webhook's lost delivery is queued", async () => {
      const lag = new MemoryLagRecords();
      const slow = { tenant_id: TENANT, webhook_id: 'wh_slow' };
      // Its attempts go round while it is at its limit: the last one taken was due 30 minutes ago.
      await lag.record(webhookLag(slow), new Date(T0.getTime() - 30 * MIN), new Date(T0.getTime() - 10_000));
      const h = setup(lag);
      h.deliveries.add({ ...dueDelivery('dlv_0000000000000000000000SLOW', iso(-20 * MIN), 0), webhook_id: 'wh_slow' });
      h.deliveries.add(dueDelivery('dlv_00000000000000000000000LOST', iso(-20 * MIN), 0));

      expect(await h.reconcile.execute(5 * MIN)).toEqual({ events: 0, deliveries: 1, waiting: 1 });
      expect(h.deliveryBatches.flat().map((m) => m.delivery_id)).toEqual(['dlv_00000000000000000000000LOST']);
      // Pushed forward: later passes read past it, and it comes back once the webhook has caught up.
      expect(h.deliveries.postponed).toEqual(
        expect.arrayContaining([{ key: 'dlv_0000000000000000000000SLOW', until: new Date(T0.getTime() + 5 * MIN) }]),
      );
      h.clock.advance(LAG_FRESH_MS + 10 * MIN);
      await h.reconcile.execute(5 * MIN);
      expect(h.deliveryBatches.at(-1)!.map((m) => m.delivery_id)).toContain('dlv_0000000000000000000000SLOW');
    });

    it("a front newer than the clock's cutoff changes nothing", async () => {
      const lag = new MemoryLagRecords();
      await lag.record(DELIVERIES_QUEUE_LAG, new Date(T0.getTime() - 10_000), T0);
      const h = setup(lag);
      h.deliveries.add(dueDelivery('dlv_0000000000000000000000000A', iso(-10 * MIN), 0));
      expect((await h.reconcile.execute(5 * MIN)).deliveries).toBe(1);
    });
  });
});
