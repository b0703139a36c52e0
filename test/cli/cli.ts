/**
 * Runs the `hookline` CLI as a user does: its bin (shared/cli/bin.mjs) in a child process, with
 * its own config file (HOOKLINE_CONFIG) and nothing of the parent's Hookline environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { api, REPO_ROOT, startRuntime, type Api, type Runtime } from '../support/runtime.ts';

export const BIN = join(REPO_ROOT, 'shared', 'cli', 'bin.mjs');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (undefined when it is not). */
  readonly json: any;
}

export interface CliOptions {
  /** Written to stdin, then stdin is closed (closed at once when absent). */
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  /** Options for node itself, before the bin. */
  readonly nodeArgs?: readonly string[];
}

function cliEnv(configFile: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !/^(HOOKLINE_|XDG_CONFIG_HOME$)/.test(name)) env[name] = value;
  return { ...env, HOOKLINE_CONFIG: configFile, ...extra };
}

export function spawnCli(configFile: string, args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(configFile, options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs one command to its end. */
export function cli(configFile: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(configFile, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** Fails the test with everything the command wrote unless it exited with `code`. */
export function expectExit(result: CliResult, code: number): CliResult {
  if (result.code !== code) {
    throw new Error(`expected exit code ${code}, got ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
  return result;
}

/** A long-running command (`--follow`): its output lines as they come, and a clean stop. */
export interface RunningCli {
  readonly lines: readonly string[];
  stderr(): string;
  /** Resolves with the lines so far once `predicate` holds for one of them; rejects on timeout. */
  waitForLine(what: string, predicate: (line: string) => boolean, timeoutMs?: number): Promise<readonly string[]>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Closes the reading end of its stdout, as `| head` does once it has what it wants. */
  stopReading(): void;
  /** Resolves with the exit code once it has exited. */
  readonly exited: Promise<number | null>;
}

export function startCli(configFile: string, args: readonly string[]): RunningCli {
  const child = spawnCli(configFile, args);
  child.stdin!.end();
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let running = true;
  void exited.then(() => {
    running = false;
    for (const wake of waiters) wake();
  });
  return {
    lines,
    stderr: () => err,
    waitForLine: (what, predicate, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (lines.some(predicate)) return done(() => resolve([...lines]));
          if (!running) return done(() => reject(new Error(`the CLI exited before ${what}\n--- stdout ---\n${lines.join('\n')}\n--- stderr ---\n${err}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms\n--- stdout ---\n${lines.join('\n')}\n--- stderr ---\n${err}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGINT') => {
      if (running) child.kill(signal);
      return exited;
    },
    stopReading: () => child.stdout!.destroy(),
    exited,
  };
}

/** What a CLI test file shares: one runtime, a temp dir, and a config file logged in as the bootstrap tenant. */
export interface CliSuite {
  readonly rt: Runtime;
  /** The bootstrap tenant's API client, to check what the CLI did. */
  readonly tenant: Api;
  readonly dir: string;
  readonly config: string;
  /** A receiver on 127.0.0.1, closed after the file. */
  receiver(status?: number): Promise<Receiver>;
  /** Creates a webhook through the CLI (--json) and answers the API's body. */
  createWebhook(url: string, ...args: string[]): Promise<any>;
}

/** Starts the suite before the file's tests (`hookline login` included) and stops it after them. */
export function useCliSuite(env: Readonly<Record<string, string>> = {}): CliSuite {
  const receivers: Receiver[] = [];
  const suite = {
    receiver: async (status = 200) => {
      const r = await startReceiver({ status });
      receivers.push(r);
      return r;
    },
    createWebhook: async (url: string, ...args: string[]) =>
      expectExit(await cli(suite.config, ['webhooks', 'create', '--url', url, ...args, '--json']), 0).json,
  } as { -readonly [K in keyof CliSuite]: CliSuite[K] };
  beforeAll(async () => {
    suite.rt = await startRuntime({ env });
    suite.tenant = api(suite.rt.baseUrl, suite.rt.apiKey);
    suite.dir = await mkdtemp(join(tmpdir(), 'hookline-cli-'));
    suite.config = join(suite.dir, 'nested', 'config.json');
    expectExit(await cli(suite.config, ['login', '--url', `${suite.rt.baseUrl}/`], { input: `${suite.rt.apiKey}\n` }), 0);
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await suite.rt?.cleanup();
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
