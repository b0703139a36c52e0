import { Reconcile } from '../../shared/usecases/reconcile.ts';
import { lazyHandler, Wiring, type Overrides } from '../../shared/wiring.ts';

const MAX_PASSES = 50;

export const RECONCILE_GRACE_ENV = 'HOOKLINE_RECONCILE_GRACE_SECONDS';

/** Scheduled: re-queues events and deliveries whose next step is overdue (nothing lost). */
export function createHandler(overrides: Overrides = {}) {
  const w = new Wiring('reconciler', overrides);
  const reconcile = new Reconcile({
    events: w.events,
    deliveries: w.deliveries,
    eventQueue: w.eventQueue,
    deliveryQueue: w.deliveryQueue,
    clock: w.clock,
  });
  const graceSeconds = Number((overrides.env ?? process.env)[RECONCILE_GRACE_ENV] ?? 300);
  const sweep = async (grace: number, lookaheadMs: number) => {
    const counts = { events: 0, deliveries: 0 };
    const seen = new Set<string>();
    // Each pass takes a page per shard; repeat until a pass finds nothing it has not queued yet.
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const found = await reconcile.execute(grace * 1000, lookaheadMs, seen);
      counts.events += found.events;
      counts.deliveries += found.deliveries;
      if (found.events + found.deliveries === 0) break;
    }
    return counts;
  };
  // One machine, at start-up: the queues were in memory and a kill can tear the stand-in's index,
  // so read the tables themselves. (Never on AWS: the index is the source there.)
  const fullScan = async () => {
    const [events, deliveries] = await Promise.all([w.events.scanUnfinished(), w.deliveries.scanPending()]);
    return reconcile.requeue(events, deliveries);
  };
  return async (event?: { graceSeconds?: number; lookaheadMs?: number; fullScan?: boolean }) => {
    const counts = event?.fullScan ? await fullScan() : await sweep(event?.graceSeconds ?? graceSeconds, event?.lookaheadMs ?? 0);
    if (counts.events + counts.deliveries > 0) w.logger.warn('re-queued overdue work', counts);
    return counts;
  };
}

export const handler = lazyHandler(() => createHandler());
