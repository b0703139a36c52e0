/**
 * The one-machine runtime gives every composition root its SQLite adapters and no AWS kit, so it
 * loads no AWS SDK: about 40 MB of RSS and 100 ms of start it does not need (npm run bench). It
 * starts from its sources here (a cache directory of its own, so no bundle yet), and the bundle it
 * then builds holds none either.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, REPO_ROOT, removeBuilderCache, startRuntime } from '../support/runtime.ts';

describe('the one-machine runtime', () => {
  it('loads no package of the AWS SDK, from start to a published event', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-packages-'));
    const file = join(dir, 'packages.txt');
    const cache = join(dir, 'cache');
    const runtime = await startRuntime({
      nodeFlags: ['--import', join(REPO_ROOT, 'test/support/record-packages.ts')],
      env: { RECORD_PACKAGES_TO: file, NODE_COMPILE_CACHE: cache },
    });
    let bundleInputs: string[];
    try {
      const res = await fetch(`${runtime.baseUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'scan.completed', data: { scan_id: 'sc_1' } }),
      });
      expect(res.status).toBe(202);
      const manifest = join(cache, 'runtime-bundle', 'manifest.json');
      const kept = await eventually('the bundle built in the background', () => readFile(manifest, 'utf8').catch(() => undefined), 30_000);
      bundleInputs = Object.keys((JSON.parse(kept) as { inputs: Record<string, string> }).inputs);
    } finally {
      await runtime.cleanup();
    }
    const packages = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    await removeBuilderCache(dir);
    // The hook saw the packages the runtime does use.
    expect(packages).toEqual(expect.arrayContaining(['zod', '@aws-lambda-powertools/batch']));
    expect(packages.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@smithy/'))).toEqual([]);
    expect(bundleInputs.filter((file) => file.includes('node_modules/zod/')).length).toBeGreaterThan(0);
    expect(bundleInputs.filter((file) => /node_modules\/(@aws-sdk|@smithy)\//.test(file))).toEqual([]);
  });
});
