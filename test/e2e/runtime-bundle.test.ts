/**
 * The runtime starts from its bundle (infra/local/runtime-bundle.mjs) once one is kept whose inputs
 * are unchanged, from the sources otherwise, and delivers the same either way. Which one a start
 * loaded is read from Node's own compile-cache debug lines (NODE_DEBUG_NATIVE=COMPILE_CACHE).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhook, publish, verifyStandardWebhooks } from '../support/hookline.ts';
import { startReceiver } from '../support/receiver.ts';
import { api, eventually, removeBuilderCache, startRuntime, type Runtime } from '../support/runtime.ts';

const SOURCES_LOADED = /for ESM file:\/\/\S*\/infra\/local\/runtime\.ts/;
const BUNDLE_LOADED = /for ESM file:\/\/\S*\/runtime-bundle\/runtime-[0-9a-f]{16}\.mjs/;

/**
 * The runtime's stderr once it shows `pattern`. The compile-cache lines are written before the
 * banner on stdout, but the two pipes are read separately: stderr can still be in the pipe when
 * the start is seen as ready.
 */
async function stderrShowing(runtime: Runtime, pattern: RegExp): Promise<string> {
  return eventually(`${pattern} in the runtime's stderr`, async () => (pattern.test(runtime.stderr()) ? runtime.stderr() : undefined), 5_000, 20).catch(
    (error: unknown) => {
      throw new Error(`${(error as Error).message}:\n${runtime.stderr().slice(0, 4000)}`);
    },
  );
}

/** The runtime module a start loaded: its sources' entry, or a bundle. */
async function loadedFrom(runtime: Runtime): Promise<'sources' | 'bundle'> {
  const lines = await stderrShowing(runtime, new RegExp(`${SOURCES_LOADED.source}|${BUNDLE_LOADED.source}`));
  const sources = SOURCES_LOADED.test(lines);
  const bundle = BUNDLE_LOADED.test(lines);
  if (sources === bundle) throw new Error(`expected one of the two in the runtime's stderr:\n${lines.slice(0, 4000)}`);
  return bundle ? 'bundle' : 'sources';
}

let cache: string;
beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), 'hookline-cache-'));
});
afterAll(async () => {
  await removeBuilderCache(cache);
});

