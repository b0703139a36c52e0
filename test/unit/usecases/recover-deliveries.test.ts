import type { Delivery, DeliveryMessage } from '../../../shared/domain/deliveries.ts';
import type { Webhook } from '../../../shared/domain/webhooks.ts';
import { HooklineError, NotFoundError, ValidationError } from '../../../shared/errors.ts';
import { MAX_RECOVER, RecoverDeliveries } from '../../../shared/usecases/recover-deliveries.ts';
import { delivery, FakeClock, MemoryDeliveryStore, T0, TENANT, webhook } from './fakes.ts';

const OTHER = 'ten_B';

function setup(deliveries: Delivery[], failedIds: string[] = []) {
  const hooks: Webhook[] = [webhook({ id: 'wh_1' }), webhook({ id: 'wh_2' }), webhook({ tenant_id: OTHER, id: 'wh_9' })];
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
    const h = setup([failed('dlv_f', { attempts_started: 5, attempts_completed: 5 })]);
    const out = await h.recover.retry(TENANT, 'wh_1', 'dlv_f');
    expect(out).toEqual({ delivery_id: 'dlv_f', attempt: 6 });
    expect(h.queued).toEqual([
      [{ delivery_id: 'dlv_f', tenant_id: TENANT, webhook_id: 'wh_1', event_id: 'evt_1', attempt: 6, trigger: 'manual' }],
    ]);
    expect(h.store.peek('dlv_f')!.state).toBe('pending');
  });

  it('retries a cancelled or succeeded delivery too', async () => {
    const h = setup([
      delivery({ delivery_id: 'dlv_c', state: 'cancelled', attempts_started: 1, attempts_completed: 1 }),
      delivery({ delivery_id: 'dlv_s', state: 'succeeded', attempts_started: 2, attempts_completed: 2 }),
    ]);
    expect((await h.recover.retry(TENANT, 'wh_1', 'dlv_c')).attempt).toBe(2);
    expect((await h.recover.retry(TENANT, 'wh_1', 'dlv_s')).attempt).toBe(3);
  });

  it("another tenant's delivery is not found, and is left alone", async () => {
    const h = setup([failed('dlv_other', { tenant_id: OTHER, webhook_id: 'wh_1' })]);
    await expect(h.recover.retry(TENANT, 'wh_1', 'dlv_other')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.store.peek('dlv_other')!.state).toBe('failed');
    expect(h.store.calls).not.toContain('reopen:dlv_other');
    expect(h.queued).toHaveLength(0);
  });

  it("another webhook's delivery is not found", async () => {
    const h = setup([failed('dlv_w2', { webhook_id: 'wh_2' })]);
    await expect(h.recover.retry(TENANT, 'wh_1', 'dlv_w2')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.store.peek('dlv_w2')!.state).toBe('failed');
    expect(h.queued).toHaveLength(0);
  });

  it("a webhook of another tenant is not found, even with the right delivery", async () => {
    const h = setup([failed('dlv_9', { tenant_id: OTHER, webhook_id: 'wh_9' })]);
    await expect(h.recover.retry(TENANT, 'wh_9', 'dlv_9')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.queued).toHaveLength(0);
  });

  it('an unknown delivery is not found (404)', async () => {
    const h = setup([]);
    const err = await h.recover.retry(TENANT, 'wh_1', 'dlv_nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as HooklineError).statusCode).toBe(404);
  });

  it('a pending delivery (still on its ladder) is a 409 conflict and is not queued', async () => {
    const h = setup([delivery({ delivery_id: 'dlv_p', state: 'pending', attempts_started: 2, attempts_completed: 1 })]);
    const err = await h.recover.retry(TENANT, 'wh_1', 'dlv_p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HooklineError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as HooklineError).statusCode).toBe(409);
    expect(h.queued).toHaveLength(0);
    expect(h.store.peek('dlv_p')).toMatchObject({ state: 'pending', attempts_started: 2, attempts_completed: 1 });
  });

  it('two concurrent retries of one delivery queue one attempt; the other gets 409', async () => {
    const h = setup([failed('dlv_f')]);
    const results = await Promise.allSettled([h.recover.retry(TENANT, 'wh_1', 'dlv_f'), h.recover.retry(TENANT, 'wh_1', 'dlv_f')]);
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
        failed('dlv_a', { attempts_started: 5, attempts_completed: 5 }),
        failed('dlv_b', { attempts_started: 6, attempts_completed: 6, event_id: 'evt_2' }),
        delivery({ delivery_id: 'dlv_ok', state: 'succeeded', attempts_started: 2, attempts_completed: 2 }),
        delivery({ delivery_id: 'dlv_pending', state: 'pending', attempts_started: 2, attempts_completed: 2 }),
        delivery({ delivery_id: 'dlv_cancel', state: 'cancelled', attempts_started: 1, attempts_completed: 1 }),
        failed('dlv_other', { tenant_id: OTHER }),
      ],
      ['dlv_a', 'dlv_ok', 'dlv_b', 'dlv_pending', 'dlv_cancel', 'dlv_other', 'dlv_missing'],
    );
    const out = await h.recover.recover(TENANT, 'wh_1', since);

    expect(out).toEqual({ queued: 2 });
    expect(h.failedQueries).toEqual([{ webhookId: 'wh_1', since, limit: MAX_RECOVER }]);
    expect(h.queued).toHaveLength(1);
    expect(h.queued[0]).toEqual([
      { delivery_id: 'dlv_a', tenant_id: TENANT, webhook_id: 'wh_1', event_id: 'evt_1', attempt: 6, trigger: 'manual' },
      { delivery_id: 'dlv_b', tenant_id: TENANT, webhook_id: 'wh_1', event_id: 'evt_2', attempt: 7, trigger: 'manual' },
    ]);
    expect(h.store.peek('dlv_a')!.state).toBe('pending');
    expect(h.store.peek('dlv_b')!.state).toBe('pending');
    expect(h.store.peek('dlv_ok')!.state).toBe('succeeded');
    expect(h.store.peek('dlv_cancel')!.state).toBe('cancelled');
    expect(h.store.peek('dlv_other')!.state).toBe('failed');
    expect(h.store.calls).not.toContain('reopen:dlv_other');
  });

  it('does not queue a delivery that someone else reopened first', async () => {
    const h = setup([failed('dlv_a'), failed('dlv_b')], ['dlv_a', 'dlv_b']);
    const reopen = h.store.reopen.bind(h.store);
    h.store.reopen = async (id, now) => {
      if (id === 'dlv_b') await reopen(id, now); // a concurrent manual retry wins the race
      return reopen(id, now);
    };
    const out = await h.recover.recover(TENANT, 'wh_1', since);
    expect(out).toEqual({ queued: 1 });
    expect(h.queued.flat().map((m) => m.delivery_id)).toEqual(['dlv_a']);
  });

  it('nothing failed: nothing queued, count 0', async () => {
    const h = setup([delivery({ delivery_id: 'dlv_ok', state: 'succeeded', attempts_started: 1, attempts_completed: 1 })], ['dlv_ok']);
    expect(await h.recover.recover(TENANT, 'wh_1', since)).toEqual({ queued: 0 });
    expect(h.queued).toHaveLength(0);
  });

  it('since in the future is a ValidationError, and nothing is looked up', async () => {
    const h = setup([failed('dlv_a')], ['dlv_a']);
    const err = await h.recover.recover(TENANT, 'wh_1', new Date(T0.getTime() + 60_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as HooklineError).statusCode).toBe(400);
    expect(h.failedQueries).toHaveLength(0);
    expect(h.queued).toHaveLength(0);
    expect(h.store.peek('dlv_a')!.state).toBe('failed');
  });

  it('since exactly now is accepted', async () => {
    const h = setup([], []);
    await expect(h.recover.recover(TENANT, 'wh_1', new Date(T0))).resolves.toEqual({ queued: 0 });
  });

  it('an unknown webhook (or one of another tenant) is not found', async () => {
    const h = setup([failed('dlv_9', { tenant_id: OTHER, webhook_id: 'wh_9' })], ['dlv_9']);
    await expect(h.recover.recover(TENANT, 'wh_9', since)).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.recover.recover(TENANT, 'wh_nope', since)).rejects.toBeInstanceOf(NotFoundError);
    expect(h.queued).toHaveLength(0);
  });
});
