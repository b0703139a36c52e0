/**
 * Started by an older Node than the project's 24 (the machine's own, as `#!/usr/bin/env node`
 * or a global npx would): the CLI's launcher runs itself again with the Node 24 that `npm ci`
 * installs, and the runtime's entry point says what to do instead of failing an import. Skipped,
 * and said so, on a machine whose PATH has no older Node.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { olderNodeOnPath } from '../support/older-node.ts';
import { REPO_ROOT } from '../support/runtime.ts';

const older = olderNodeOnPath();
const run = (file: string, args: readonly string[]) =>
  spawnSync(older!, [join(REPO_ROOT, file), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, HOOKLINE_CONFIG: join(REPO_ROOT, 'no-such-config.json') }, timeout: 30_000 });

(older ? describe : describe.skip)(`started by ${older ?? 'an older Node (none on PATH)'}`, () => {
  it('the CLI runs itself again with Node 24 and passes its exit code through', () => {
    const version = run('shared/cli/bin.mjs', ['--version']);
    expect({ status: version.status, stdout: version.stdout, stderr: version.stderr }).toEqual({ status: 0, stdout: expect.stringMatching(/^hookline \d+\.\d+\.\d+\n$/), stderr: '' });
    const unknown = run('shared/cli/bin.mjs', ['no-such-command']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no-such-command');
  });

  it("is admitted by package.json's engines, so npm does not warn around `npx hookline`", () => {
    // npx checks `engines` against the Node it runs on: at >=24 a fresh clone's first commands
    // printed npm's EBADENGINE warning twice each, though the launcher runs itself again (above).
    const range = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = Number(/^v(\d+)\./.exec(spawnSync(older!, ['--version'], { encoding: 'utf8' }).stdout)?.[1]);
    expect(range).toMatch(/^>=\d+$/);
    expect(Number(range.slice(2))).toBeLessThanOrEqual(major);
  });

  it('the runtime says which Node it needs and how to start it, and exits 1', () => {
    const start = run('infra/local/main.mjs', []);
    expect(start.status).toBe(1);
    expect(start.stdout).toBe('');
    expect(start.stderr).toMatch(/^Hookline needs Node 24 or later, and this is Node \d+\.\d+\.\d+: start it with `npm start`/);
  });
});
