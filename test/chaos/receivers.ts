/**
 * Receivers that fail at random, per request: 500, a timeout (no answer until the sender gives
 * up), a reset connection, 429 with `Retry-After`, a slow body (status and half the body at once,
 * the rest later, well within the sender's timeout), or a plain 200. Each receiver draws its own
 * failure rate and mix from the seeded random source, so two runs with one seed behave alike.
 *
 * A delivery counts as received when the receiver answered 2xx to it at least once: the status
 * line was handed to the socket (with the whole answer, `finish`, or for a slow body with its
 * first part). The status is the attempt's outcome for the runtime too (a body cut short keeps
 * it), so a slow body that a kill cuts has been answered: sending it again is a duplicate, and
 * not sending it is no loss. (Until 2026-12-01 only `finish` counted, when the runtime journaled
 * a 2xx only once its body had ended and sent such an attempt again after a kill.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Random } from './random.ts';

export const OUTCOMES = ['ok', 'slow', 'error500', 'timeout', 'reset', 'throttle429'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes that fail the attempt as the sender sees it. */
export const FAILURES: readonly Outcome[] = ['error500', 'timeout', 'reset', 'throttle429'];

export interface Mix {
  /** Probability of each outcome per request; they sum to 1. */
  readonly p: Readonly<Record<Outcome, number>>;
  /** Probability that one attempt fails (the sum of the failures). */
  readonly failure: number;
}

export interface MixOptions {
  /** Each receiver's failure rate is drawn uniformly from [min, max]. */
  readonly failureMin: number;
  readonly failureMax: number;
  /** Share of the successes that are slow bodies. */
  readonly slowShare: number;
}

/** A receiver's random mix: a failure rate in [min, max], split over the four failures at random. */
export function drawMix(random: Random, options: MixOptions): Mix {
  const failure = options.failureMin + random.next() * (options.failureMax - options.failureMin);
  const weights = FAILURES.map(() => 0.2 + random.next());
  const total = weights.reduce((a, b) => a + b, 0);
  const p = { ok: 0, slow: 0, error500: 0, timeout: 0, reset: 0, throttle429: 0 } as Record<Outcome, number>;
  FAILURES.forEach((o, i) => (p[o] = (failure * weights[i]!) / total));
  p.slow = (1 - failure) * options.slowShare;
  p.ok = 1 - failure - p.slow;
  return { p, failure };
}

export interface ChaosReceiver {
  readonly url: string;
  readonly mix: Mix;
  /** webhook-id -> requests that arrived for it (any answer). */
  readonly requests: Map<string, number>;
  /** webhook-id -> when each 2xx answer to it was sent (performance.now()): more than one is a duplicate. */
  readonly ok: Map<string, number[]>;
  /** Requests that arrived for a webhook-id already answered 2xx here (whatever the new answer). */
  afterOk: number;
  /** How many of each answer were given. */
  readonly answered: Record<Outcome, number>;
  /** Requests without a webhook-id header. */
  anonymous: number;
  close(): Promise<void>;
}

export interface ReceiverTiming {
  /** The sender's per-attempt timeout: a "timeout" answer holds the request longer than this. */
  readonly senderTimeoutMs: number;
  /** Slow bodies finish after [min, max] ms (keep max well below the sender's timeout). */
  readonly slowMinMs: number;
  readonly slowMaxMs: number;
  readonly retryAfterSeconds: number;
}

export function startChaosReceiver(random: Random, mix: Mix, timing: ReceiverTiming): Promise<ChaosReceiver> {
  const r: ChaosReceiver = {
    url: '',
    mix,
    requests: new Map(),
    ok: new Map(),
    afterOk: 0,
    answered: { ok: 0, slow: 0, error500: 0, timeout: 0, reset: 0, throttle429: 0 },
    anonymous: 0,
    close: () => Promise.resolve(),
  };
  const pick = (): Outcome => {
    let x = random.next();
    for (const o of OUTCOMES) {
      x -= mix.p[o];
      if (x < 0) return o;
    }
    return 'ok';
  };
  const held = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      held.delete(t);
      fn();
    }, ms);
    held.add(t);
  };

  const server: Server = createServer((req, res) => {
    const header = req.headers['webhook-id'];
    const id = typeof header === 'string' ? header : undefined;
    req.resume();
    req.on('end', () => {
      if (id === undefined) {
        r.anonymous++;
        res.writeHead(200).end('ok');
        return;
      }
      if (r.ok.has(id)) r.afterOk++;
      r.requests.set(id, (r.requests.get(id) ?? 0) + 1);
      const outcome = pick();
      r.answered[outcome]++;
      const ok = () => {
        const times = r.ok.get(id);
        if (times) times.push(performance.now());
        else r.ok.set(id, [performance.now()]);
      };
      const countOk = () => res.once('finish', ok);
      switch (outcome) {
        case 'ok':
          countOk();
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        case 'slow': {
          const body = '{"received":true,"padding":"................................"}';
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
          res.write(body.slice(0, 20), (error) => error || ok());
          later(timing.slowMinMs + random.next() * (timing.slowMaxMs - timing.slowMinMs), () => res.end(body.slice(20)));
          return;
        }
        case 'error500':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('chaos: internal error');
          return;
        case 'throttle429':
          res.writeHead(429, { 'retry-after': String(timing.retryAfterSeconds), 'content-type': 'text/plain' }).end('chaos: slow down');
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'timeout':
          // Say nothing; the sender gives up after its timeout and closes the connection. Should
          // it not, cut the connection well after its timeout (still a failure, never a 2xx).
          later(timing.senderTimeoutMs * 4, () => req.socket.destroy());
          return;
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      (r as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      r.close = () =>
        new Promise<void>((done) => {
          for (const t of held) clearTimeout(t);
          held.clear();
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve(r);
    });
  });
}
