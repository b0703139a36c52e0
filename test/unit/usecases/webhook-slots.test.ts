import type { SlotHolder, SlotLease, SlotRefusal } from '../../../shared/usecases/dispatch.ts';
import {
  DeliverySlots,
  LEASE_MARGIN_MS,
  SharedWebhookSlots,
  SLOW_ATTEMPT_MS,
  type SharedSlotsOptions,
  type WebhookLeases,
} from '../../../shared/usecases/webhook-slots.ts';
import { KeyedSlots } from '../../../shared/usecases/keyed-slots.ts';
import { FakeClock } from './fakes.ts';

describe('KeyedSlots', () => {
  it('gives each key at most `limit` slots, independently of other keys, and takes them back', () => {
    const slots = new KeyedSlots(2);
    expect([slots.tryAcquire('a'), slots.tryAcquire('a'), slots.tryAcquire('a')]).toEqual([true, true, false]);
    expect(slots.tryAcquire('b')).toBe(true);
    slots.release('a');
    expect(slots.tryAcquire('a')).toBe(true);
    expect(slots.tryAcquire('a')).toBe(false);
  });

  it('a release without an acquire does not create spare slots', () => {
    const slots = new KeyedSlots(1);
    slots.release('a');
    slots.release('a');
    expect([slots.tryAcquire('a'), slots.tryAcquire('a')]).toEqual([true, false]);
  });

  it('tells how long a full key has given no slot back', () => {
    let now = 0;
    const slots = new KeyedSlots(2, () => now);
    slots.tryAcquire('a');
    now = 50;
    expect(slots.stalledMs('a')).toBe(0);
    slots.tryAcquire('a');
    now = 150;
    expect(slots.stalledMs('a')).toBe(100);
    slots.release('a');
    expect(slots.stalledMs('a')).toBe(0);
    slots.tryAcquire('a');
    now = 200;
    // Full again since 150, when a slot last came free.
    expect(slots.stalledMs('a')).toBe(50);
    slots.release('a');
    slots.release('a');
    slots.tryAcquire('a');
    slots.tryAcquire('a');
    now = 260;
    expect(slots.stalledMs('a')).toBe(60);
  });
});

describe('DeliverySlots', () => {
  const A1 = { tenant_id: 'ten_A', webhook_id: 'wh_A1' };
  const A2 = { tenant_id: 'ten_A', webhook_id: 'wh_A2' };
  const B1 = { tenant_id: 'ten_B', webhook_id: 'wh_B1' };

  it("caps a tenant across its webhooks and leaves another tenant's slots alone", () => {
    const slots = new DeliverySlots({ perWebhook: 2, perTenant: 3 });
    expect([slots.tryAcquire(A1), slots.tryAcquire(A1), slots.tryAcquire(A1)]).toEqual(['acquired', 'acquired', 'webhook busy']);
    expect([slots.tryAcquire(A2), slots.tryAcquire(A2)]).toEqual(['acquired', 'tenant busy']);
    expect([slots.tryAcquire(B1), slots.tryAcquire(B1)]).toEqual(['acquired', 'acquired']);
  });

  it('with waitMs, an attempt waits for the next free slot of its webhook or tenant, first come first served, and is refused once waitMs has passed', async () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 2, waitMs: 200 });
    const first = (await slots.acquire(A1)) as SlotLease;
    const order: string[] = [];
    const second = slots.acquire(A1).then((r) => (order.push('second'), r));
    const third = slots.acquire(A1).then((r) => (order.push('third'), r));
    await first.release();
    const got = (await second) as SlotLease;
    expect('release' in got).toBe(true);
    await got.release();
    const last = (await third) as SlotLease;
    expect(order).toEqual(['second', 'third']);
    // Nobody releases now: the next one waits its 200 ms out and is refused.
    expect(await slots.acquire(A1)).toEqual({ reason: 'webhook busy', retryInMs: expect.any(Number) });
    await last.release();
  });

  it('counts the attempts waiting for a slot, until each gets one or gives up', async () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 2, waitMs: 100 });
    const held = (await slots.acquire(A1)) as SlotLease;
    expect(slots.waiting()).toBe(0);
    const second = slots.acquire(A1);
    const third = slots.acquire(A2);
    const fourth = slots.acquire(A2);
    // The second waits for A1's webhook (held), the fourth for A2's (the third took it).
    expect('release' in ((await third) as SlotLease)).toBe(true);
    expect(slots.waiting()).toBe(2);
    await held.release();
    const got = (await second) as SlotLease;
    expect(slots.waiting()).toBe(1);
    expect(await fourth).toEqual({ reason: 'webhook busy', retryInMs: 1000 });
    expect(slots.waiting()).toBe(0);
    await got.release();
  });

  it('refuses at once an attempt to a webhook or tenant that has been full for waitMs with no slot coming free', async () => {
    let now = 0;
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 2, waitMs: 200 }, () => now);
    const hanging = (await slots.acquire(A1)) as SlotLease;
    const other = (await slots.acquire(A2)) as SlotLease;
    now = 250;
    // Neither waits in line: the tenant and A1's webhook have given nothing back for 250 ms.
    const refusals = [slots.acquire(A1), slots.acquire(B1), slots.acquire({ tenant_id: 'ten_A', webhook_id: 'wh_A3' })];
    expect(slots.waiting()).toBe(0);
    const answers = await Promise.all(refusals);
    expect(answers).toEqual([
      { reason: 'webhook busy', retryInMs: expect.any(Number) },
      expect.objectContaining({ release: expect.any(Function) }),
      { reason: 'tenant busy', retryInMs: 1000 },
    ]);
    await Promise.all([hanging.release(), other.release(), (answers[1] as SlotLease).release()]);
  });

  it('a refused tenant slot gives the webhook slot back', () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 });
    expect(slots.tryAcquire(A1)).toBe('acquired');
    expect(slots.tryAcquire(A2)).toBe('tenant busy');
    slots.release(A1);
    // A2's webhook slot was not kept by the refusal: it can be taken now.
    expect(slots.tryAcquire(A2)).toBe('acquired');
  });

  it("sends a busy webhook's message round after about one of its attempts' time: a second for a fast one, up to 15 s for one that hangs", async () => {
    let now = 0;
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 }, () => now);
    const hanging = await slots.acquire(A1);
    now += 10_000;
    await (hanging as SlotLease).release();
    const held = await slots.acquire(A1);
    const refusal = await slots.acquire(A1);
    expect(refusal).toEqual({ reason: 'webhook busy', retryInMs: expect.any(Number) });
    const retryInMs = (refusal as SlotRefusal).retryInMs;
    expect(retryInMs).toBeGreaterThanOrEqual(7500);
    expect(retryInMs).toBeLessThanOrEqual(12_500);
    // The tenant's cap says nothing of how long its webhooks take: a second.
    expect(await slots.acquire(A2)).toEqual({ reason: 'tenant busy', retryInMs: 1000 });
    now += 50;
    await (held as SlotLease).release();
    await ((await slots.acquire(A1)) as SlotLease).release();
    await slots.acquire(A1);
    expect(await slots.acquire(A1)).toEqual({ reason: 'webhook busy', retryInMs: 1000 });
  });

  it('release frees both the webhook and the tenant slot', () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 });
    expect(slots.tryAcquire(A1)).toBe('acquired');
    slots.release(A1);
    expect(slots.tryAcquire(A1)).toBe('acquired');
  });
});

