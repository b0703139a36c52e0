import type { DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import { deliveryIdFor } from '../../../shared/domain/ids.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import { FanOutEvent, recipients, type NewDelivery } from '../../../shared/usecases/fan-out.ts';
import { event, FakeClock, TENANT, webhook } from './fakes.ts';

class Fakes {
  pages: Webhook[][] = [];
  readonly log: string[] = [];
  readonly finished: { tenantId: string; eventId: string; at: Date }[] = [];
  readonly stored = new Map<string, NewDelivery>();
  readonly createCalls: { deliveries: NewDelivery[]; dueAt?: Date }[] = [];
  readonly queued: DeliveryMessage[][] = [];
  failCreate = false;

  readonly webhooks = {
    pages: (tenantId: string): AsyncIterable<readonly Webhook[]> => {
      const pages = this.pages;
      const log = this.log;
      return (async function* () {
        for (const [i, page] of pages.entries()) {
          log.push(`page:${i}`);
          yield page.filter((w) => w.tenant_id === tenantId);
        }
      })();
    },
  };
  readonly progress = {
    finishFanout: async (tenantId: string, eventId: string, at: Date): Promise<void> => {
      this.log.push('finish');
      this.finished.push({ tenantId, eventId, at });
    },
  };
  readonly deliveries = {
    createMany: async (deliveries: readonly NewDelivery[], _now: Date, dueAt?: Date): Promise<NewDelivery[]> => {
      this.log.push(`create:${deliveries.length}`);
      this.createCalls.push({ deliveries: [...deliveries], ...(dueAt ? { dueAt } : {}) });
      if (this.failCreate) throw new Error('DynamoDB down');
      const created = deliveries.filter((d) => !this.stored.has(d.delivery_id));
      for (const d of created) this.stored.set(d.delivery_id, d);
      return created;
    },
  };
  readonly queue = {
    enqueue: async (messages: readonly DeliveryMessage[]): Promise<void> => {
      this.log.push(`enqueue:${messages.length}`);
      this.queued.push([...messages]);
    },
  };
}

/** With delivery records and fan-out progress (the one-machine store), or without (AWS). */
function setup(pages: Webhook[][], store: 'records' | 'queue-only' = 'records', firstDelaySeconds = 0) {
  const f = new Fakes();
  f.pages = pages;
  const clock = new FakeClock();
  const records = store === 'records' ? { progress: f.progress, deliveries: f.deliveries } : {};
  const fanOut = new FanOutEvent({ webhooks: f.webhooks, ...records, queue: f.queue, clock: clock.clock, firstDelaySeconds });
  return { f, fanOut, clock };
}

const e = event({ id: 'evt_1', event: 'alert.created', data: { severity: 'high', cvss: 9.1 } });

const hooks = {
  all: webhook({ id: 'wh_00000000000000000000000ALL', events: ['*'] }),
  prefix: webhook({ id: 'wh_00000000000000000000PREFIX', events: ['alert.*'] }),
  exact: webhook({ id: 'wh_000000000000000000000EXACT', events: ['scan.completed', 'alert.created'] }),
  failing: webhook({ id: 'wh_0000000000000000000FAILING', events: ['*'], status: 'failing' }),
  filtered: webhook({ id: 'wh_000000000000000000FILTERED', events: ['*'], filter: { 'data.severity': { in: ['high', 'critical'] }, 'data.cvss': { gte: 7 } } }),
  inactive: webhook({ id: 'wh_000000000000000000INACTIVE', events: ['*'], active: false }),
  disabled: webhook({ id: 'wh_000000000000000000DISABLED', events: ['*'], status: 'disabled' }),
  otherType: webhook({ id: 'wh_other_type', events: ['scan.completed'] }),
  alertsPrefix: webhook({ id: 'wh_00000000000000000000ALERTS', events: ['alerts.*'] }),
  filterMiss: webhook({ id: 'wh_filter_miss', events: ['*'], filter: { 'data.severity': 'low' } }),
};
const matching = ['wh_00000000000000000000000ALL', 'wh_00000000000000000000PREFIX', 'wh_000000000000000000000EXACT', 'wh_0000000000000000000FAILING', 'wh_000000000000000000FILTERED'];

describe('recipients', () => {
  it('only receiving webhooks that subscribe to the type and pass the filter', () => {
    expect(recipients(Object.values(hooks), e).map((w) => w.id)).toEqual(matching);
  });
  it('not a webhook created after the event was received (it waited in a backlog, or fans out again)', () => {
    const later = { ...hooks.all, created_at: new Date(Date.parse(e.received_at) + 1).toISOString() };
    const sameInstant = { ...hooks.all, created_at: e.received_at };
    expect(recipients([later], e)).toEqual([]);
    expect(recipients([sameInstant], e)).toEqual([sameInstant]);
  });
});

describe('FanOutEvent', () => {
  it("holds attempt 1 back by the ladder's first rung: the rows are due then, and the messages say not before", async () => {
    for (const store of ['records', 'queue-only'] as const) {
      const { f, fanOut, clock } = setup([[hooks.all]], store, 8);
      await fanOut.execute(e);
      const due = new Date(clock.clock().getTime() + 8_000).toISOString();
      expect(f.queued.flat().map((m) => [m.attempt, m.due_at, m.not_before])).toEqual([[1, due, due]]);
      if (store === 'records') expect(f.createCalls.map((c) => c.dueAt?.toISOString())).toEqual([due]);
    }
    // At 0 (the default) nothing is held back.
    const none = setup([[hooks.all]]);
    await none.fanOut.execute(e);
    expect(none.f.queued.flat()[0]).not.toHaveProperty('not_before');
    expect(none.f.createCalls[0]!.dueAt?.toISOString()).toBe(none.clock.clock().toISOString());
  });

  it('creates and queues one delivery per receiving, matching webhook, across pages; each message carries the event', async () => {
    const { f, fanOut, clock } = setup([
      [hooks.all, hooks.inactive, hooks.prefix, hooks.otherType],
      [hooks.disabled, hooks.exact, hooks.alertsPrefix],
      [hooks.failing, hooks.filtered, hooks.filterMiss],
    ]);
    const queued = await fanOut.execute(e);

    expect(queued).toBe(5);
    expect([...f.stored.values()].map((d) => d.webhook_id).sort()).toEqual([...matching].sort());
    const messages = f.queued.flat();
    expect(messages.map((m) => m.webhook_id).sort()).toEqual([...matching].sort());
    for (const m of messages) {
      expect(m).toEqual({
        delivery_id: deliveryIdFor(TENANT, 'evt_1', m.webhook_id, e.received_at),
        tenant_id: TENANT,
        webhook_id: m.webhook_id,
        event_id: 'evt_1',
        attempt: 1,
        trigger: 'scheduled',
        due_at: clock.now.toISOString(),
        event: e,
      });
    }
    for (const d of f.stored.values()) expect(d.event_type).toBe('alert.created');
  });

  it('delivery ids are deterministic per (tenant, event, webhook) and distinct between webhooks', async () => {
    const a = setup([[hooks.all, hooks.prefix]]);
    const b = setup([[hooks.all, hooks.prefix]]);
    await a.fanOut.execute(e);
    await b.fanOut.execute(e);
    const idsA = a.f.queued.flat().map((m) => m.delivery_id);
    const idsB = b.f.queued.flat().map((m) => m.delivery_id);
    expect(idsA).toEqual(idsB);
    expect(new Set(idsA).size).toBe(2);
    const at = e.received_at;
    expect(idsA[0]).toBe(deliveryIdFor(TENANT, 'evt_1', 'wh_00000000000000000000000ALL', at));
    expect(deliveryIdFor(TENANT, 'evt_1', 'wh_00000000000000000000000ALL', at)).not.toBe(deliveryIdFor(TENANT, 'evt_2', 'wh_00000000000000000000000ALL', at));
    expect(deliveryIdFor(TENANT, 'evt_1', 'wh_00000000000000000000000ALL', at)).not.toBe(deliveryIdFor('ten_B', 'evt_1', 'wh_00000000000000000000000ALL', at));
  });

  it('writes nothing to the event first; a second run creates and queues only what is new', async () => {
    const { f, fanOut } = setup([[hooks.all, hooks.prefix]]);
    expect(await fanOut.execute(e)).toBe(2);
    expect(f.log[0]).toMatch(/^page:/);

    // Redelivery of the event message after a webhook was added.
    f.pages = [[hooks.all, hooks.prefix, hooks.exact]];
    expect(await fanOut.execute(e)).toBe(1);
    expect(f.createCalls[1]!.deliveries).toHaveLength(3);
    expect(f.queued[1]!.map((m) => m.webhook_id)).toEqual(['wh_000000000000000000000EXACT']);
    expect(f.queued.flat()).toHaveLength(3);

    // A third run finds everything: nothing queued.
    expect(await fanOut.execute(e)).toBe(0);
    expect(f.createCalls).toHaveLength(3);
    expect(f.queued.flat()).toHaveLength(3);
  });

  it('calls finishFanout once, after every page has been created and queued', async () => {
    const { f, fanOut, clock } = setup([[hooks.all], [hooks.inactive], [hooks.prefix]]);
    await fanOut.execute(e);
    expect(f.log).toEqual(['page:0', 'create:1', 'enqueue:1', 'page:1', 'page:2', 'create:1', 'enqueue:1', 'finish']);
    expect(f.finished).toEqual([{ tenantId: TENANT, eventId: 'evt_1', at: clock.now }]);
  });

  it('no matching webhook: nothing created or queued, fan-out still finished', async () => {
    const { f, fanOut } = setup([[hooks.inactive, hooks.otherType], []]);
    expect(await fanOut.execute(e)).toBe(0);
    expect(f.createCalls).toHaveLength(0);
    expect(f.queued.flat()).toHaveLength(0);
    expect(f.finished).toHaveLength(1);
  });

  it('a store failure leaves the fan-out unfinished (the reconciler runs it again)', async () => {
    const { f, fanOut } = setup([[hooks.all]]);
    f.failCreate = true;
    await expect(fanOut.execute(e)).rejects.toThrow('DynamoDB down');
    expect(f.finished).toHaveLength(0);
    expect(f.queued).toHaveLength(0);
  });
});

describe('FanOutEvent without delivery records (AWS: the queue and the delivery log keep them)', () => {
  it('queues every wanted delivery, with its event, and writes nothing else', async () => {
    const { f, fanOut, clock } = setup([[hooks.all, hooks.inactive], [hooks.prefix]], 'queue-only');
    expect(await fanOut.execute(e)).toBe(2);
    expect(f.log).toEqual(['page:0', 'enqueue:1', 'page:1', 'enqueue:1']);
    expect(f.createCalls).toHaveLength(0);
    expect(f.finished).toHaveLength(0);
    expect(f.queued.flat()).toEqual(
      ['wh_00000000000000000000000ALL', 'wh_00000000000000000000PREFIX'].map((id) => ({
        delivery_id: deliveryIdFor(TENANT, 'evt_1', id, e.received_at),
        tenant_id: TENANT,
        webhook_id: id,
        event_id: 'evt_1',
        attempt: 1,
        trigger: 'scheduled',
        due_at: clock.now.toISOString(),
        event: e,
      })),
    );
  });

  it('marks the messages of an event queued again, or of a redelivered event message, for the dispatcher to check the log first', async () => {
    const first = setup([[hooks.all]], 'queue-only');
    await first.fanOut.execute(e);
    expect(first.f.queued.flat()[0]).not.toHaveProperty('recheck');

    const again = setup([[hooks.all]], 'queue-only');
    await again.fanOut.execute({ ...e, again: true });
    const [message] = again.f.queued.flat();
    expect(message).toMatchObject({ recheck: true, event: e });
    // The flag is the queue's, not the event's: the receiver never sees it.
    expect(message!.event).not.toHaveProperty('again');

    const redelivered = setup([[hooks.all]], 'queue-only');
    await redelivered.fanOut.execute(e, true);
    expect(redelivered.f.queued.flat()[0]).toMatchObject({ recheck: true });
  });

  it('a second run (the event message redelivered) queues the same deliveries again: same ids, for the log to keep once', async () => {
    const { f, fanOut } = setup([[hooks.all, hooks.prefix]], 'queue-only');
    expect(await fanOut.execute(e)).toBe(2);
    expect(await fanOut.execute(e)).toBe(2);
    const [first, second] = f.queued;
    expect(second!.map((m) => m.delivery_id)).toEqual(first!.map((m) => m.delivery_id));
  });
});