describe("the runtime's bundle", () => {
  it('is built after a start from the sources, loaded by the next start (which delivers), and refused once an input changed, when built elsewhere or in a directory others may write to', async () => {
    const env = { NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    const manifest = join(cache, 'runtime-bundle', 'manifest.json');
    const first = await startRuntime({ env });
    try {
      expect(await loadedFrom(first)).toBe('sources');
      const built = JSON.parse(await eventually('the bundle built in the background', () => readFile(manifest, 'utf8').catch(() => undefined), 30_000)) as { bundle: string };
      // ASCII only, so that Node and V8 take it as a one-byte string (infra/local/runtime-bundle.mjs, asciiOnly).
      expect(await readFile(join(cache, 'runtime-bundle', built.bundle), 'latin1')).toMatch(/^[\x20-\x7e\t\n\r]*$/);
    } finally {
      await first.stop();
    }

    const second = await first.restart();
    const receiver = await startReceiver();
    try {
      expect(await loadedFrom(second)).toBe('bundle');
      const client = api(second.baseUrl, second.apiKey);
      const webhook = await createWebhook(client, { url: receiver.url, events: ['scan.completed'] });
      await publish(client, { event: 'scan.completed', data: { scan_id: 'sc_bundle' } });
      const [request] = await receiver.waitFor(1);
      expect(verifyStandardWebhooks(request!, webhook.secret)).toMatchObject({ data: { scan_id: 'sc_bundle' } });
    } finally {
      await receiver.close();
      await second.stop();
    }

    // An input changed since (here: its fingerprint in the manifest), or a bundle built in
    // another checkout (it names that one's files): the sources again.
    type Manifest = { root: string; inputs: Record<string, string> };
    const keptManifest = async (holds: (m: Manifest) => boolean) =>
      readFile(manifest, 'utf8').then((text) => (holds(JSON.parse(text) as Manifest) ? true : undefined), () => undefined);
    const kept = JSON.parse(await readFile(manifest, 'utf8')) as Manifest;
    await writeFile(manifest, JSON.stringify({ ...kept, inputs: { ...kept.inputs, 'infra/local/runtime.ts': 'changed' } }));
    const third = await second.restart();
    try {
      expect(await loadedFrom(third)).toBe('sources');
      await eventually('the bundle built again', () => keptManifest(({ inputs }) => inputs['infra/local/runtime.ts'] !== 'changed'), 30_000);
    } finally {
      await third.stop();
    }
    await writeFile(manifest, JSON.stringify({ ...kept, root: '/elsewhere/hookline/' }));
    const fourth = await third.restart();
    try {
      expect(await loadedFrom(fourth)).toBe('sources');
      await eventually('the bundle built again', () => keptManifest(({ root }) => root === kept.root), 30_000);
    } finally {
      await fourth.stop();
    }
    // A directory other users may write to (one they could have made first): neither used nor built into.
    await chmod(join(cache, 'runtime-bundle'), 0o777);
    const fifth = await fourth.restart();
    try {
      expect(await loadedFrom(fifth)).toBe('sources');
    } finally {
      await fifth.cleanup();
    }
  }, 60_000);

  it('is not loaded when cut short, and one that does not parse is forgotten: the start runs from the sources and the next bundle is built', async () => {
    const own = await mkdtemp(join(tmpdir(), 'hookline-cache-'));
    // The sender thread's bundle is kept in TMPDIR: one of this test's own, emptied before the last start.
    const temp = join(own, 'tmp');
    await mkdir(temp);
    const env = { NODE_COMPILE_CACHE: own, NODE_DEBUG_NATIVE: 'COMPILE_CACHE', TMPDIR: temp };
    const manifest = join(own, 'runtime-bundle', 'manifest.json');
    const bundleFile = async () => join(own, 'runtime-bundle', (JSON.parse(await readFile(manifest, 'utf8')) as { bundle: string }).bundle);
    try {
      const first = await startRuntime({ env });
      await eventually('the bundle built in the background', () => readFile(manifest, 'utf8').catch(() => undefined), 30_000);
      await first.stop();
      const built = await bundleFile();
      const text = await readFile(built, 'utf8');

      // Cut short (the machine went down before the OS wrote it all): not loaded.
      await writeFile(built, text.slice(0, text.length / 2));
      const second = await first.restart();
      expect(await loadedFrom(second)).toBe('sources');
      await second.stop();

      // Whole in size but not JavaScript: the import fails, the start goes on from the sources and says so.
      await writeFile(built, 'x'.repeat(Buffer.byteLength(text)));
      const third = await second.restart();
      try {
        // The bundle was tried first, then the sources were loaded.
        const said = await stderrShowing(third, SOURCES_LOADED);
        expect(said).toContain('the kept runtime bundle could not be loaded (');
        // One line that says why, not the damaged source it quotes.
        expect(said).not.toContain('x'.repeat(201));
        expect((await fetch(`${third.baseUrl}/healthz`)).status).toBe(200);
        // Its manifest was deleted; the builder writes the bundle and a manifest again.
        await eventually('a new bundle built', () => readFile(manifest, 'utf8').catch(() => undefined), 30_000);
      } finally {
        await third.stop();
      }
      // From the bundle, kept outside the checkout, the sender thread's is built too (esbuild found from the checkout).
      await rm(join(temp, 'hookline-sender-thread'), { recursive: true, force: true });
      const fourth = await third.restart();
      try {
        expect(await loadedFrom(fourth)).toBe('bundle');
        await eventually('the sender thread bundled', () => readdir(join(temp, 'hookline-sender-thread')).then((files) => (files.length > 0 ? true : undefined), () => undefined));
        expect(fourth.stderr()).not.toContain('bundling them failed');
      } finally {
        await fourth.cleanup();
      }
    } finally {
      await removeBuilderCache(own);
    }
  }, 90_000);
});
