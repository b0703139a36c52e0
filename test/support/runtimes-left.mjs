/**
 * jest's globalSetup and globalTeardown (jest.config.js): one-machine runtimes a test started
 * and never stopped (it failed or timed out before its cleanup) are killed when the run ends,
 * instead of running on beside the next run or a benchmark. test/support/runtime.ts writes a
 * file named after each runtime's pid into RUNTIMES_DIR while it runs. Plain JavaScript: jest
 * loads these two before any transform.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable that names the directory; the test workers inherit it. */
export const RUNTIMES_DIR = 'HOOKLINE_TEST_RUNTIMES_DIR';

export async function setup() {
  process.env[RUNTIMES_DIR] = mkdtempSync(join(tmpdir(), 'hookline-test-runtimes-'));
}

export async function teardown() {
  const dir = process.env[RUNTIMES_DIR];
  if (!dir) return;
  for (const name of readdirSync(dir)) {
    const pid = Number(name);
    // The pid may have been reused since: only a process that runs Hookline's entry point is killed.
    if (!commandOf(pid).includes('infra/local/main.mjs')) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A process's command line ('' once it is gone). */
function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
