import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
// Fingerprints and the private-directory check, as the runtime's own bundle takes them.
import { asciiOnly, fingerprintingLoader, inputFingerprints, inputsUnchanged, isPrivateDir } from './runtime-bundle.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'shared/adapters/http/sender-thread.ts');
/** Bundles are kept in the OS temp directory, one per checkout (checked before use: `isPrivateDir`). */
const SENDER_BUNDLE_CACHE = join(tmpdir(), 'hookline-sender-thread');
const CACHE_FILE = `${createHash('sha256').update(ROOT).digest('hex').slice(0, 16)}.json`;

interface CachedBundle {
  /** Each input file (relative to the root) and its fingerprint when bundled (runtime-bundle.mjs's `fingerprintOf`). */
  readonly inputs: Record<string, string>;
  /** When the build began (ms): see runtime-bundle.mjs's `isUnchanged`. */
  readonly builtAt: number;
  readonly script: string;
}

/**
 * The sender thread's code as one minified CommonJS script (about 470 KB, undici's Agent most
 * of it), bundled with esbuild (the stack's bundler, a dependency already): a thread that loads
 * the TypeScript sources instead starts Node's type stripper and the module graph again, about
 * 35 MB more of the runtime's memory. Bundling takes 50 to 100 ms of the main thread (esbuild's
 * import and child process), so the script is kept in the OS temp directory with its inputs'
 * fingerprints and used again while they are unchanged (a few ms). Undefined when esbuild cannot
 * be loaded or fails: the thread then loads the sources.
 *
 * The script runs as this user's code, and the temp directory is everyone's: the cache is used
 * only in a directory of this user's that nobody else may write to (see `isPrivateDir`).
 */
export async function bundleSenderThread(onError: (error: unknown) => void, cacheDir = SENDER_BUNDLE_CACHE): Promise<string | undefined> {
  const cached = readCached(cacheDir);
  if (cached !== undefined) return cached;
  try {
    // Resolved from this file's place in the checkout (its import.meta.url is kept in the runtime's
    // bundle), not the bundle's: a NODE_COMPILE_CACHE outside the checkout has no node_modules above it.
    const esbuild = (await import(pathToFileURL(createRequire(import.meta.url).resolve('esbuild')).href)) as typeof import('esbuild');
    try {
      // Fingerprints taken as the inputs are read: a file saved during the build makes the kept script stale, not wrong.
      const fingerprints = new Map<string, string>();
      const builtAt = Date.now();
      const result = await esbuild.build({
        entryPoints: [ENTRY],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node24',
        minify: true,
        write: false,
        metafile: true,
        logLevel: 'silent',
        absWorkingDir: ROOT,
        plugins: [fingerprintingLoader(fingerprints)],
      });
      // ASCII only (a licence comment in it names its author with an umlaut): its cached copy is
      // then read and parsed on UTF-8's fast path, in about 8 ms instead of 13 (see asciiOnly).
      const output = result.outputFiles[0];
      const script = output && asciiOnly(output.text);
      if (script !== undefined) writeCached(cacheDir, { inputs: inputFingerprints(ROOT, result.metafile, fingerprints), builtAt, script });
      return script;
    } finally {
      // esbuild's service is a child process: not kept for the runtime's life.
      esbuild.stop();
    }
  } catch (error) {
    onError(error);
    return undefined;
  }
}

function readCached(cacheDir: string): string | undefined {
  try {
    if (!isPrivateDir(cacheDir)) return undefined;
    const cached = JSON.parse(readFileSync(join(cacheDir, CACHE_FILE), 'utf8')) as CachedBundle;
    return inputsUnchanged(ROOT, cached.inputs, cached.builtAt) ? cached.script : undefined;
  } catch {
    // None yet, an input gone, or a file cut short: bundle again.
    return undefined;
  }
}

function writeCached(cacheDir: string, bundle: CachedBundle): void {
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (!isPrivateDir(cacheDir)) return;
    const file = join(cacheDir, CACHE_FILE);
    // Written aside and renamed: a runtime starting meanwhile reads the old file or the new one.
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(bundle));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // A cache that cannot be written only costs the next start its bundling.
  }
}
