import { Worker } from 'node:worker_threads';
import type { TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import type { SenderThreadData, SenderThreadMessage, SenderThreadRequest } from './sender-thread.ts';

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
  /** Told each time the thread stops or is taken for hung (the runtime logs it): the attempts it had in hand end as errors. */
  readonly onFault?: (reason: string) => void;
  /**
   * How long past a request's own deadline (which the thread enforces) the thread may leave it
   * unanswered before it is taken for hung, stopped, and started again at the next POST.
   * @default 5000
   */
  readonly hangGraceMs?: number;
}

/** How often requests in hand are checked against their deadlines. */
const WATCHDOG_EVERY_MS = 1_000;
/** Faults within FAULT_WINDOW_MS that make `healthy()` false: one is a blip, repeated ones an outage. */
const FAULTS_UNHEALTHY = 3;
const FAULT_WINDOW_MS = 60_000;

interface InHand {
  readonly resolve: (result: SendResult) => void;
  /** performance.now() past which the thread is taken for hung. */
  readonly deadline: number;
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
 * If the thread dies, or leaves a request unanswered past its deadline and `hangGraceMs` (its
 * event loop is stuck: it is terminated), the attempts it had in hand end as errors (their ladder
 * retries them), `onFault` is told, and the next POST starts a new thread. Repeated faults make
 * `healthy()` false, which the runtime's /healthz reports.
 */
export class ThreadedHttpSender implements HttpSender {
  private readonly options: ThreadedHttpSenderOptions;
  private readonly hangGraceMs: number;
  private readonly inHand = new Map<number, InHand>();
  private worker: Promise<Worker> | undefined;
  /** The thread started last, while it is the one in use: an older thread's exit is not this one's. */
  private current: Worker | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly faultTimes: number[] = [];
  private next = 0;
  private outbox: SenderThreadRequest[] = [];
  private closed = false;
  /** Resolves once the thread started last has warmed up, or has stopped. */
  private warmedUp: Promise<void> = Promise.resolve();

  constructor(options: ThreadedHttpSenderOptions) {
    this.options = options;
    this.hangGraceMs = options.hangGraceMs ?? 5_000;
  }

  post(request: OutboundRequest): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ kind: 'error', error: 'the sender is closed', durationMs: 0 });
    const id = this.next++;
    return new Promise<SendResult>((resolve) => {
      this.inHand.set(id, { resolve, deadline: performance.now() + request.timeoutMs + this.hangGraceMs });
      this.watch();
      if (this.outbox.push({ id, request }) === 1) queueMicrotask(() => void this.flush());
    });
  }

  /** False while the thread keeps failing: FAULTS_UNHEALTHY faults within the last FAULT_WINDOW_MS. */
  healthy(now = performance.now()): boolean {
    while (this.faultTimes.length > 0 && now - this.faultTimes[0]! > FAULT_WINDOW_MS) this.faultTimes.shift();
    return this.faultTimes.length < FAULTS_UNHEALTHY;
  }

  /**
   * Starts the thread now rather than at the first POST, which would otherwise wait for its
   * start (the script, then the thread's own boot: tens of ms). Resolves once the thread has
   * warmed up, having loaded the Node modules it sends with, or has failed to start or stopped
   * (the runtime changes V8's flags only then: see infra/local/node-flags.ts).
   */
  prestart(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.worker) {
      this.worker = this.start();
      // A start that fails is seen (and answered) by the next flush; nothing else waits for it.
      this.worker.catch(() => undefined);
    }
    return this.worker.then(
      () => this.warmedUp,
      () => undefined,
    );
  }

  /** Stops the thread; what it had in hand ends as an error. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    const worker = this.worker;
    this.worker = undefined;
    this.current = undefined;
    if (worker) await (await worker.catch(() => undefined))?.terminate();
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
      this.fault(`the sender thread could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // Requests answered meanwhile (a fault failed them) are not sent after all.
    const batch = this.outbox.filter((r) => this.inHand.has(r.id));
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
    this.current = worker;
    let warmed!: () => void;
    this.warmedUp = new Promise<void>((resolve) => (warmed = resolve));
    // An idle thread does not keep the process alive; one with requests in hand does.
    worker.unref();
    worker.on('message', (replies: SenderThreadMessage) => {
      if (replies === 'warm') return warmed();
      for (const { id, result } of replies) {
        this.inHand.get(id)?.resolve(result);
        this.inHand.delete(id);
      }
      if (this.inHand.size === 0) worker.unref();
    });
    // An uncaught error ends the thread: 'exit' follows, with the attempts it had in hand.
    let failure = '';
    worker.on('error', (error) => (failure = `: ${error.message}`));
    worker.once('exit', () => {
      warmed();
      if (this.closed || this.current !== worker) return;
      this.current = undefined;
      this.worker = undefined;
      this.fault(`the sender thread stopped${failure}`);
    });
    return worker;
  }

  /** Checks, while requests are in hand, that none is past its deadline and grace. */
  private watch(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => {
      if (this.inHand.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      const now = performance.now();
      for (const request of this.inHand.values()) {
        if (request.deadline > now) continue;
        const hung = this.current;
        this.current = undefined;
        this.worker = undefined;
        this.fault(`the sender thread did not answer within the attempt's deadline and ${this.hangGraceMs} ms more: it was stopped`);
        void hung?.terminate();
        return;
      }
    }, WATCHDOG_EVERY_MS);
    this.watchdog.unref();
  }

  private fault(reason: string): void {
    this.faultTimes.push(performance.now());
    this.failAll(reason);
    this.options.onFault?.(reason);
  }

  private failAll(error: string): void {
    for (const request of this.inHand.values()) request.resolve({ kind: 'error', error, durationMs: 0 });
    this.inHand.clear();
  }
}
