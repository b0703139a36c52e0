// `npm start`: the entry point. It turns on Node's compile cache (shared/compile-cache.mjs), then
// starts the runtime from its bundle when one is kept whose inputs are unchanged, else from the
// sources (runtime.ts), and has the next bundle built meanwhile (runtime-bundle.mjs). Plain
// JavaScript, like those two modules: it runs before any TypeScript is loaded.
import { enableHooklineCompileCache } from '../../shared/compile-cache.mjs';
import { cachedRuntimeBundle, rebuildInBackground } from './runtime-bundle.mjs';

// A stop signal before the runtime is started: nothing was accepted yet (its routes answer 503
// until then), and what the start wrote so far a kill would leave as well: stop at once, exit 0.
// The runtime replaces this handler once it has started (runtime.ts).
const stopWhileStarting = (signal) => {
  process.stdout.write(`\n${signal} while starting: stopped\n`);
  process.exit(0);
};
process.on('SIGINT', stopWhileStarting).on('SIGTERM', stopWhileStarting);

enableHooklineCompileCache();
const bundle = cachedRuntimeBundle();
if (bundle !== undefined) {
  await import(bundle);
} else {
  await import('./runtime.ts');
  rebuildInBackground();
}
