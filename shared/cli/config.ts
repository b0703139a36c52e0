/**
 * The saved login: the API's base URL and a tenant key, in a JSON file only its owner can read
 * (0600, in a 0700 directory when the CLI creates it). Where it lives, first match wins:
 * `$HOOKLINE_CONFIG`, `$XDG_CONFIG_HOME/hookline/config.json`, `~/.config/hookline/config.json`.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from './errors.ts';

import { CLI_ENV } from '../config.ts';

export interface CliConfig {
  /** Base URL of the API, e.g. http://127.0.0.1:3000, without a trailing slash. */
  readonly url: string;
  readonly key: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const explicit = env[CLI_ENV.configFile];
  if (explicit) return explicit;
  const base = env[CLI_ENV.xdgConfigHome] || join(homedir(), '.config');
  return join(base, 'hookline', 'config.json');
}

/** The saved login; a ConfigError that says to run `hookline login` when there is none. */
export async function loadConfig(path: string): Promise<CliConfig & { readonly warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`not logged in (no ${path}): run \`hookline login --url <base URL>\` first`);
    }
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not JSON; run \`hookline login\` again`, { cause: error });
  }
  const { url, key } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof url !== 'string' || typeof key !== 'string' || url === '' || key === '') {
    throw new ConfigError(`${path} has no url and key; run \`hookline login\` again`);
  }
  const warnings: string[] = [];
  // The key is a credential: say so when others can read it (ssh refuses; a warning is enough here).
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    warnings.push(`${path} can be read by other users; run: chmod 600 ${path}`);
  }
  return { url, key, warnings };
}

/** Writes the login atomically (temp file + rename), readable by its owner only. */
export async function saveConfig(path: string, config: CliConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ url: config.url, key: config.key }, null, 2) + '\n', { mode: 0o600 });
  // `mode` is only applied when the file is created, and through the umask: set it outright.
  await chmod(temp, 0o600);
  await rename(temp, path);
}

/** `http://host:3000/` -> `http://host:3000`; a usage-level error for anything but http(s). */
export function normalizeBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ConfigError(`not a URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`the URL must be http:// or https://, got ${url.protocol}`);
  if (url.search || url.hash) throw new ConfigError('the base URL must not have a query string or fragment');
  return url.toString().replace(/\/+$/, '');
}
