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
