/**
 * A warm Lambda container: one long-lived child process per function running runner.ts with the
 * bundle, started on the first invocation (the cold start) and reused after, one invocation at a
 * time. A crash or a timeout ends the container (the next invocation starts a new one), as on
 * Lambda. Its output is kept (the function's CloudWatch log stream) for failure messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from './template.ts';

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'runner.ts');
const LOG_LINES_KEPT = 400;

export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** `durationMs`: the handler's own time, when it ran to an answer (what Lambda bills). */
export type InvokeResult = ({ readonly ok: true; readonly value: any } | { readonly ok: false; readonly error: FunctionError }) & { readonly durationMs?: number };

/** Sees each invocation and every byte the container writes (the cost meter, test/cost). */
export interface ContainerObserver {
  /** An invocation begins; the function returned gets its result once it ends. */
  invoking(): (result: InvokeResult) => void;
  /** Bytes written to stdout or stderr: the function's log stream. */
  output(bytes: number): void;
}

/** `index.handler` -> the file Lambda's Node.js runtime loads (`index.js`, `.mjs` or `.cjs`) and the export. */
export function handlerModule(assetDir: string, handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  const base = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = join(assetDir, `${base}${ext}`);
    if (existsSync(file)) return { file, exportName };
  }
  throw new Error(`Runtime.ImportModuleError: no ${base}.js, .mjs or .cjs in ${assetDir}`);
}

export class LambdaContainer {
  readonly fn: FunctionSpec;
  /** Output of every container of this function, newest last. */
  readonly logs: string[] = [];
  /** Init durations (ms) of each cold start. */
  readonly coldStarts: number[] = [];
  private readonly environment: () => Record<string, string>;
  private readonly clockOffset: () => number;
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, (result: InvokeResult) => void>();
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private readonly observer: ContainerObserver | undefined;

  /** `environment` is read at each cold start (the proxy's port is known by then). */
  constructor(fn: FunctionSpec, environment: () => Record<string, string>, clockOffset: () => number, observer?: ContainerObserver) {
    this.fn = fn;
    this.environment = environment;
    this.clockOffset = clockOffset;
    this.observer = observer;
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Invokes the function (after the invocations before it: one container runs one at a time). */
  invoke(event: unknown): Promise<InvokeResult> {
    this.inFlight++;
    const run = this.chain.then(async () => {
      const observed = this.observer?.invoking();
      const result = await this.invokeNow(event);
      observed?.(result);
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run.finally(() => this.inFlight--);
  }

  /** Starts the container now (a provisioned, warm one), so that a test does not pay its init. */
  warm(): Promise<void> {
    return this.start();
  }

  /** Moves the container's clock (Date) to real time + offset. */
  setClock(offsetMs: number): void {
    if (this.child?.connected) this.child.send({ type: 'clock', offsetMs });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** The last lines of output, for a failure message. */
  tail(lines = 40): string {
    return this.logs.slice(-lines).join('\n');
  }

  private async invokeNow(event: unknown): Promise<InvokeResult> {
    try {
      await this.start();
    } catch (err) {
      return { ok: false, error: { errorType: 'Runtime.InitError', errorMessage: (err as Error).message, trace: [] } };
    }
    const child = this.child!;
    const id = this.nextId++;
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.fn.timeoutSeconds}.00 seconds`, trace: [] } });
        void this.stop();
      }, timeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      child.send({ type: 'invoke', id, event, timeoutMs, requestId: randomUUID() });
    });
  }

  private start(): Promise<void> {
    this.ready ??= this.spawn().catch((err: unknown) => {
      // A failed init is retried by the next invocation, as Lambda does.
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private spawn(): Promise<void> {
    const { file, exportName } = handlerModule(this.fn.assetDir, this.fn.handler);
    const child = fork(RUNNER, [file, exportName, this.fn.physicalName, String(this.fn.memoryMb), String(this.clockOffset())], {
      cwd: this.fn.assetDir,
      env: this.environment(),
      execPath: process.execPath,
      // Not the test runner's flags (--experimental-vm-modules): Lambda starts node plainly (NODE_OPTIONS is in env).
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.observer?.output(chunk.length);
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logs.push(line);
      if (this.logs.length > LOG_LINES_KEPT) this.logs.splice(0, this.logs.length - LOG_LINES_KEPT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: FunctionError) => {
        for (const [id, done] of this.pending) {
          this.pending.delete(id);
          done({ ok: false, error });
        }
      };
      child.on('message', (m: any) => {
        if (m.type === 'ready') {
          this.coldStarts.push(m.initMs);
          resolve();
        } else if (m.type === 'init-error') {
          reject(new Error(`${this.fn.name}: init failed: ${m.error.errorType}: ${m.error.errorMessage}\n${m.error.trace.join('\n')}`));
        } else if (m.type === 'result') {
          const done = this.pending.get(m.id);
          this.pending.delete(m.id);
          done?.(m.ok ? { ok: true, value: m.value, durationMs: m.durationMs } : { ok: false, error: m.error, durationMs: m.durationMs });
        } else if (m.type === 'crash') {
          fail({ errorType: m.error.errorType, errorMessage: `the container crashed: ${m.error.errorMessage}`, trace: m.error.trace });
        }
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        fail({ errorType: 'Runtime.ExitError', errorMessage: `the container exited (code ${code}, signal ${signal})`, trace: [] });
        reject(new Error(`${this.fn.name}: the container exited during init (code ${code}, signal ${signal})\n${this.tail()}`));
      });
    });
  }
}
