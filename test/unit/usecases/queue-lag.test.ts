import {
  DELIVERIES_QUEUE_LAG,
  DeliveryLag,
  freshFronts,
  LAG_FRESH_MS,
  LAG_REPORT_EVERY_MS,
  LAG_THRESHOLD_MS,
  QueueLagReporter,
  sentAtOf,
  webhookLag,
} from '../../../shared/usecases/queue-lag.ts';
import { MemoryLagRecords, T0 } from './fakes.ts';

const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;
const W = { tenant_id: 'ten_A', webhook_id: 'wh_slow' };

function reporter() {
  const lag = new MemoryLagRecords();
  const writes: { key: string; dueAt: Date; now: Date }[] = [];
  const records = {
    record: async (key: string, dueAt: Date, now: Date) => {
      writes.push({ key, dueAt, now });
      await lag.record(key, dueAt, now);
    },
  };
  return { lag, writes, reporter: new QueueLagReporter(records, () => undefined) };
}

describe('QueueLagReporter', () => {
  it('writes nothing while the work it takes is on time (a queue that keeps up costs nothing)', async () => {
    const r = reporter();
    for (let i = 0; i < 100; i++) r.reporter.observe('deliveries', at(i * 1000 - 2000), at(i * 1000));
    r.reporter.observe('deliveries', at(-LAG_THRESHOLD_MS + 1), T0);
    await r.reporter.flush();
    expect(r.writes).toEqual([]);
  });

  it('records late work at most every LAG_REPORT_EVERY_MS per key, the oldest seen since the last record', async () => {
    const r = reporter();
    r.reporter.observe('deliveries', at(-10 * MIN), T0);
    r.reporter.observe('events', at(-3 * MIN), T0);
    r.reporter.observe('deliveries', at(-12 * MIN), at(1000));
    r.reporter.observe('deliveries', at(-11 * MIN), at(2000));
    await r.reporter.flush();
    expect(r.writes).toEqual([
      { key: 'deliveries', dueAt: at(-10 * MIN), now: T0 },
      { key: 'events', dueAt: at(-3 * MIN), now: T0 },
    ]);
    r.reporter.observe('deliveries', at(-9 * MIN), at(LAG_REPORT_EVERY_MS));
    await r.reporter.flush();
    expect(r.writes.at(-1)).toEqual({ key: 'deliveries', dueAt: at(-12 * MIN), now: at(LAG_REPORT_EVERY_MS) });
  });

  it('a record that fails is reported, not thrown (it only makes the reconciler less patient)', async () => {
    const errors: unknown[] = [];
    const failing = new QueueLagReporter({ record: async () => Promise.reject(new Error('throttled')) }, (e) => void errors.push(e));
    failing.observe('events', at(-10 * MIN), T0);
    await failing.flush();
    expect(errors).toEqual([new Error('throttled')]);
  });
});

describe('DeliveryLag', () => {
  it('a message long in the queue counts for the queue, from when it was sent', async () => {
    const r = reporter();
    new DeliveryLag(r.reporter).observe(W, at(-20 * MIN), at(-20 * MIN + 5), T0);
    await r.reporter.flush();
    expect(r.writes).toEqual([{ key: DELIVERIES_QUEUE_LAG, dueAt: at(-20 * MIN + 5), now: T0 }]);
  });

  it('a retry sent early with a delay counts from its rung, not from when it was sent', async () => {
    const r = reporter();
    new DeliveryLag(r.reporter).observe(W, at(-MIN), at(-11 * MIN), T0);
    await r.reporter.flush();
    expect(r.writes).toEqual([{ key: DELIVERIES_QUEUE_LAG, dueAt: at(-MIN), now: T0 }]);
  });

  it('a message sent again long after it was due (its webhook was at its limit) counts for its webhook, not the queue', async () => {
    const r = reporter();
    new DeliveryLag(r.reporter).observe(W, at(-20 * MIN), at(-1000), T0);
    await r.reporter.flush();
    expect(r.writes).toEqual([{ key: webhookLag(W), dueAt: at(-20 * MIN), now: T0 }]);
  });
});

describe('freshFronts', () => {
  it('keeps a record while it is fresh, then drops it', async () => {
    const lag = new MemoryLagRecords();
    await lag.record('deliveries', at(-20 * MIN), T0);
    const read = await lag.read(['deliveries', 'events']);
    expect(freshFronts(read, at(LAG_FRESH_MS))).toEqual(new Map([['deliveries', at(-20 * MIN).getTime()]]));
    expect(freshFronts(read, at(LAG_FRESH_MS + 1))).toEqual(new Map());
  });

  it('a record keeps the oldest front of a window: a newer one replaces it only once the window has passed', async () => {
    const lag = new MemoryLagRecords();
    await lag.record('deliveries', at(-20 * MIN), T0);
    await lag.record('deliveries', at(-5 * MIN), at(30_000));
    expect((await lag.read(['deliveries'])).get('deliveries')!.dueAt).toEqual(at(-20 * MIN));
    await lag.record('deliveries', at(-5 * MIN), at(61_000));
    expect((await lag.read(['deliveries'])).get('deliveries')!.dueAt).toEqual(at(-5 * MIN));
  });
});

describe('sentAtOf', () => {
  it("reads SQS's SentTimestamp, and nothing from a missing or broken one", () => {
    expect(sentAtOf(String(T0.getTime()))).toEqual(T0);
    expect(sentAtOf(undefined)).toBeUndefined();
    expect(sentAtOf('soon')).toBeUndefined();
  });
});
