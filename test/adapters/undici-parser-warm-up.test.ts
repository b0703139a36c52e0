/**
 * The sender thread's warm-up makes undici's HTTP parser (a WebAssembly instance) with V8's
 * tiering budget lowered, so that its busy functions are optimized during the start rather than
 * during the first thousands of deliveries, and gives V8 its default back: any other budget
 * changes V8's cache tag, and Node's compile cache is refused under another tag.
 */
import { channel } from 'node:diagnostics_channel';
import { cachedDataVersionTag } from 'node:v8';
import { parserOptimizedEarly, UndiciHttpSender } from '../../shared/adapters/http/undici-http-sender.ts';
import type { TargetPolicy } from '../../shared/domain/targets.ts';

const POLICY: TargetPolicy = { allowPrivateTargets: true, allowedPorts: [] };

describe('UndiciHttpSender.warmUp', () => {
  it("connects with the parser's budget, then leaves V8's cache tag as it found it", async () => {
    const plain = cachedDataVersionTag();
    const atConnection: number[] = [];
    const connected = channel('undici:client:connected');
    const onConnected = () => atConnection.push(cachedDataVersionTag());
    // Subscribed first, so it runs before the warm-up's own subscriber gives the budget back.
    connected.subscribe(onConnected);
    try {
      await new UndiciHttpSender({ policy: POLICY }).warmUp();
    } finally {
      connected.unsubscribe(onConnected);
    }
    // One connection (the second POST reuses it), made under another budget than V8's default.
    expect(atConnection).toHaveLength(1);
    expect(atConnection[0]).not.toBe(plain);
    // V8's default again (WASM_TIERING_BUDGET.v8Default: this fails if a Node upgrade moved it).
    expect(cachedDataVersionTag()).toBe(plain);
  });

  it('gives V8 its budget back when the first connection fails', async () => {
    const plain = cachedDataVersionTag();
    await expect(parserOptimizedEarly(() => Promise.reject(new Error('connection refused')))).rejects.toThrow('connection refused');
    expect(cachedDataVersionTag()).toBe(plain);
  });
});
