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
