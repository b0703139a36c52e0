/**
 * Starts the one-machine runtime (`node infra/local/main.mjs`) as a child process for end-to-end
 * tests: PORT=0 on 127.0.0.1, a temp data dir, fixed keys. The base URL is read from its banner
 * and `GET /healthz` must answer 200 before the runtime is handed out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';
import { RUNTIMES_DIR } from './runtimes-left.mjs';

/** The repository root, two levels above test/support/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RuntimeOptions {
  /** Key of the bootstrap tenant `default`; random when omitted. */
  readonly apiKey?: string;
  /** Key of `/admin/v1/*`; random when omitted. */
  readonly adminKey?: string;
  /** Existing data dir; a fresh temp dir when omitted (removed by `cleanup()`). */
  readonly dataDir?: string;
  /** Extra environment, e.g. HOOKLINE_RETRY_DELAYS. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags after the runtime's own (RUNTIME_NODE_FLAGS), e.g. `--import` of a test hook. */
  readonly nodeFlags?: readonly string[];
  readonly startTimeoutMs?: number;
}

export interface Runtime {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /**
   * Stops this process (if still running) and starts a new one on the same data dir and keys;
   * `env` is merged over the environment of the first start.
   */
  restart(env?: Readonly<Record<string, string>>): Promise<Runtime>;
  /** Stops the process (if running) and removes the data dir if this helper created it. */
  cleanup(): Promise<void>;
}

export const randomKey = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

/**
 * Names a runtime process for jest's global teardown (test/support/runtimes-left.mjs) while it
 * runs, so that one a failed or timed-out test never stopped is killed when the run ends. For
 * every test that spawns the runtime itself rather than through startRuntime.
 */
export function killedIfLeft(child: ChildProcess): void {
  const leftDir = process.env[RUNTIMES_DIR];
  const pidFile = leftDir && child.pid ? join(leftDir, String(child.pid)) : undefined;
  if (!pidFile) return;
  writeFileSync(pidFile, '');
  child.once('exit', () => rmSync(pidFile, { force: true }));
}

/** Environment variables of the parent that must not leak into the runtime under test. */
const STRIPPED_ENV = /^(HOOKLINE_|PORT$|HOST$|AWS_)/;

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'hookline-e2e-')));
  const apiKey = options.apiKey ?? randomKey('hk_e2e_');
  const adminKey = options.adminKey ?? randomKey('hkadm_e2e_');
  return launch({ ...options, apiKey, adminKey, dataDir }, ownsDataDir);
}

async function launch(
  options: RuntimeOptions & { apiKey: string; adminKey: string; dataDir: string },
  ownsDataDir: boolean,
): Promise<Runtime> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !STRIPPED_ENV.test(name)) env[name] = value;
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    HOOKLINE_DATA_DIR: options.dataDir,
    HOOKLINE_API_KEY: options.apiKey,
    HOOKLINE_ADMIN_KEY: options.adminKey,
    ...options.env,
  });

  const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, ...(options.nodeFlags ?? []), RUNTIME_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let running = true;
  killedIfLeft(child);
  void exited.then(() => (running = false));

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const describe = () => `\n--- stdout ---\n${out}\n--- stderr ---\n${err.slice(-4000)}`;
  let baseUrl: string;
  try {
    baseUrl = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`runtime did not print its URL within ${timeoutMs} ms${describe()}`)), timeoutMs);
      const onData = () => {
        const match = /Hookline is running at (http:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolveUrl(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`runtime exited with code ${code} before it was ready${describe()}`));
      });
    });
    await waitHealthy(baseUrl, timeoutMs, () => running);
  } catch (error) {
    if (running) {
      child.kill('SIGKILL');
      await exited;
    }
    if (ownsDataDir) await rm(options.dataDir, { recursive: true, force: true });
    throw error;
  }

  const stop = async (): Promise<number | null> => {
    if (running) child.kill('SIGTERM');
    return exited;
  };
  const kill = async (): Promise<void> => {
    if (running) child.kill('SIGKILL');
    await exited;
  };
  return {
    baseUrl,
    apiKey: options.apiKey,
    adminKey: options.adminKey,
    dataDir: options.dataDir,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    stop,
    kill,
    restart: async (env) => {
      await stop();
      return launch({ ...options, env: { ...options.env, ...env } }, ownsDataDir);
    },
    cleanup: async () => {
      await stop();
      if (ownsDataDir) await rm(options.dataDir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(baseUrl: string, timeoutMs: number, running: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!running()) throw new Error('runtime exited while waiting for /healthz');
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`GET ${baseUrl}/healthz did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ApiResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly json: any;
  readonly text: string;
  readonly headers: Headers;
}

export interface Api {
  /** `body`: a value to JSON-encode, or a string sent as is. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  get(path: string): Promise<ApiResponse>;
  post(path: string, body?: unknown): Promise<ApiResponse>;
  patch(path: string, body?: unknown): Promise<ApiResponse>;
  del(path: string): Promise<ApiResponse>;
}

/** A tiny client: `Authorization: Bearer <key>` (unless key is undefined), JSON in and out. */
export function api(baseUrl: string, key: string | undefined): Api {
  const request = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { ...headers, ...extra }, ...(payload === undefined ? {} : { body: payload }) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return {
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    patch: (path, body) => request('PATCH', path, body),
    del: (path) => request('DELETE', path),
  };
}

/** Polls `check` until it returns a value other than undefined; rejects with `what` on timeout. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Removes a compile-cache directory the runtime was given once its background bundle builder
 * (infra/local/runtime-bundle.mjs) has written the manifest: the builder, a process of its own
 * that outlives the runtime, still writes Node's compile cache there as it exits, and a removal
 * in between failed with ENOTEMPTY. fs.rm retries that error with a growing delay.
 */
export async function removeBuilderCache(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** `npm start` as a user runs it (npmStart): npm itself, and the runtime it `exec`s. */
export interface NpmStart {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly dataDir: string;
  /** What it printed so far. */
  out(): string;
  /** npm's exit code. */
  readonly exited: Promise<number | null>;
  /** SIGKILLs a runtime the test failed to stop (by its data dir's runtime.pid), and removes the data dir. */
  cleanup(): Promise<void>;
}

/**
 * `npm start` on a fresh data dir, once its banner is out: npm as `npm test` ran it
 * (npm_execpath), else the one on the PATH. `detached`: in a process group of its own, as a
 * terminal's foreground job (its pid is the group's).
 */
export async function npmStart(options: { readonly detached?: boolean } = {}): Promise<NpmStart> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-e2e-npm-start-'));
  const apiKey = randomKey('hk_e2e_');
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_API_KEY: apiKey, HOOKLINE_ADMIN_KEY: randomKey('hkadm_e2e_') };
  const npm = process.env['npm_execpath'];
  const [command, args] = npm ? [process.execPath, [npm, 'start']] : ['npm', ['start']];
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const cleanup = async () => {
    const left = Number(await readFile(join(dataDir, 'runtime.pid'), 'utf8').catch(() => ''));
    if (left > 0) process.kill(left, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const baseUrl = await eventually('the banner', async () => /Hookline is running at (http:\/\/\S+)/.exec(out)?.[1], 30_000);
    return { child, baseUrl, apiKey, dataDir, out: () => out, exited, cleanup };
  } catch (error) {
    child.kill('SIGKILL');
    await cleanup();
    throw error;
  }
}
