import { Worker } from 'node:worker_threads';
import type { TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import type { SenderThreadData, SenderThreadReply, SenderThreadRequest } from './sender-thread.ts';

export interface ThreadedHttpSenderOptions {
  readonly policy: TargetPolicy;
  /**
   * The thread's code as one CommonJS script (sender-thread.ts bundled, see
   * infra/local/sender-bundle.ts). Without it, or when it fails, the thread loads
   * sender-thread.ts itself: the same sender, but Node's TypeScript stripper and the module
   * graph cost the thread about 35 MB more.
   */
  readonly script?: Promise<string | undefined>;
  /** Where the thread journals 2xx answers to delivery attempts (see JournaledHttpSender); none by default. */
  readonly journalDir?: string;
}

/**
 * One machine: the receivers' POSTs on a thread of their own. The runtime's main thread owns the
 * database and runs every use case; Node's HTTP client (building, writing and parsing each
 * request) took about a third of its time per delivery, and here runs beside it on another core.
 * The thread runs NodeHttpSender with the same target policy, so the SSRF guard, the read limit
 * and the timeouts are the ones Lambda's dispatcher uses; only plain data crosses
 * (OutboundRequest, SendResult), the requests of one turn of the event loop in one message. The
 * thread's timers also stop depending on the main thread being idle.
 *
 * If the thread dies, the attempts it had in hand end as errors (their ladder retries them) and
 * the next POST starts a new one.
 */
export class ThreadedHttpSender implements HttpSender {
  private readonly options: ThreadedHttpSenderOptions;
  private readonly pending = new Map<number, (result: SendResult) => void>();
  private worker: Promise<Worker> | undefined;
  private next = 0;
  private outbox: SenderThreadRequest[] = [];
  private closed = false;

  constructor(options: ThreadedHttpSenderOptions) {
    this.options = options;
  }

  post(request: OutboundRequest): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ kind: 'error', error: 'the sender is closed', durationMs: 0 });
    const id = this.next++;
    return new Promise<SendResult>((resolve) => {
      this.pending.set(id, resolve);
      if (this.outbox.push({ id, request }) === 1) queueMicrotask(() => void this.flush());
    });
  }

  /**
   * Starts the thread now rather than at the first POST, which would otherwise wait for its
   * start (the script, then the thread's own boot: tens of ms).
   */
  prestart(): void {
    if (this.closed || this.worker) return;
    this.worker = this.start();
    // A start that fails is seen (and answered) by the next flush; nothing else waits for it.
    this.worker.catch(() => undefined);
  }

  /** Stops the thread; what it had in hand ends as an error. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await (await worker).terminate();
    this.failAll('the sender was closed');
  }

  private async flush(): Promise<void> {
    let worker: Worker;
    try {
      worker = await (this.worker ??= this.start());
    } catch (error) {
      // A thread that cannot start (its script does not compile) fails what waits; the next POST tries again.
      this.worker = undefined;
      this.outbox = [];
      this.failAll(`the sender thread could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length === 0) return;
    worker.ref();
    worker.postMessage(batch);
  }

  private async start(): Promise<Worker> {
    const script = await this.options.script?.catch(() => undefined);
    const { policy, journalDir } = this.options;
    const data: SenderThreadData = { policy, ...(journalDir === undefined ? {} : { journalDir }) };
    // No resourceLimits: the runtime's --max-semi-space-size (infra/local/node-flags.ts) sizes
    // every isolate's young generation, and V8 lets that flag win over a thread's own limit.
    const worker = script
      ? new Worker(script, { eval: true, workerData: data })
      : new Worker(new URL('./sender-thread.ts', import.meta.url), { workerData: data });
    // An idle thread does not keep the process alive; one with requests in hand does.
    worker.unref();
    worker.on('message', (replies: SenderThreadReply[]) => {
      for (const { id, result } of replies) {
        this.pending.get(id)?.(result);
        this.pending.delete(id);
      }
      if (this.pending.size === 0) worker.unref();
    });
    // An uncaught error ends the thread: 'exit' follows, with the attempts it had in hand.
    let failure = '';
    worker.on('error', (error) => (failure = `: ${error.message}`));
    worker.once('exit', () => {
      if (this.closed) return;
      this.worker = undefined;
      this.failAll(`the sender thread stopped${failure}`);
    });
    return worker;
  }

  private failAll(error: string): void {
    for (const resolve of this.pending.values()) resolve({ kind: 'error', error, durationMs: 0 });
    this.pending.clear();
  }
}
