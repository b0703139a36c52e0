/**
 * The runtime and the CLI keep Node's compile cache (shared/compile-cache.mjs) in the checkout
 * (node_modules/.cache/hookline/compile), not in the OS temp directory, where another local user
 * could make the directory first and leave compiled code in it for them to run.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/cli.ts';
import { REPO_ROOT, startRuntime } from '../support/runtime.ts';

describe("the runtime's compile cache", () => {
  it('is in the checkout, and nothing of it is in the temp directory the runtime is given', async () => {
    const temp = await mkdtemp(join(tmpdir(), 'hookline-temp-'));
    // NODE_COMPILE_CACHE empty: as when it is not set (it would choose the directory).
    const runtime = await startRuntime({ env: { TMPDIR: temp, NODE_COMPILE_CACHE: '' } });
    try {
      expect(await runtime.stop()).toBe(0);
      expect(await readdir(temp)).not.toContain('node-compile-cache');
      expect((await stat(join(REPO_ROOT, 'node_modules', '.cache', 'hookline', 'compile'))).isDirectory()).toBe(true);
    } finally {
      await runtime.cleanup();
      await rm(temp, { recursive: true, force: true });
    }
  });

  it('is used by the CLI too, in the checkout', async () => {
    const temp = await mkdtemp(join(tmpdir(), 'hookline-temp-'));
    try {
      // Node says where it reads and writes compiled code when NODE_DEBUG_NATIVE names the cache.
      const env = { TMPDIR: temp, NODE_COMPILE_CACHE: '', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
      const run = await cli(join(temp, 'config.json'), ['--version'], { env });
      expect(run.code).toBe(0);
      const cacheDir = join(REPO_ROOT, 'node_modules', '.cache', 'hookline', 'compile');
      expect(run.stderr).toMatch(new RegExp(`^\\[compile cache\\] .*${cacheDir}.* for \\S+ file://.*/shared/cli/main\\.ts`, 'm'));
      expect(await readdir(temp)).not.toContain('node-compile-cache');
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });
});
