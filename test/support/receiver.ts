/**
 * A real HTTP receiver on 127.0.0.1:<random port> that records every request it gets and answers
 * with a configurable status (200 unless told otherwise), or with whatever a programmable
 * `respond` function says per request (status, headers such as Retry-After, a delay before answering).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  /** rawBody as UTF-8. */
  readonly body: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  readonly json: any;
  readonly receivedAt: number;
}

/** One programmed answer. A request is recorded (and waiters woken) when it arrives, before any delay. */
export interface ReceiverResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** How long to wait before answering (the request is recorded at once). */
  readonly delayMs?: number;
  readonly body?: string;
}

/**
 * Decides the answer to one request: `index` is its 0-based position among all requests of this
 * receiver. A number is a status; undefined falls back to the receiver's status.
 */
export type Responder = (req: ReceivedRequest, index: number) => ReceiverResponse | number | undefined;

export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:4567 (append a path if you like). */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  /** The status every later request is answered with. */
  setStatus(status: number): void;
  /** Answers every later request as `responder` says (undefined: back to the plain status). */
  setResponder(responder: Responder | undefined): void;
  /** Resolves once `predicate` holds for the requests so far; rejects on timeout naming `what`. */
  waitUntil(what: string, predicate: (requests: readonly ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  /** Resolves with the requests once at least n have arrived; rejects on timeout with a clear message. */
  waitFor(n: number, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Reads a whole request, then hands it over as a ReceivedRequest (with `json` when it parses). */
export function readRequest(req: IncomingMessage, onRead: (received: ReceivedRequest) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks);
    const body = rawBody.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    onRead({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body, json, receivedAt: Date.now() });
  });
}

export async function startReceiver(options: { status?: number; name?: string; respond?: Responder } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let status = options.status ?? 200;
  let responder: Responder | undefined = options.respond;
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    readRequest(req, (received) => {
      requests.push(received);
      const programmed = responder?.(received, requests.length - 1);
      const answer: ReceiverResponse = typeof programmed === 'number' ? { status: programmed } : programmed ?? { status };
      const code = answer.status ?? status;
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(code, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? (code < 300 ? '{"ok":true}' : '{"ok":false}'));
      };
      if (answer.delayMs && answer.delayMs > 0) {
        const timer = setTimeout(reply, answer.delayMs);
        res.once('close', () => clearTimeout(timer));
        for (const wake of waiters) wake();
      } else {
        reply();
        for (const wake of waiters) wake();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const name = options.name ?? `receiver :${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setStatus: (s) => {
      status = s;
    },
    setResponder: (r) => {
      responder = r;
    },
    waitUntil: (what, predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        if (predicate(requests)) return resolve([...requests]);
        const wake = () => {
          if (predicate(requests)) {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve([...requests]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`${name}: ${what} did not happen within ${timeoutMs} ms; ${requests.length} request(s) so far`));
        }, timeoutMs);
        waiters.add(wake);
      }),
    waitFor: (n, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        if (requests.length >= n) return resolve([...requests]);
        const wake = () => {
          if (requests.length >= n) {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve([...requests]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `${name}: expected ${n} request(s) within ${timeoutMs} ms, got ${requests.length}` +
                (requests.length ? `: ${requests.map((r) => r.body.slice(0, 200)).join(' | ')}` : ''),
            ),
          );
        }, timeoutMs);
        waiters.add(wake);
      }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
