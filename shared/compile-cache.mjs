// Node's compile cache (V8 code for every module loaded after it is turned on), for the two entry
// points that start Hookline's TypeScript: the runtime (infra/local/main.mjs) and the CLI
// (shared/cli/bin.mjs). A start after the first reads compiled code instead of parsing and
// type-stripping every module again: most of the runtime's time to healthy, and about two thirds
// of a CLI command's (0.30 -> 0.09 s for `hookline --help` here).
//
// Kept in the checkout, beside other tools' caches (node_modules/.cache), not in Node's default,
// the OS temp directory: there another local user could make the directory first and leave
// compiled code in it for this process to run. NODE_COMPILE_CACHE, when set, decides.
//
// Plain JavaScript: it runs before the cache is on, and a .ts module would load Node's type
// stripper (a WebAssembly module, about 25 ms of every start) for this one file.
// The module's default export, not a named import: Node before 22.1 has no enableCompileCache, and
// a named import of it fails to link there, before the CLI's launcher can start the Node 24 that
// `npm ci` installs (shared/cli/bin.mjs).
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

/** The cache's directory when NODE_COMPILE_CACHE is not set: node_modules/.cache/hookline/compile. */
export const COMPILE_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/hookline/compile', import.meta.url));

/** Where compiled code is kept: NODE_COMPILE_CACHE, else COMPILE_CACHE_DIR. The runtime's bundle is kept there too. */
export const hooklineCacheDir = () => process.env.NODE_COMPILE_CACHE || COMPILE_CACHE_DIR;

/** Turns the cache on for the modules this process loads from now on (a failure, or an older Node, only costs speed). */
export function enableHooklineCompileCache() {
  return nodeModule.enableCompileCache?.(hooklineCacheDir());
}
