import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { SecretStore } from '../../usecases/ports.ts';

/**
 * Secrets Manager's stand-in on one machine: one file per secret under the data dir, mode 0600,
 * written atomically (temp file + rename) so a crash never leaves half a secret.
 */
export class FileSecretStore implements SecretStore {
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async get(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(name: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path(name)}.${randomUUID()}.tmp`; // unique: two puts of one name may overlap
    await writeFile(tmp, value, { mode: 0o600 });
    await rename(tmp, this.path(name));
  }

  async delete(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  private path(name: string): string {
    return join(this.dir, encodeURIComponent(name) + '.secret');
  }
}
