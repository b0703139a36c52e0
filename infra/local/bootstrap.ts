import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalSettings } from '../../shared/config.ts';
import { newApiKey } from '../../shared/domain/ids.ts';

export interface Credentials {
  readonly apiKey: string;
  readonly adminKey: string;
  /** Which of the two were generated (and so worth printing as new). */
  readonly generated: readonly ('apiKey' | 'adminKey')[];
  /**
   * A generated key still in credentials.json that `HOOKLINE_API_KEY` now replaces: to revoke,
   * then to drop from the file (see forgetSuperseded).
   */
  readonly superseded: readonly string[];
}

interface StoredCredentials {
  api_key?: string;
  admin_key?: string;
}

/**
 * The bootstrap keys of CONTRACT.md section 1: from the environment if given, otherwise
 * generated on first start and kept in `<data dir>/credentials.json` (mode 0600).
 */
export async function loadCredentials(dataDir: string, given: Pick<LocalSettings, 'apiKey' | 'adminKey'>): Promise<Credentials> {
  const stored = await readStored(dataDir);
  const generated: ('apiKey' | 'adminKey')[] = [];
  const apiKey = given.apiKey || stored.api_key || (generated.push('apiKey'), newApiKey());
  const adminKey = given.adminKey || stored.admin_key || (generated.push('adminKey'), `hkadm_${randomBytes(32).toString('base64url')}`);
  if (generated.length > 0) {
    await writeStored(dataDir, {
      ...stored,
      ...(generated.includes('apiKey') ? { api_key: apiKey } : {}),
      ...(generated.includes('adminKey') ? { admin_key: adminKey } : {}),
    });
  }
  const superseded = stored.api_key !== undefined && stored.api_key !== apiKey ? [stored.api_key] : [];
  return { apiKey, adminKey, generated, superseded };
}

/**
 * Once the superseded key is revoked, it leaves credentials.json: unsetting `HOOKLINE_API_KEY`
 * later must generate a new key, not bring the revoked one back.
 */
export async function forgetSuperseded(dataDir: string, credentials: Credentials): Promise<void> {
  if (credentials.superseded.length === 0) return;
  const { api_key, ...rest } = await readStored(dataDir);
  if (api_key !== undefined && credentials.superseded.includes(api_key)) await writeStored(dataDir, rest);
}

/** `credentials.json` is there and cannot be read as the keys it keeps. */
export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
}

async function readStored(dataDir: string): Promise<StoredCredentials> {
  const file = join(dataDir, 'credentials.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CredentialsFileError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch (err) {
    stored = err;
  }
  const isKey = (value: unknown) => value === undefined || (typeof value === 'string' && value !== '');
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored) || stored instanceof Error || !isKey((stored as StoredCredentials).api_key) || !isKey((stored as StoredCredentials).admin_key)) {
    throw new CredentialsFileError(
      `${file} is not the keys file Hookline writes ({"api_key": "...", "admin_key": "..."}): fix it, or move it away to have new keys generated (the old ones then stop working)`,
    );
  }
  return stored as StoredCredentials;
}

async function writeStored(dataDir: string, credentials: StoredCredentials): Promise<void> {
  const file = join(dataDir, 'credentials.json');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
}
