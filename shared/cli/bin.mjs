#!/usr/bin/env node
// The `hookline` bin (package.json "bin"). The CLI is TypeScript run by Node's type stripping
// (Node >= 22.18 / 23.6 by default). `npx hookline` starts this file with whatever `node` is on
// PATH, so on an older Node it runs itself again with the Node 24 this package installs as a
// dependency (node_modules/node), passing stdio, arguments, signals and the exit code through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableHooklineCompileCache } from '../compile-cache.mjs';
import { whenReaderGone } from '../output-readers.mjs';

// `hookline deliveries ls --follow | head`: once the reader has what it wants, the output is not
// wanted any more. End quietly (exit 0) rather than with EPIPE's stack trace; stderr gone: go on.
whenReaderGone(process.stdout, () => process.exit(0));
whenReaderGone(process.stderr, () => undefined);

if (process.features.typescript) {
  // Each command is a fresh process: compiled code from the last one saves about 0.2 s.
  enableHooklineCompileCache();
  const { main } = await import('./main.ts');
  await main();
} else {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, '..', '..');
  const candidates = [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, 'node_modules', '.bin', 'node')];
  const node = candidates.find((path) => existsSync(path));
  if (!node) {
    process.stderr.write(
      `hookline: Node ${process.versions.node} cannot run TypeScript, and ${candidates[0]} is missing: run \`npm ci\` in ${root}, or use Node >= 22.18\n`,
    );
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes (same process group); a signal sent to this one is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      // End the same way, so a caller sees the signal (this process's own handlers are removed first).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
