import { DeliverySlots, KeyedSlots } from '../../../shared/usecases/webhook-slots.ts';

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

  it('a refused tenant slot gives the webhook slot back', () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 });
    expect(slots.tryAcquire(A1)).toBe('acquired');
    expect(slots.tryAcquire(A2)).toBe('tenant busy');
    slots.release(A1);
    // A2's webhook slot was not kept by the refusal: it can be taken now.
    expect(slots.tryAcquire(A2)).toBe('acquired');
  });

  it('release frees both the webhook and the tenant slot', () => {
    const slots = new DeliverySlots({ perWebhook: 1, perTenant: 1 });
    expect(slots.tryAcquire(A1)).toBe('acquired');
    slots.release(A1);
    expect(slots.tryAcquire(A1)).toBe('acquired');
  });
});
