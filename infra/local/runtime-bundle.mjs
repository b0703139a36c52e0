// The one-machine runtime as one ES module: infra/local/runtime.ts and everything it imports,
// bundled by esbuild (the stack's bundler, a dependency already) and kept beside Node's compile
// cache with the fingerprints of its inputs. A start that loads some 260 modules spends about
// 40 % of its time to healthy resolving, reading and linking them (package.json lookups, real
// paths, module jobs), even with their compiled code cached; from one file it was healthy in
// about 240 ms instead of 450 here. The code is the same: only how it is loaded changes.
//
// main.mjs asks `cachedRuntimeBundle()` for a bundle whose every input is as it was when bundled
// (a source edited since, or `npm ci` run again, means none) and otherwise starts from the
// sources and calls `rebuildInBackground()`: a process of its own, at the lowest CPU priority,
// builds the next bundle while the runtime runs (one builder at a time per directory).
//
// Plain JavaScript: main.mjs runs it before the TypeScript sources load.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hooklineCacheDir } from '../../shared/compile-cache.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'infra', 'local', 'runtime.ts');
const MANIFEST = 'manifest.json';
const LOCK = 'building.lock';
/** A lock older than this was left by a builder that died. */
const STALE_LOCK_MS = 60_000;
/** Bundles no manifest names are deleted once this old (a runtime starting may be about to load one). */
const OLD_BUNDLE_MS = 10 * 60_000;

/** Where the bundle and its manifest are kept: `runtime-bundle/` in Hookline's cache directory. */
export const runtimeBundleDir = () => join(hooklineCacheDir(), 'runtime-bundle');

/**
 * An input's fingerprint as a build reads it, `size:mtimeMs:ctimeMs:sha256`: its size and its
 * modification and status-change times (taken before its bytes are read), and its content's
 * SHA-256. The times let a start check the runtime's 347 inputs with one stat each: the check
 * took 10 to 12 ms cold instead of 24 to 30 when our 128 sources were hashed at every start (the
 * runtime's CPU to healthy, 24 alternating starts: a median of 243 ms against 258, its main
 * thread 200 against 206). The hash decides where the times cannot (isUnchanged). The
 * status-change time is set by the kernel at every write and no tool sets it back, where a copy
 * that keeps modification times (`cp -p`, `rsync -a`, an archive) sets those.
 */
export function fingerprintOf(root, file) {
  return readInput(resolve(root, file)).fingerprint;
}

/** The hex SHA-256 of a file's bytes or a text: the fingerprints' content part and the bundle's name. */
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** A file's bytes and fingerprint, its times taken before it is read: a write in between makes the bundle stale, not wrong. */
function readInput(path) {
  const stat = statSync(path);
  const bytes = readFileSync(path);
  return { bytes, fingerprint: `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${sha256(bytes)}` };
}

/**
 * A file whose recorded status-change time is within this of its build's start, or later, is
 * checked by its content: two writes within one tick of the kernel's clock (a few ms) leave the
 * same times, so the second could go unseen (git's "racy" entries, the same way).
 */
const RACY_MS = 1_000;

/**
 * Whether an input is as the build that recorded `fingerprint` (fingerprintOf) read it: its size
 * and times are the recorded ones and were already old when the build started (`builtAt`, ms;
 * any later write would have moved the status-change time), or else its content has the recorded
 * hash (a file only touched since, or one written around the build).
 */
export function isUnchanged(root, file, fingerprint, builtAt) {
  const [size, mtimeMs, ctimeMs, hash] = String(fingerprint).split(':');
  if (hash === undefined) return false;
  // Joined by hand: path.resolve, cold at a start, cost more than the 347 stats (6 against 3 ms).
  const path = `${root.endsWith('/') ? root : `${root}/`}${file}`;
  const stat = statSync(path);
  if (String(stat.size) === size && String(stat.mtimeMs) === mtimeMs && String(stat.ctimeMs) === ctimeMs && Number(ctimeMs) < builtAt - RACY_MS) return true;
  return sha256(readFileSync(path)) === hash;
}