/** DynamoWebhookLeases on a Map: a lease counts until its expiry; every call is logged. */
class MemoryLeases implements WebhookLeases {
  readonly calls: string[] = [];
  private readonly byWebhook = new Map<string, Map<string, number>>();
  failTakes = false;
  failDrops = false;

  async take(holder: SlotHolder, id: string, until: Date, now: Date, limit?: number): Promise<boolean> {
    await Promise.resolve();
    this.calls.push(limit === undefined ? 'count' : 'take');
    if (this.failTakes) throw new Error('DynamoDB throttled');
    const leases = this.leasesOf(holder);
    const live = [...leases.values()].filter((expiry) => expiry > now.getTime()).length;
    if (limit !== undefined && live >= limit) return false;
    leases.set(id, until.getTime());
    return true;
  }

  async drop(holder: SlotHolder, id: string): Promise<void> {
    await Promise.resolve();
    this.calls.push('drop');
    if (this.failDrops) throw new Error('DynamoDB throttled');
    this.leasesOf(holder).delete(id);
  }

  held(holder: SlotHolder, now: Date): number {
    return [...this.leasesOf(holder).values()].filter((expiry) => expiry > now.getTime()).length;
  }

  private leasesOf(holder: SlotHolder): Map<string, number> {
    const key = `${holder.tenant_id}/${holder.webhook_id}`;
    if (!this.byWebhook.has(key)) this.byWebhook.set(key, new Map());
    return this.byWebhook.get(key)!;
  }
}

/** Timers the test fires by hand (SLOW_ATTEMPT_MS passing). */
class ManualTimers {
  private readonly pending = new Set<() => void>();
  readonly after = (_ms: number, fn: () => void) => {
    this.pending.add(fn);
    return () => void this.pending.delete(fn);
  };
  fire(): void {
    const due = [...this.pending];
    this.pending.clear();
    due.forEach((fn) => fn());
  }
}

