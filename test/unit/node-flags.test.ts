/**
 * `npm start` runs the one-machine runtime with the Node flags the tests and benchmarks start it
 * with, so that what they measure is what a user runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';
import { REPO_ROOT } from '../support/runtime.ts';

describe('the runtime node flags', () => {
  it("are the ones npm start passes, before the runtime's entry point", () => {
    const scripts = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    // exec: the shell npm runs the script in becomes the runtime, so npm's SIGTERM reaches it
    // (test/e2e/restart.test.ts stops `npm start` that way).
    expect(scripts['start']).toBe(['exec', 'node', ...RUNTIME_NODE_FLAGS, RUNTIME_ENTRY].join(' '));
  });

  it("leave V8's code cache usable: Node's modules load with the compiled code it ships", () => {
    // V8 refuses cached code made under another tag, and some flags change it (the heap's growing
    // factor, the compilers' thread counts): then every start compiles Node's own modules anew.
    const cacheTag = (flags: readonly string[]) =>
      execFileSync(process.execPath, [...flags, '-p', "require('node:v8').cachedDataVersionTag()"], { encoding: 'utf8' }).trim();
    expect(cacheTag(RUNTIME_NODE_FLAGS)).toBe(cacheTag([]));
    expect(cacheTag(['--heap-growing-percent=20'])).not.toBe(cacheTag([]));
  });
});
