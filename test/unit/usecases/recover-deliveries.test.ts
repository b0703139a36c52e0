import type { Delivery, DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import { HooklineError, NotFoundError, ValidationError } from '../../../shared/errors.ts';
import { MAX_RECOVER, RecoverDeliveries } from '../../../shared/usecases/recover-deliveries.ts';
import { delivery, FakeClock, MemoryDeliveryStore, T0, TENANT, webhook } from './fakes.ts';

const OTHER = 'ten_B';

function setup(deliveries: Delivery[], failedIds: string[] = []) {
  const hooks: Webhook[] = [
    webhook({ id: 'wh_00000000000000000000000001' }),
    webhook({ id: 'wh_00000000000000000000000002' }),
    webhook({ tenant_id: OTHER, id: 'wh_00000000000000000000000009' }),
    webhook({ id: 'wh_0000000000000000000000000D', status: 'disabled' }),
    webhook({ id: 'wh_0000000000000000000000000I', active: false }),
  ];
  const store = new MemoryDeliveryStore();
  for (const d of deliveries) store.put(d);
  const queued: DeliveryMessage[][] = [];
  const failedQueries: { webhookId: string; since: Date; limit: number }[] = [];
  const clock = new FakeClock();
  const recover = new RecoverDeliveries({
    webhooks: { get: async (t, id) => hooks.find((w) => w.tenant_id === t && w.id === id) },
    deliveries: store,
    attempts: {
      async failedDeliveriesSince(webhookId, since, limit) {
        failedQueries.push({ webhookId, since, limit });
        return failedIds;
      },
    },
    queue: { enqueue: async (messages) => void queued.push([...messages]) },
    clock: clock.clock,
  });
  return { recover, store, queued, failedQueries, clock };
}

const failed = (id: string, overrides: Partial<Delivery> = {}) =>
  delivery({ delivery_id: id, state: 'failed', attempts_started: 5, attempts_completed: 5, ...overrides });

describe('RecoverDeliveries.retry', () => {
  it('queues one manual attempt numbered attempts_completed + 1 and reopens the delivery', async () => {
    const h = setup([failed('dlv_0000000000000000000000000F', { attempts_started: 5, attempts_completed: 5 })]);
    const out = await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000F');
    expect(out).toEqual({ delivery_id: 'dlv_0000000000000000000000000F', attempt: 6 });
    expect(h.queued).toEqual([
      [{ delivery_id: 'dlv_0000000000000000000000000F', tenant_id: TENANT, webhook_id: 'wh_00000000000000000000000001', event_id: 'evt_1', attempt: 6, trigger: 'manual' }],
    ]);
    expect(h.store.peek('dlv_0000000000000000000000000F')!.state).toBe('pending');
  });

  it('asks the store for the delivery by its webhook and tenant too (the AWS delivery log is kept by webhook)', async () => {
    const h = setup([failed('dlv_0000000000000000000000000F')]);
    const refs: string[] = [];
    const get = h.store.get.bind(h.store);
    const reopen = h.store.reopen.bind(h.store);
    h.store.get = async (ref) => {
      refs.push(`get:${ref.tenant_id}/${ref.webhook_id}/${ref.delivery_id}`);
      return get(ref);
    };
    h.store.reopen = async (ref, now) => {
      refs.push(`reopen:${ref.tenant_id}/${ref.webhook_id}/${ref.delivery_id}`);
      return reopen(ref, now);
    };
    await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000F');
    expect(refs).toEqual([
      `get:${TENANT}/wh_00000000000000000000000001/dlv_0000000000000000000000000F`,
      `reopen:${TENANT}/wh_00000000000000000000000001/dlv_0000000000000000000000000F`,
    ]);
  });

  it('retries a cancelled or succeeded delivery too', async () => {
    const h = setup([
      delivery({ delivery_id: 'dlv_0000000000000000000000000C', state: 'cancelled', attempts_started: 1, attempts_completed: 1 }),
      delivery({ delivery_id: 'dlv_0000000000000000000000000S', state: 'succeeded', attempts_started: 2, attempts_completed: 2 }),
    ]);
    expect((await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000C')).attempt).toBe(2);
    expect((await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000S')).attempt).toBe(3);
  });

  it("another tenant's delivery is not found, and is left alone", async () => {
    const h = setup([failed('dlv_000000000000000000000OTHER', { tenant_id: OTHER, webhook_id: 'wh_00000000000000000000000001' })]);
    await expect(h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_000000000000000000000OTHER')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.store.peek('dlv_000000000000000000000OTHER')!.state).toBe('failed');
    expect(h.store.calls).not.toContain('reopen:dlv_000000000000000000000OTHER');
    expect(h.queued).toHaveLength(0);
  });

  it("another webhook's delivery is not found", async () => {
    const h = setup([failed('dlv_000000000000000000000000W2', { webhook_id: 'wh_00000000000000000000000002' })]);
    await expect(h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_000000000000000000000000W2')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.store.peek('dlv_000000000000000000000000W2')!.state).toBe('failed');
    expect(h.queued).toHaveLength(0);
  });

  it("a webhook of another tenant is not found, even with the right delivery", async () => {
    const h = setup([failed('dlv_00000000000000000000000009', { tenant_id: OTHER, webhook_id: 'wh_00000000000000000000000009' })]);
    await expect(h.recover.retry(TENANT, 'wh_00000000000000000000000009', 'dlv_00000000000000000000000009')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.queued).toHaveLength(0);
  });

  it('an unknown delivery is not found (404)', async () => {
    const h = setup([]);
    const err = await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000NOPE').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as HooklineError).statusCode).toBe(404);
  });

  it('a pending delivery (still on its ladder) is a 409 conflict and is not queued', async () => {
    const h = setup([delivery({ delivery_id: 'dlv_0000000000000000000000000P', state: 'pending', attempts_started: 2, attempts_completed: 1 })]);
    const err = await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000P').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HooklineError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as HooklineError).statusCode).toBe(409);
    expect(h.queued).toHaveLength(0);
    expect(h.store.peek('dlv_0000000000000000000000000P')).toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 1 });
  });

  it('a delivery with 999 attempts (the log numbers them in three digits) is a 409, and recover passes it by', async () => {
    const h = setup([failed('dlv_00000000000000000000000999', { attempts_started: 999, attempts_completed: 999 })], ['dlv_00000000000000000000000999']);
    const err = await h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_00000000000000000000000999').catch((e: unknown) => e);
    expect((err as HooklineError).statusCode).toBe(409);
    expect((err as HooklineError).message).toBe('Delivery dlv_00000000000000000000000999 has had 999 attempts, the most a delivery may have');
    expect(await h.recover.recover(TENANT, 'wh_00000000000000000000000001', new Date(T0.getTime() - 3600_000))).toEqual({ queued: 0 });
    expect(h.queued).toHaveLength(0);
    expect(h.store.peek('dlv_00000000000000000000000999')).toMatchObject({ state: 'failed', attempts_completed: 999 });
    // One fewer still gets its attempt, the 999th.
    const almost = setup([failed('dlv_00000000000000000000000998', { attempts_started: 998, attempts_completed: 998 })]);
    await expect(almost.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_00000000000000000000000998')).resolves.toEqual({ delivery_id: 'dlv_00000000000000000000000998', attempt: 999 });
  });

  it('a disabled or inactive webhook: 409, nothing reopened or queued (the attempt would be cancelled unseen)', async () => {
    for (const [webhookId, said] of [['wh_0000000000000000000000000D', 'disabled'], ['wh_0000000000000000000000000I', 'inactive']] as const) {
      const h = setup([failed('dlv_0000000000000000000000000F', { webhook_id: webhookId })], ['dlv_0000000000000000000000000F']);
      for (const call of [() => h.recover.retry(TENANT, webhookId, 'dlv_0000000000000000000000000F'), () => h.recover.recover(TENANT, webhookId, new Date(0))]) {
        const err = await call().catch((e: unknown) => e);
        expect((err as HooklineError).statusCode).toBe(409);
        expect((err as Error).message).toContain(`is ${said} and receives nothing`);
      }
      expect(h.queued).toHaveLength(0);
      expect(h.store.peek('dlv_0000000000000000000000000F')).toMatchObject({ state: 'failed', attempts_completed: 5 });
    }
  });

  it('two concurrent retries of one delivery queue one attempt; the other gets 409', async () => {
    const h = setup([failed('dlv_0000000000000000000000000F')]);
    const results = await Promise.allSettled([h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000F'), h.recover.retry(TENANT, 'wh_00000000000000000000000001', 'dlv_0000000000000000000000000F')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as HooklineError).statusCode).toBe(409);
    expect(h.queued.flat()).toHaveLength(1);
  });
});

describe('RecoverDeliveries.recover', () => {
  const since = new Date(T0.getTime() - 3600_000);

  it("queues only this tenant's failed deliveries, reopens them and reports the count", async () => {
    const h = setup(
      [
        failed('dlv_0000000000000000000000000A', { attempts_started: 5, attempts_completed: 5 }),
        failed('dlv_0000000000000000000000000B', { attempts_started: 6, attempts_completed: 6, event_id: 'evt_2' }),
        delivery({ delivery_id: 'dlv_000000000000000000000000OK', state: 'succeeded', attempts_started: 2, attempts_completed: 2 }),
        delivery({ delivery_id: 'dlv_0000000000000000000PENDING', state: 'pending', attempts_started: 2, attempts_completed: 2 }),
        delivery({ delivery_id: 'dlv_00000000000000000000CANCEL', state: 'cancelled', attempts_started: 1, attempts_completed: 1 }),
        failed('dlv_000000000000000000000OTHER', { tenant_id: OTHER }),
      ],
      ['dlv_0000000000000000000000000A', 'dlv_000000000000000000000000OK', 'dlv_0000000000000000000000000B', 'dlv_0000000000000000000PENDING', 'dlv_00000000000000000000CANCEL', 'dlv_000000000000000000000OTHER', 'dlv_0000000000000000000MISSING'],
    );
    const out = await h.recover.recover(TENANT, 'wh_00000000000000000000000001', since);

    expect(out).toEqual({ queued: 2 });
    expect(h.failedQueries).toEqual([{ webhookId: 'wh_00000000000000000000000001', since, limit: MAX_RECOVER }]);
    expect(h.queued).toHaveLength(1);
    expect(h.queued[0]).toEqual([
      { delivery_id: 'dlv_0000000000000000000000000A', tenant_id: TENANT, webhook_id: 'wh_00000000000000000000000001', event_id: 'evt_1', attempt: 6, trigger: 'manual' },
      { delivery_id: 'dlv_0000000000000000000000000B', tenant_id: TENANT, webhook_id: 'wh_00000000000000000000000001', event_id: 'evt_2', attempt: 7, trigger: 'manual' },
    ]);
    expect(h.store.peek('dlv_0000000000000000000000000A')!.state).toBe('pending');
    expect(h.store.peek('dlv_0000000000000000000000000B')!.state).toBe('pending');
    expect(h.store.peek('dlv_000000000000000000000000OK')!.state).toBe('succeeded');
    expect(h.store.peek('dlv_00000000000000000000CANCEL')!.state).toBe('cancelled');
    expect(h.store.peek('dlv_000000000000000000000OTHER')!.state).toBe('failed');
    expect(h.store.calls).not.toContain('reopen:dlv_000000000000000000000OTHER');
  });

  it('does not queue a delivery that someone else reopened first', async () => {
    const h = setup([failed('dlv_0000000000000000000000000A'), failed('dlv_0000000000000000000000000B')], ['dlv_0000000000000000000000000A', 'dlv_0000000000000000000000000B']);
    const reopen = h.store.reopen.bind(h.store);
    h.store.reopen = async (ref, now) => {
      if (ref.delivery_id === 'dlv_0000000000000000000000000B') await reopen(ref, now); // a concurrent manual retry wins the race
      return reopen(ref, now);
    };
    const out = await h.recover.recover(TENANT, 'wh_00000000000000000000000001', since);
    expect(out).toEqual({ queued: 1 });
    expect(h.queued.flat().map((m) => m.delivery_id)).toEqual(['dlv_0000000000000000000000000A']);
  });

  it('nothing failed: nothing queued, count 0', async () => {
    const h = setup([delivery({ delivery_id: 'dlv_000000000000000000000000OK', state: 'succeeded', attempts_started: 1, attempts_completed: 1 })], ['dlv_000000000000000000000000OK']);
    expect(await h.recover.recover(TENANT, 'wh_00000000000000000000000001', since)).toEqual({ queued: 0 });
    expect(h.queued).toHaveLength(0);
  });

  it('since in the future is a ValidationError, and nothing is looked up', async () => {
    const h = setup([failed('dlv_0000000000000000000000000A')], ['dlv_0000000000000000000000000A']);
    const err = await h.recover.recover(TENANT, 'wh_00000000000000000000000001', new Date(T0.getTime() + 60_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as HooklineError).statusCode).toBe(400);
    expect(h.failedQueries).toHaveLength(0);
    expect(h.queued).toHaveLength(0);
    expect(h.store.peek('dlv_0000000000000000000000000A')!.state).toBe('failed');
  });

  it('since exactly now is accepted', async () => {
    const h = setup([], []);
    await expect(h.recover.recover(TENANT, 'wh_00000000000000000000000001', new Date(T0))).resolves.toEqual({ queued: 0 });
  });

  it('an unknown webhook (or one of another tenant) is not found', async () => {
    const h = setup([failed('dlv_00000000000000000000000009', { tenant_id: OTHER, webhook_id: 'wh_00000000000000000000000009' })], ['dlv_00000000000000000000000009']);
    await expect(h.recover.recover(TENANT, 'wh_00000000000000000000000009', since)).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.recover.recover(TENANT, 'wh_0000000000000000000000NOPE', since)).rejects.toBeInstanceOf(NotFoundError);
    expect(h.queued).toHaveLength(0);
  });
});
