import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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
 * (Node's compile cache and the runtime's bundle through NODE_COMPILE_CACHE, see
 * shared/compile-cache.mjs and infra/local/runtime-bundle.mjs; the sender thread's bundle cache
 * through the OS temp directory, see `bundleSenderThread`): the first start finds them empty, as
 * after `npm ci`, and the next `runs` find them filled, as every start after (the runtime's
 * bundle is built in the background after the first; its builder is waited for, up to 20 s, as
 * it would be done by the time a user starts again). One start alone is a poor figure on a shared
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
    const manifest = join(caches, 'compile', 'runtime-bundle', 'manifest.json');
    for (const until = Date.now() + 20_000; !existsSync(manifest) && Date.now() < until; ) await sleep(50);
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) runsMs.push(await startOnce());
    return { firstMs, runsMs, medianMs: median(runsMs) };
  } finally {
    await rm(caches, { recursive: true, force: true });
  }
}
