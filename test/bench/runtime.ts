import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_ENTRY, RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.ts';
import { sleep } from './stats.ts';

export interface Runtime {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** The runtime process's id (its RSS is read from /proc). */
  readonly pid: number;
  /** Everything the runtime wrote to stderr so far. */
  stderr(): string;
  /** Lines of stdout after the banner (the runtime logs there too). */
  stdout(): string;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export const API_KEY = 'hk_bench_0123456789abcdefghijklmnopqrstuvwxyzABCDE';
export const ADMIN_KEY = 'hkadm_bench_0123456789abcdefghijklmnopqrstuvwxyzAB';

/** `node infra/local/main.mjs` on a free port and a fresh data dir; resolves once /healthz says ok. */
export async function startRuntime(root: string, extraEnv: Record<string, string> = {}): Promise<Runtime> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-bench-data-'));
  const flags = [
    ...(process.env['BENCH_PROF_DIR'] ? ['--cpu-prof', '--cpu-prof-dir=' + process.env['BENCH_PROF_DIR']] : []),
    // e.g. --trace-gc: node flags for the runtime alone (NODE_OPTIONS would reach the bench too).
    ...(process.env['BENCH_RUNTIME_FLAGS']?.split(/\s+/).filter(Boolean) ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, ...flags, RUNTIME_ENTRY], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      HOOKLINE_DATA_DIR: dataDir,
      HOOKLINE_API_KEY: API_KEY,
      HOOKLINE_ADMIN_KEY: ADMIN_KEY,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));

  const cleanup = async () => {
    if (!exit) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  let baseUrl = '';
  try {
    while (!baseUrl) {
      if (exit) throw new Error(`runtime exited (${exit.code ?? exit.signal}) before starting:\n${err || out}`);
      if (Date.now() > deadline) throw new Error(`runtime did not print its URL within 60 s:\n${out}\n${err}`);
      baseUrl = /Hookline is running at (\S+)/.exec(out)?.[1] ?? '';
      if (!baseUrl) await sleep(5);
    }
    for (;;) {
      if (exit) throw new Error(`runtime exited (${exit.code ?? exit.signal}):\n${err}`);
      if (Date.now() > deadline) throw new Error('runtime /healthz not ok within 60 s');
      const ok = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(5);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const banner = out.length;
  return {
    baseUrl,
    apiKey: API_KEY,
    pid: child.pid!,
    stderr: () => err,
    stdout: () => out.slice(banner),
    async stop() {
      const t = performance.now();
      if (!exit) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const e = await exited;
      clearTimeout(timer);
      const ms = performance.now() - t;
      await rm(dataDir, { recursive: true, force: true });
      return { ...e, ms };
    },
  };
}