describe('SharedWebhookSlots: the per-webhook limit across dispatcher containers', () => {
  const W = { tenant_id: 'ten_A', webhook_id: 'wh_A1' };
  const ATTEMPT_MAX_MS = 40_000;

  function containers(perWebhook: number, count = 2) {
    const leases = new MemoryLeases();
    const clock = new FakeClock();
    const timers = new ManualTimers();
    const errors: string[] = [];
    const options: SharedSlotsOptions = {
      perWebhook,
      perTenant: 50,
      attemptMaxMs: ATTEMPT_MAX_MS,
      clock: clock.clock,
      after: timers.after,
      onError: (message) => void errors.push(message),
    };
    const slots = Array.from({ length: count }, () => new SharedWebhookSlots(leases, options));
    return { leases, clock, timers, errors, slots };
  }
  const lease = (taken: SlotLease | SlotRefusal): SlotLease => {
    if ('reason' in taken) throw new Error(`expected a lease, got ${taken.reason}`);
    return taken;
  };
  const refused = (taken: SlotLease | SlotRefusal): string => ('reason' in taken ? taken.reason : 'acquired');

  it('two containers together hold at most perWebhook attempts; a release lets the other container in', async () => {
    const { slots, leases, clock } = containers(2);
    const [a, b] = slots as [SharedWebhookSlots, SharedWebhookSlots];
    const a1 = lease(await a.acquire(W));
    lease(await a.acquire(W));
    expect(refused(await b.acquire(W))).toBe('webhook busy');
    expect(leases.held(W, clock.now)).toBe(2);

    // (Attempts of a second or more: the webhook is not one this container knows as fast.)
    clock.advance(SLOW_ATTEMPT_MS);
    await a1.release();
    const b1 = lease(await b.acquire(W));
    expect(refused(await a.acquire(W))).toBe('webhook busy');
    expect(leases.held(W, clock.now)).toBe(2);
    // Another webhook has its own slots.
    lease(await b.acquire({ tenant_id: 'ten_A', webhook_id: 'wh_A2' }));
    await b1.release();
    await b1.release();
    expect(leases.held(W, clock.now)).toBe(1);
  });

  it("a crashed container's attempts hold their slots only until their leases expire", async () => {
    const { slots, clock } = containers(1);
    const [crashed, alive] = slots as [SharedWebhookSlots, SharedWebhookSlots];
    lease(await crashed.acquire(W));
    expect(refused(await alive.acquire(W))).toBe('webhook busy');
    clock.advance(ATTEMPT_MAX_MS + LEASE_MARGIN_MS - 1);
    expect(refused(await alive.acquire(W))).toBe('webhook busy');
    clock.advance(2);
    lease(await alive.acquire(W));
  });

  it('a webhook a container has seen answer fast costs no DynamoDB call, until an attempt runs past SLOW_ATTEMPT_MS: then it is counted', async () => {
    const { slots, leases, clock, timers } = containers(1);
    const [a, b] = slots as [SharedWebhookSlots, SharedWebhookSlots];
    // First contact: leased; it came back fast.
    const first = lease(await a.acquire(W));
    clock.advance(50);
    await first.release();
    expect(leases.calls).toEqual(['take', 'drop']);

    // Known fast here: attempts start without the lease (the local limit still holds).
    const fast = lease(await a.acquire(W));
    clock.advance(50);
    await fast.release();
    const slow = lease(await a.acquire(W));
    expect(leases.calls).toEqual(['take', 'drop']);

    // It runs past SLOW_ATTEMPT_MS: counted, so the other container sees the webhook at its limit.
    clock.advance(SLOW_ATTEMPT_MS);
    timers.fire();
    await new Promise((r) => setImmediate(r));
    expect(leases.held(W, clock.now)).toBe(1);
    expect(refused(await b.acquire(W))).toBe('webhook busy');
    await slow.release();
    expect(leases.held(W, clock.now)).toBe(0);

    // Slow once: the next attempt from this container takes its lease before it starts.
    leases.calls.length = 0;
    const next = lease(await a.acquire(W));
    expect(leases.calls).toEqual(['take']);
    await next.release();
  });

  it('the in-process limits come first: a tenant at its cap in this container takes no lease', async () => {
    const leases = new MemoryLeases();
    const slots = new SharedWebhookSlots(leases, { perWebhook: 5, perTenant: 1, attemptMaxMs: 1000, clock: new FakeClock().clock, after: new ManualTimers().after });
    lease(await slots.acquire(W));
    expect(refused(await slots.acquire({ tenant_id: 'ten_A', webhook_id: 'wh_A2' }))).toBe('tenant busy');
    expect(leases.calls).toEqual(['take']);
  });

  it('a lease store that fails: the take throws with the local slots given back; a failed drop is logged and the slot expires', async () => {
    const { slots, leases, errors, clock } = containers(1, 1);
    const [a] = slots as [SharedWebhookSlots];
    leases.failTakes = true;
    await expect(a.acquire(W)).rejects.toThrow('DynamoDB throttled');
    leases.failTakes = false;
    const taken = lease(await a.acquire(W));
    leases.failDrops = true;
    clock.advance(SLOW_ATTEMPT_MS);
    await expect(taken.release()).resolves.toBeUndefined();
    expect(errors).toEqual([expect.stringContaining('expires by itself')]);
    // The local slot was given back all the same (perWebhook 1): only the stale lease blocks.
    expect(refused(await a.acquire(W))).toBe('webhook busy');
    expect(leases.calls.at(-1)).toBe('take');
  });
});
