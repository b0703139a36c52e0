import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newApiKey } from '../../shared/domain/ids.ts';

export interface Credentials {
  readonly apiKey: string;
  readonly adminKey: string;
  /** Which of the two were generated (and so worth printing as new). */
  readonly generated: readonly ('apiKey' | 'adminKey')[];
}

/**
 * The bootstrap keys of CONTRACT.md section 1: from the environment if given, otherwise
 * generated on first start and kept in `<data dir>/credentials.json` (mode 0600).
 */
export async function loadCredentials(dataDir: string, env: NodeJS.ProcessEnv): Promise<Credentials> {
  const file = join(dataDir, 'credentials.json');
  let stored: { api_key?: string; admin_key?: string } = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const generated: ('apiKey' | 'adminKey')[] = [];
  const apiKey = env['HOOKLINE_API_KEY'] || stored.api_key || (generated.push('apiKey'), newApiKey());
  const adminKey = env['HOOKLINE_ADMIN_KEY'] || stored.admin_key || (generated.push('adminKey'), `hkadm_${randomBytes(32).toString('base64url')}`);
  if (generated.length > 0) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const next = { ...stored, ...(generated.includes('apiKey') ? { api_key: apiKey } : {}), ...(generated.includes('adminKey') ? { admin_key: adminKey } : {}) };
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, file);
    await chmod(file, 0o600);
  }
  return { apiKey, adminKey, generated };
}
