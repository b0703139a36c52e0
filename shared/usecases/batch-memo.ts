/**
 * Reads shared by the records of one batch: deliveries of one event to many webhooks, or of many
 * events to one webhook, arrive together, and each thing needs reading once per batch, not once
 * per record. A fresh memo per invocation keeps nothing stale across batches.
 */
export function memoizeGets<T>(reader: { get(tenantId: string, id: string, consistent?: boolean): Promise<T> }): {
  get(tenantId: string, id: string, consistent?: boolean): Promise<T>;
} {
  const seen = new Map<string, Promise<T>>();
  return {
    get(tenantId, id, consistent) {
      // A consistent read is asked for because a cached answer may be stale: it is not memoized.
      if (consistent) return reader.get(tenantId, id, true);
      const key = `${tenantId}\n${id}`;
      let value = seen.get(key);
      if (!value) {
        value = reader.get(tenantId, id);
        seen.set(key, value);
        value.catch(() => seen.delete(key));
      }
      return value;
    },
  };
}

/**
 * A tenant's webhooks read once per batch: the events of one publish arrive at the fan-out
 * together, and each would otherwise list the same webhooks. Collected whole on the first call
 * (a tenant has at most a few pages); a failed read is not kept.
 */
export function memoizePages<T>(reader: { pages(tenantId: string): AsyncIterable<readonly T[]> }): {
  pages(tenantId: string): AsyncIterable<readonly T[]>;
} {
  const seen = new Map<string, Promise<(readonly T[])[]>>();
  const collect = async (tenantId: string) => {
    const all: (readonly T[])[] = [];
    for await (const page of reader.pages(tenantId)) all.push(page);
    return all;
  };
  return {
    async *pages(tenantId) {
      let value = seen.get(tenantId);
      if (!value) {
        value = collect(tenantId);
        seen.set(tenantId, value);
        value.catch(() => seen.delete(tenantId));
      }
      yield* await value;
    },
  };
}

/**
 * Reads kept for `ttlMs` across batches (one container's), for a store read by every record of
 * every batch: a webhook's item, read once a second per container instead of once a batch. A
 * change to the webhook reaches this container within `ttlMs`. A consistent read is never
 * cached, and a miss is not kept (the caller reads a miss again, consistently, before acting).
 */
export function cacheGets<T>(
  reader: { get(tenantId: string, id: string, consistent?: boolean): Promise<T | undefined> },
  ttlMs: number,
  now: () => number = () => performance.now(),
): { get(tenantId: string, id: string, consistent?: boolean): Promise<T | undefined> } {
  const kept = new Map<string, { value: Promise<T | undefined>; until: number }>();
  return {
    get(tenantId, id, consistent) {
      if (consistent) return reader.get(tenantId, id, true);
      const key = `${tenantId}\n${id}`;
      const hit = kept.get(key);
      if (hit && hit.until > now()) return hit.value;
      const value = reader.get(tenantId, id);
      kept.set(key, { value, until: now() + ttlMs });
      value.then((v) => v === undefined && kept.delete(key), () => kept.delete(key));
      return value;
    },
  };
}