/** Whether a kept build's recorded inputs (file -> fingerprint) are all unchanged (isUnchanged); none recorded is not. */
export function inputsUnchanged(root, inputs, builtAt) {
  const entries = Object.entries(inputs);
  return entries.length > 0 && entries.every(([file, fingerprint]) => isUnchanged(root, file, fingerprint, builtAt));
}

/**
 * A directory (not a link to one) of this process's user that no other user can write to: one
 * that another user made first in a shared place (the OS temp directory, a NODE_COMPILE_CACHE
 * there) could be given a script of theirs to run. (Without POSIX user ids, as on Windows, the
 * temp directory is the user's own.)
 */
export function isPrivateDir(dir) {
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  return stat.isDirectory() && (uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0));
}

/**
 * The file URL of the kept bundle if it is in a private directory, was built from this checkout
 * (it names our files by their absolute paths), has the size it was written with and every one
 * of its inputs is unchanged, else undefined.
 */
export function cachedRuntimeBundle(dir = runtimeBundleDir()) {
  try {
    if (!isPrivateDir(dir)) return undefined;
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    if (manifest.root !== ROOT || statSync(join(dir, manifest.bundle)).size !== manifest.size) return undefined;
    if (!inputsUnchanged(ROOT, manifest.inputs, manifest.builtAt)) return undefined;
    return pathToFileURL(join(dir, manifest.bundle)).href;
  } catch {
    // None yet, an input gone, or a manifest cut short: start from the sources.
    return undefined;
  }
}

/**
 * The text with each character outside ASCII written as a `\u` escape. esbuild escapes them in
 * code (its default ASCII charset) but copies comments as they are, and one em dash in a
 * dependency's comment makes a whole file a two-byte string for Node and V8: the runtime's 824 KB
 * bundle, with two such characters, took 12.3 ms for Node's ES module loader to decode instead of
 * 4.0, and V8 11 ms to check and load its cached code instead of 9.4 (at each start). In a comment
 * the escape is text; anywhere else in JavaScript (a string, a regular expression, an identifier)
 * it means the character it replaces.
 */
export const asciiOnly = (text) => text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Starts the builder (this file run as a script) and does not wait for it; any failure only costs speed. */
export function rebuildInBackground(dir = runtimeBundleDir()) {
  try {
    // Loaded here, not imported: a start that finds its bundle starts no builder, and
    // node:child_process was about 6 ms of every start.
    const child = process.getBuiltinModule('node:child_process').spawn(process.execPath, [fileURLToPath(import.meta.url), dir], { stdio: 'ignore' });
    child.on('error', () => {});
    if (child.pid !== undefined) {
      try {
        // The runtime comes first: the builder takes what CPU the runtime leaves.
        setPriority(child.pid, 19);
      } catch {
        // Not allowed here: it builds at normal priority.
      }
    }
    child.unref();
  } catch {
    // No process could be started: the next start tries again.
  }
}

/**
 * An esbuild plugin that reads every input itself and takes its fingerprint (fingerprintOf, by
 * absolute path, into `fingerprints`) from the bytes it gives esbuild: a file saved during the
 * build (an edit, `npm ci`) then makes the kept bundle stale, since the next start finds another
 * fingerprint, rather than wrong: the new file's fingerprint over the old code.
 * `ownImportMetaUrl`: each of our modules keeps its own `import.meta.url` (in one bundle they
 * would all share the bundle's, and the runtime finds files beside its sources with it: the
 * sender thread's entry, the portal's files).
 */
