import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from './runtime.ts';
import { median } from './stats.ts';

export interface StartupResult {
  /** The first start after an install: Node's compile cache and the sender thread's bundle cache empty. */
  readonly firstMs: number;
  /** The starts after it, with both caches filled: the figure the 300 ms target is held to. */
  readonly runsMs: readonly number[];
  readonly medianMs: number;
}

/**
 * Time from spawn to /healthz ok, as a user meets it. The runtimes here get caches of their own
 * (Node's compile cache through NODE_COMPILE_CACHE, see shared/compile-cache.mjs; the sender
 * thread's bundle cache through the OS temp directory, see `bundleSenderThread`): the first
 * start finds them empty, as after `npm ci`, and the next `runs` find them filled, as every
 * start after. One start alone is a poor figure on a shared
 * machine (it moved between about 190 and 330 ms from run to run): the median of the later ones
 * is what is compared with the target.
 */
export async function measureStartup(root: string, runs: number): Promise<StartupResult> {
  const caches = await mkdtemp(join(tmpdir(), 'hookline-bench-caches-'));
  const startOnce = async (): Promise<number> => {
    const t = performance.now();
    const runtime = await startRuntime(root, { TMPDIR: caches, NODE_COMPILE_CACHE: join(caches, 'compile') });
    const ms = performance.now() - t;
    await runtime.stop();
    return ms;
  };
  try {
    const firstMs = await startOnce();
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) runsMs.push(await startOnce());
    return { firstMs, runsMs, medianMs: median(runsMs) };
  } finally {
    await rm(caches, { recursive: true, force: true });
  }
}
