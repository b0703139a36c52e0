import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file naming the process that runs on a data directory. */
export const LOCK_FILE = 'runtime.pid';

/** Another runtime runs on this data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/** The data directory cannot take the claim: not writable, full, or `runtime.pid` not a file. */
export class DataDirUnusableError extends Error {
  override name = 'DataDirUnusableError';
}

/**
 * Claims `dataDir` for this process: one runtime per data directory. Two would both take what the
 * queues hold (the start makes what the last process had taken visible again), so both would
 * deliver it, and both would write one database under two group commits. The claim is a file
 * with this process's id, made exclusively; a file left by a process that is gone (killed) is
 * taken over, as is one naming this process's own id (a container restarted gives the same
 * one) or, where /proc tells, a process that is not a Hookline runtime (the id was reused).
 * Returns the release, for a stop; a killed process's file stays and is taken over next time.
 * Two starts at the same instant after a kill may both take over: the claim is advisory.
 */
export function claimDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  try {
    claim(dataDir, file, mine);
  } catch (error) {
    if (error instanceof DataDirInUseError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    throw new DataDirUnusableError(`${dataDir} cannot be used as the data directory (${code ?? message}: ${file}). Check that it is a directory this user can write to, on a disk with room.`, {
      cause: error,
    });
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8') === mine) rmSync(file, { force: true });
    } catch {
      // Gone already: nothing to release.
    }
  };
}

function claim(dataDir: string, file: string, mine: string): void {
  try {
    writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
  if (isRuntime(holder)) {
    throw new DataDirInUseError(`${dataDir} is in use by another Hookline runtime (process ${holder}). Stop it first, or start this one with another HOOKLINE_DATA_DIR.`);
  }
  const taking = `${file}.${process.pid}`;
  try {
    writeFileSync(taking, mine, { mode: 0o600 });
    renameSync(taking, file);
  } catch (error) {
    rmSync(taking, { force: true });
    throw error;
  }
}

/** Whether `pid` is a live process other than this one that runs Hookline's entry point. */
function isRuntime(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, another user's.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.mjs');
  } catch {
    // No /proc (not Linux) or not readable: alive is all that is known.
    return true;
  }
}
