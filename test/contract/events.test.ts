/**
 * The events' ports (EventStore, EventReader), one contract run on both adapter sets: the
 * idempotency key, reading an event exactly as published, and retention. When a duplicate stops
 * being queued again differs by design (the one-machine store: once the fan-out finished; AWS:
 * 15 minutes after the first copy arrived, test/adapters/dynamo.test.ts), and so does the due
 * index of unfinished fan-outs, which only the one-machine reconciler reads: both are in the
 * SQLite-only contract at the end.
 */
import type { PublishedEvent } from '../../shared/domain/events.ts';
import { ADAPTER_SETS, RETENTION_DAYS, sqliteAdapters, uid, useBackend, type MakeAdapters, type SqliteAdapters } from './adapter-sets.ts';

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

const newEvent = (receivedAt: Date, overrides: Partial<PublishedEvent> = {}): PublishedEvent => ({
  tenant_id: uid('ten'),
  id: uid('evt'),
  event: 'scan.completed',
  timestamp: '2025-01-01T00:00:00.000Z',
  // Numbers DynamoDB's number type could not hold, and a key a map could not: stored as JSON text.
  data: { scan_id: 's1', findings: [1, 2, 3], nested: { ok: true }, tiny: 1e-200, huge: 2 ** 60, constructor: 'x', name: 'Grüße, 東京 ✓' },
  received_at: receivedAt.toISOString(),
  ...overrides,
});

export function describeEventContract(name: string, makeAdapters: MakeAdapters): void {
  describe(`events contract: ${name}`, () => {
    const backend = useBackend(makeAdapters);
    const store = () => backend().adapters.events;

    it('the same idempotency key twice is one event: created, then duplicate-pending; the first stored is kept', async () => {
      const e = newEvent(ago(MINUTE));
      const outcomes = await Promise.all([store().putIfAbsent(e), store().putIfAbsent({ ...e, data: { other: true } })]);
      expect(outcomes.sort()).toEqual(['created', 'duplicate-pending']);
      // Sent again right away (the publisher got no 202): queued again.
      await expect(store().putIfAbsent({ ...e, data: { third: true } })).resolves.toBe('duplicate-pending');
      // Whichever came first is stored; the later ones changed nothing.
      expect([e, { ...e, data: { other: true } }]).toContainEqual(await store().get(e.tenant_id, e.id, true));
      // The key is the tenant's: another tenant's event of the same id is another event.
      await expect(store().putIfAbsent({ ...e, tenant_id: uid('ten') })).resolves.toBe('created');
    });

    it('get returns the event exactly as published (its data as JSON), and undefined for another tenant or id', async () => {
      const e = newEvent(ago(MINUTE));
      await store().putIfAbsent(e);
      await expect(store().get(e.tenant_id, e.id)).resolves.toEqual(e);
      await expect(store().get(e.tenant_id, e.id, true)).resolves.toEqual(e);
      await expect(store().get(uid('ten'), e.id)).resolves.toBeUndefined();
      await expect(store().get(e.tenant_id, uid('evt'))).resolves.toBeUndefined();
    });

    it('forget removes the copy a request stored (and could not queue), never a copy received at another time', async () => {
      const e = newEvent(ago(MINUTE));
      const other = newEvent(ago(MINUTE));
      await store().putIfAbsent(e);
      await store().putIfAbsent(other);
      await store().forget([{ ...other, received_at: ago(2 * MINUTE).toISOString() }, e]);
      await expect(store().get(e.tenant_id, e.id, true)).resolves.toBeUndefined();
      await expect(store().get(other.tenant_id, other.id, true)).resolves.toEqual(other);
      // Gone, so the same event later is a new one.
      await expect(store().putIfAbsent(e)).resolves.toBe('created');
    });

    it('an event past its retention is not returned', async () => {
      const e = newEvent(ago((RETENTION_DAYS + 1) * 86_400_000));
      await store().putIfAbsent(e);
      await expect(store().get(e.tenant_id, e.id)).resolves.toBeUndefined();
      await expect(store().get(e.tenant_id, e.id, true)).resolves.toBeUndefined();
    });
  });
}

for (const [name, make] of ADAPTER_SETS) describeEventContract(name, make);

/**
 * The one-machine store keeps each event's fan-out progress: a duplicate is queued again until
 * the fan-out finished, and the reconciler reads the due index of unfinished fan-outs. On AWS the
 * event is written once and nothing lists it (the event queue keeps it until its fan-out ends).
 */
describe('events contract, one-machine store only: SQLite adapters', () => {
  const backend = useBackend<SqliteAdapters>(sqliteAdapters);
  const store = () => backend().adapters.events;
  const dueIds = async (before: Date) => (await store().listDue(before, 1000)).map((d) => d.id);

  it('a duplicate is duplicate-pending until the fan-out finished, then duplicate-done', async () => {
    const e = newEvent(ago(MINUTE));
    await expect(store().putIfAbsent(e)).resolves.toBe('created');
    await expect(store().putIfAbsent(e)).resolves.toBe('duplicate-pending');
    await store().finishFanout(e.tenant_id, e.id, new Date());
    await expect(store().putIfAbsent(e)).resolves.toBe('duplicate-done');
  });

  it('the due index lists unfinished events received strictly before a time, oldest first', async () => {
    const times = [ago(30 * MINUTE), ago(20 * MINUTE), ago(10 * MINUTE)];
    const tenant = uid('ten');
    const events = times.map((t) => newEvent(t, { tenant_id: tenant }));
    for (const e of [...events].reverse()) await store().putIfAbsent(e);
    const mine = new Set(events.map((e) => e.id));

    const due = (await store().listDue(ago(15 * MINUTE), 1000)).filter((ref) => mine.has(ref.id));
    expect(due).toEqual(events.slice(0, 2).map((e) => ({ tenant_id: e.tenant_id, id: e.id, due_at: e.received_at })));
    expect(await dueIds(times[0]!)).not.toContain(events[0]!.id);

    await store().finishFanout(events[1]!.tenant_id, events[1]!.id, new Date());
    expect((await dueIds(new Date())).filter((id) => mine.has(id))).toEqual([events[0]!.id, events[2]!.id]);
    await expect(store().refreshDue({ tenant_id: events[1]!.tenant_id, id: events[1]!.id, due_at: times[1]!.toISOString() })).resolves.toBeUndefined();
  });

  it('postpone moves the deadline once; a stale due_at or a finished event is refused', async () => {
    const now = ago(MINUTE);
    const e = newEvent(now);
    await store().putIfAbsent(e);
    const ref = (await store().listDue(later(now, 1_000), 1000)).find((d) => d.id === e.id)!;
    expect(ref).toEqual({ tenant_id: e.tenant_id, id: e.id, due_at: e.received_at });

    const until = later(new Date(), 5 * MINUTE);
    const moved = await Promise.all([store().postpone(ref, until), store().postpone(ref, until)]);
    expect(moved.filter(Boolean)).toHaveLength(1);
    expect(await dueIds(later(now, 1_000))).not.toContain(e.id);
    expect(await store().listDue(later(until, 1_000), 1000)).toContainEqual({ tenant_id: e.tenant_id, id: e.id, due_at: until.toISOString() });
    await expect(store().refreshDue(ref)).resolves.toEqual({ tenant_id: e.tenant_id, id: e.id, due_at: until.toISOString() });

    await store().finishFanout(e.tenant_id, e.id, new Date());
    await expect(store().postpone({ ...ref, due_at: until.toISOString() }, later(until, MINUTE))).resolves.toBe(false);
    expect(await dueIds(later(until, 3600_000))).not.toContain(e.id);
  });
});
