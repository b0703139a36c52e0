/**
 * The sender thread's bundle (infra/local/sender-bundle.ts) is made once and read again while its
 * inputs are unchanged: a start then neither loads esbuild nor waits for it.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { build } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { asciiOnly, fingerprintingLoader, fingerprintOf, inputFingerprints, isUnchanged } from '../../infra/local/runtime-bundle.mjs';
import { bundleSenderThread } from '../../infra/local/sender-bundle.ts';

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hookline-bundle-cache-'));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

const fail = (error: unknown) => {
  throw error;
};

async function cacheFile(): Promise<string> {
  const [name] = await readdir(cacheDir);
  return join(cacheDir, name!);
}

describe('the sender thread bundle', () => {
  it('is bundled once, with the fingerprints of its inputs, and read from the cache while they are unchanged', async () => {
    const script = await bundleSenderThread(fail, cacheDir);
    expect(script).toContain('parentPort');
    const file = await cacheFile();
    const cached = JSON.parse(await readFile(file, 'utf8')) as { inputs: Record<string, string>; script: string };
    expect(Object.keys(cached.inputs)).toContain('shared/adapters/http/sender-thread.ts');
    expect(cached.script).toBe(script);
    // What the cache holds is what the next start uses.
    await writeFile(file, JSON.stringify({ ...cached, script: '/* from the cache */' }));
    expect(await bundleSenderThread(fail, cacheDir)).toBe('/* from the cache */');
  });

  it('is ASCII only, so that its cached copy is read on UTF-8\'s fast path (a licence comment in it names an author with an umlaut)', async () => {
    const script = (await bundleSenderThread(fail, cacheDir))!;
    expect(script).toContain('W\\u00e4rting');
    expect(script).toMatch(/^[\x20-\x7e\t\n\r]*$/);
  });

  it('is bundled again when an input changed since', async () => {
    const script = await bundleSenderThread(fail, cacheDir);
    const file = await cacheFile();
    const cached = JSON.parse(await readFile(file, 'utf8')) as { inputs: Record<string, string>; script: string };
    const [first] = Object.keys(cached.inputs);
    await writeFile(file, JSON.stringify({ inputs: { ...cached.inputs, [first!]: 'a hash of other content' }, script: '/* stale */' }));
    expect(await bundleSenderThread(fail, cacheDir)).toBe(script);
  });

  it('is not read from, nor written to, a cache directory that other users can write to', async () => {
    const script = await bundleSenderThread(fail, cacheDir);
    const file = await cacheFile();
    const cached = JSON.parse(await readFile(file, 'utf8')) as { inputs: Record<string, string>; script: string };
    // Anyone could have put this script there: it is not run.
    await writeFile(file, JSON.stringify({ ...cached, script: '/* planted */' }));
    await chmod(cacheDir, 0o777);
    expect(await bundleSenderThread(fail, cacheDir)).toBe(script);
    expect(JSON.parse(await readFile(file, 'utf8')).script).toBe('/* planted */');
    // Private again: the cache is used.
    await chmod(cacheDir, 0o700);
    expect(await bundleSenderThread(fail, cacheDir)).toBe('/* planted */');
  });
});