export const fingerprintingLoader = (fingerprints, { ownImportMetaUrl = false } = {}) => ({
  name: 'hookline-fingerprints',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts|mjs|cjs|js|json)$/ }, (args) => {
      const { bytes, fingerprint } = readInput(args.path);
      fingerprints.set(args.path, fingerprint);
      const text = bytes.toString('utf8');
      const loader = args.path.endsWith('.json') ? 'json' : /\.m?ts$/.test(args.path) ? 'ts' : 'js';
      const own = !args.path.includes('/node_modules/');
      return { contents: own && ownImportMetaUrl && loader !== 'json' ? text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)) : text, loader };
    });
  },
});

/** The fingerprints of a build's inputs (its metafile's, relative to `root`, its working directory), as `fingerprintingLoader` took them. */
export function inputFingerprints(root, metafile, fingerprints) {
  return Object.fromEntries(Object.keys(metafile.inputs).map((file) => [file, fingerprints.get(resolve(root, file)) ?? fingerprintOf(root, file)]));
}

/** This file stays out of the runtime's bundle (imported from where it is): the loader's own code names the text it replaces. */
const thisFileExternal = {
  name: 'hookline-runtime-bundle-external',
  setup(build) {
    build.onResolve({ filter: /[/\\]runtime-bundle\.mjs$/ }, (args) => ({ path: pathToFileURL(resolve(args.resolveDir, args.path)).href, external: true }));
  },
};

async function build(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isPrivateDir(dir)) return;
  const lockFile = join(dir, LOCK);
  let lock;
  try {
    lock = openSync(lockFile, 'wx');
  } catch {
    if (Date.now() - statSync(lockFile).mtimeMs < STALE_LOCK_MS) return;
    rmSync(lockFile, { force: true });
    lock = openSync(lockFile, 'wx');
  }
  try {
    const esbuild = await import('esbuild');
    const builtAt = Date.now();
    const bundled = new Map();
    const result = await esbuild.build({
      entryPoints: [ENTRY],
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      // Not minified: a stack trace still names the functions and the code around them.
      write: false,
      metafile: true,
      // The sender thread's bundler, imported only when its own bundle is missing.
      external: ['esbuild'],
      // CommonJS dependencies (ajv) call `require`, which an ES module does not have (as
      // infra/stack/bundling.ts's ESM_REQUIRE_BANNER, which this plain-JavaScript file cannot import).
      banner: { js: "import { createRequire as __hooklineCreateRequire } from 'node:module'; const require = __hooklineCreateRequire(import.meta.url);" },
      plugins: [thisFileExternal, fingerprintingLoader(bundled, { ownImportMetaUrl: true })],
      logLevel: 'silent',
    });
    const text = asciiOnly(result.outputFiles[0].text);
    const bundle = `runtime-${sha256(text).slice(0, 16)}.mjs`;
    const inputs = inputFingerprints(ROOT, result.metafile, bundled);
    // Each file written aside and renamed: a runtime starting meanwhile reads the old one or the new one.
    writeFileSync(join(dir, `${bundle}.${process.pid}`), text);
    renameSync(join(dir, `${bundle}.${process.pid}`), join(dir, bundle));
    // Its size too: a bundle cut short (a crash of the machine before the OS wrote it all) is not loaded.
    writeFileSync(join(dir, `${MANIFEST}.${process.pid}`), JSON.stringify({ root: ROOT, bundle, size: Buffer.byteLength(text), builtAt, inputs }));
    renameSync(join(dir, `${MANIFEST}.${process.pid}`), join(dir, MANIFEST));
    for (const name of readdirSync(dir)) {
      if (name.startsWith('runtime-') && name !== bundle && Date.now() - statSync(join(dir, name)).mtimeMs > OLD_BUNDLE_MS) rmSync(join(dir, name), { force: true });
    }
    esbuild.stop();
  } finally {
    closeSync(lock);
    rmSync(lockFile, { force: true });
  }
}

/** Forgets the kept bundle (one that failed to load): the next start runs from the sources and builds another. */
export function discardRuntimeBundle(dir = runtimeBundleDir()) {
  rmSync(join(dir, MANIFEST), { force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2] ?? runtimeBundleDir());
