/**
 * `npm start` runs the one-machine runtime with the Node flags the tests and benchmarks start it
 * with, so that what they measure is what a user runs.
 */
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
});
