import { functionBase, type BaseOverrides } from '../../shared/compose/function-base.ts';
import type { LocalAdapters } from '../../shared/compose/local-adapters.ts';
import { Reconcile } from '../../shared/usecases/reconcile.ts';

const MAX_PASSES = 50;

export type ReconcilerOverrides = BaseOverrides & { readonly local: LocalAdapters };

/** What a run is asked (the one-machine runtime's timer): how late work must be to be queued again, and work due this far ahead. */
export interface ReconcileRequest {
  readonly graceSeconds: number;
  readonly lookaheadMs?: number;
}

/**
 * The one-machine runtime's reconciler, on a timer: re-queues events and deliveries whose next
 * step is overdue and not waiting in a backlog (nothing lost across a crash of the process). AWS
 * has none: there every message stays on its queue until the next step is queued, and what keeps
 * failing goes to a dead-letter queue with an alarm.
 */
export function composeReconciler(o: ReconcilerOverrides) {
  const f = functionBase('reconciler', o);
  const { local } = o;
  const reconcile = new Reconcile({
    events: local.events,
    deliveries: local.deliveries,
    eventQueue: local.eventQueue,
    deliveryQueue: local.deliveryQueue,
    // What the fan-out and the dispatcher report of their queues' backlogs.
    lag: local.queueLag,
    clock: f.clock,
  });
  const sweep = async (grace: number, lookaheadMs: number) => {
    const counts = { events: 0, deliveries: 0, waiting: 0 };
    const seen = new Set<string>();
    // Each pass takes a page per shard; repeat until a pass finds nothing it has not queued yet.
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const found = await reconcile.execute(grace * 1000, lookaheadMs, seen);
      counts.events += found.events;
      counts.deliveries += found.deliveries;
      counts.waiting += found.waiting;
      // Deliveries found waiting were pushed forward: the next pass reads past them.
      if (found.events + found.deliveries + found.waiting === 0) break;
    }
    return counts;
  };
  return f.composed(async (event: ReconcileRequest) => {
    const counts = await sweep(event.graceSeconds, event.lookaheadMs ?? 0);
    if (counts.events + counts.deliveries > 0) f.logger.warn('re-queued overdue work', counts);
    // Not a fault: a slow endpoint's deliveries going round while it is at its limit.
    if (counts.waiting > 0) f.logger.info('left deliveries waiting on their webhooks alone', { waiting: counts.waiting });
    return counts;
  });
}
