// `npm start`: the entry point. It turns on Node's compile cache (shared/compile-cache.mjs), then
// starts the runtime from its bundle when one is kept whose inputs are unchanged, else from the
// sources (runtime.ts), and has the next bundle built meanwhile (runtime-bundle.mjs). Plain
// JavaScript, like those two modules: it runs before any TypeScript is loaded.
import { enableHooklineCompileCache } from '../../shared/compile-cache.mjs';
import { whenReaderGone } from '../../shared/output-readers.mjs';
import { cachedRuntimeBundle, discardRuntimeBundle, rebuildInBackground } from './runtime-bundle.mjs';

// The runtime needs Node 24 (node:sqlite and type stripping as Lambda's Node 24 has them), which
// `npm start` runs; package.json's engines admit the older Node that npm and the CLI's launcher
// may run on. Said plainly rather than as a failed import, and before a kept runtime bundle is
// tried (and thrown away).
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(
    `Hookline needs Node 24 or later, and this is Node ${process.versions.node}: start it with \`npm start\`, which runs the Node 24 that \`npm ci\` installs (node_modules/.bin/node).\n`,
  );
  process.exit(1);
}

// Whoever reads stdout or stderr may go away (`npm start | head`, a log shipper restarting): the
// runtime died at its next line (a stop's "stopping...", a warning), leaving its deliveries to a
// restart as a kill would. It runs on instead; what it writes to that stream is dropped.
for (const stream of [process.stdout, process.stderr]) whenReaderGone(stream, () => undefined);

// A stop signal before the runtime is started: nothing was accepted yet (its routes answer 503
// until then), and what the start wrote so far a kill would leave as well: stop at once, exit 0.
// The runtime replaces this handler once it has started (runtime.ts).
const stopWhileStarting = (signal) => {
  process.stdout.write(`\n${signal} while starting: stopped\n`);
  process.exit(0);
};
// The signals of STOP_SIGNALS (shared/stop-signals.ts; this file imports no TypeScript).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stopWhileStarting);

enableHooklineCompileCache();
const bundle = cachedRuntimeBundle();
let loaded = false;
if (bundle !== undefined) {
  try {
    await import(bundle);
    loaded = true;
  } catch (error) {
    // A bundle that does not parse or link (damaged on disk) fails here, before the runtime's
    // main() begins (which handles its own failures): forget it and start from the sources.
    // The message can quote the damaged source (a ReferenceError names the whole "identifier"):
    // its first line, cut, is enough to say what happened.
    const reason = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0].slice(0, 200);
    process.stderr.write(`Hookline: the kept runtime bundle could not be loaded (${reason}); starting from the sources\n`);
    discardRuntimeBundle();
  }
}
if (!loaded) {
  await import('./runtime.ts');
  rebuildInBackground();
}
