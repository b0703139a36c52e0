// `npm start`: the entry point. It turns on Node's compile cache (shared/compile-cache.mjs), then
// starts the runtime from its bundle when one is kept whose inputs are unchanged, else from the
// sources (runtime.ts), and has the next bundle built meanwhile (runtime-bundle.mjs). Plain
// JavaScript, like those two modules: it runs before any TypeScript is loaded.
import { enableHooklineCompileCache } from '../../shared/compile-cache.mjs';
import { cachedRuntimeBundle, rebuildInBackground } from './runtime-bundle.mjs';

enableHooklineCompileCache();
const bundle = cachedRuntimeBundle();
if (bundle !== undefined) {
  await import(bundle);
} else {
  await import('./runtime.ts');
  rebuildInBackground();
}