describe("a bundle's input fingerprints", () => {
  it('are of what was bundled: a file saved during the build makes the kept bundle stale, not wrong', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hookline-fingerprints-'));
    try {
      await mkdir(join(root, 'node_modules', 'dep'), { recursive: true });
      await writeFile(join(root, 'node_modules', 'dep', 'package.json'), '{"name":"dep","main":"index.js"}');
      await writeFile(join(root, 'node_modules', 'dep', 'index.js'), 'module.exports = "old dependency";');
      await writeFile(join(root, 'own.ts'), 'export const own: string = "old own";');
      await writeFile(join(root, 'entry.ts'), 'import dep from "dep"; import { own } from "./own.ts"; console.log(dep, own);');
      const fingerprints = new Map<string, string>();
      // Both files are saved again once esbuild has read them, before the build ends (an edit, `npm ci`).
      const savedDuringBuild = {
        name: 'saved-during-build',
        setup(b: import('esbuild').PluginBuild) {
          b.onEnd(async () => {
            await writeFile(join(root, 'own.ts'), 'export const own: string = "new own";');
            await writeFile(join(root, 'node_modules', 'dep', 'index.js'), 'module.exports = "new dependency, longer";');
          });
        },
      };
      const builtAt = Date.now();
      const result = await build({ entryPoints: ['entry.ts'], absWorkingDir: root, bundle: true, platform: 'node', write: false, metafile: true, logLevel: 'silent', plugins: [fingerprintingLoader(fingerprints), savedDuringBuild] });
      expect(result.outputFiles[0]!.text).toContain('old own');
      expect(result.outputFiles[0]!.text).toContain('old dependency');
      const inputs = inputFingerprints(root, result.metafile, fingerprints);
      expect(inputs['own.ts']).toMatch(new RegExp(`:${createHash('sha256').update('export const own: string = "old own";').digest('hex')}$`));
      // What the next start checks: every input changed since, so the bundle is not used.
      for (const file of ['own.ts', 'node_modules/dep/index.js']) expect(isUnchanged(root, file, inputs[file]!, builtAt)).toBe(false);
      expect(isUnchanged(root, 'entry.ts', inputs['entry.ts']!, builtAt)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('whether an input is unchanged', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hookline-unchanged-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));
  const file = () => join(root, 'input.ts');

  it('is told by its size and times once they are older than the build, by its content otherwise', async () => {
    await writeFile(file(), 'export const a = 1;');
    const recorded = fingerprintOf(root, 'input.ts');
    const [size, mtimeMs, ctimeMs] = recorded.split(':');
    const otherContent = `${size}:${mtimeMs}:${ctimeMs}:${createHash('sha256').update('something else').digest('hex')}`;
    // The same size and times, written well before the build began: the stat vouches for it.
    expect(isUnchanged(root, 'input.ts', otherContent, Number(ctimeMs) + 5_000)).toBe(true);
    // Written around the build's start (a second write in the same clock tick would leave the same times): its content decides.
    expect(isUnchanged(root, 'input.ts', otherContent, Number(ctimeMs) + 500)).toBe(false);
    expect(isUnchanged(root, 'input.ts', recorded, Number(ctimeMs) + 500)).toBe(true);
  });

  it('is seen changed when written again with the same size and its modification time put back (as a copy that keeps times would)', async () => {
    await writeFile(file(), 'export const a = 1;');
    const recorded = fingerprintOf(root, 'input.ts');
    const before = await stat(file());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(file(), 'export const a = 2;');
    await utimes(file(), before.atime, before.mtime);
    const builtAt = before.ctimeMs + 5_000;
    expect(isUnchanged(root, 'input.ts', recorded, builtAt)).toBe(false);
  });

  it('is unchanged when only touched, and not when its fingerprint is of another form (a manifest of an earlier version)', async () => {
    await writeFile(file(), 'export const a = 1;');
    const recorded = fingerprintOf(root, 'input.ts');
    const builtAt = Date.now() + 5_000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await utimes(file(), new Date(), new Date());
    expect(isUnchanged(root, 'input.ts', recorded, builtAt)).toBe(true);
    expect(isUnchanged(root, 'input.ts', createHash('sha256').update('export const a = 1;').digest('hex'), builtAt)).toBe(false);
  });
});

describe('asciiOnly', () => {
  it('writes the characters outside ASCII as escapes that mean the same in code, and leaves ASCII alone', () => {
    const source = "/* scope\u2014including */ [\"\u00e9\u2014\ud83d\ude00\", /\u00e9+/u.test(\"\u00e9\u00e9\"), /\ud83d\ude00/u.test(\"\ud83d\ude00\")]";
    const ascii = asciiOnly(source);
    expect(ascii).toMatch(/^[\x20-\x7e]*$/);
    expect(ascii.startsWith('/* scope\\u2014including */')).toBe(true);
    expect(runInNewContext(ascii)).toEqual(runInNewContext(source));
    expect(asciiOnly('plain = "text";')).toBe('plain = "text";');
  });
});
