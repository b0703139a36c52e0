import { cacheGets, memoizePages } from '../../../shared/usecases/batch-memo.ts';

/** A reader that counts its reads and answers what `values` holds at the time. */
function countingReader() {
  const values = new Map<string, string>();
  const reads: string[] = [];
  return {
    values,
    reads,
    async get(tenantId: string, id: string, consistent?: boolean) {
      reads.push(`${tenantId}/${id}${consistent ? ' (consistent)' : ''}`);
      return values.get(`${tenantId}/${id}`);
    },
  };
}

describe('cacheGets', () => {
  it('keeps a value for its time, then reads it again (a change shows after at most that long)', async () => {
    let now = 0;
    const reader = countingReader();
    reader.values.set('ten_A/wh_1', 'v1');
    const cache = cacheGets(reader, 1_000, () => now);
    await expect(cache.get('ten_A', 'wh_1')).resolves.toBe('v1');
    reader.values.set('ten_A/wh_1', 'v2');
    now = 999;
    await expect(cache.get('ten_A', 'wh_1')).resolves.toBe('v1');
    now = 1_000;
    await expect(cache.get('ten_A', 'wh_1')).resolves.toBe('v2');
    expect(reader.reads).toEqual(['ten_A/wh_1', 'ten_A/wh_1']);
  });

  it('never caches a consistent read, a miss or a failure; keeps tenants apart', async () => {
    const reader = countingReader();
    const cache = cacheGets(reader, 60_000, () => 0);
    await expect(cache.get('ten_A', 'wh_1')).resolves.toBeUndefined();
    reader.values.set('ten_A/wh_1', 'made');
    await expect(cache.get('ten_A', 'wh_1')).resolves.toBe('made');
    await expect(cache.get('ten_B', 'wh_1')).resolves.toBeUndefined();
    await expect(cache.get('ten_A', 'wh_1', true)).resolves.toBe('made');
    expect(reader.reads).toEqual(['ten_A/wh_1', 'ten_A/wh_1', 'ten_B/wh_1', 'ten_A/wh_1 (consistent)']);

    let fail = true;
    const flaky = cacheGets({ get: async () => (fail ? Promise.reject(new Error('down')) : 'up') }, 60_000, () => 0);
    await expect(flaky.get('ten_A', 'wh_1')).rejects.toThrow('down');
    fail = false;
    await expect(flaky.get('ten_A', 'wh_1')).resolves.toBe('up');
  });
});

describe('memoizePages', () => {
  it("lists a tenant's webhooks once for the batch, every page, and again after a failure", async () => {
    let listings = 0;
    let fail = true;
    const memo = memoizePages({
      async *pages(tenantId: string) {
        listings++;
        if (fail) throw new Error('down');
        yield [`${tenantId}-1`, `${tenantId}-2`];
        yield [`${tenantId}-3`];
      },
    });
    const all = async (tenantId: string) => {
      const out: string[] = [];
      for await (const page of memo.pages(tenantId)) out.push(...page);
      return out;
    };
    await expect(all('ten_A')).rejects.toThrow('down');
    fail = false;
    const [a, b] = await Promise.all([all('ten_A'), all('ten_A')]);
    expect(a).toEqual(['ten_A-1', 'ten_A-2', 'ten_A-3']);
    expect(b).toEqual(a);
    await expect(all('ten_B')).resolves.toEqual(['ten_B-1', 'ten_B-2', 'ten_B-3']);
    expect(listings).toBe(3);
  });
});
