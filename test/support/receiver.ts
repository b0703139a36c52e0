/**
 * A real HTTP receiver on 127.0.0.1:<random port> that records every request it gets and answers
 * with a configurable status (200 unless told otherwise).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
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

export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:4567 (append a path if you like). */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  /** The status every later request is answered with. */
  setStatus(status: number): void;
  /** Resolves with the requests once at least n have arrived; rejects on timeout with a clear message. */
  waitFor(n: number, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(options: { status?: number; name?: string } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let status = options.status ?? 200;
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
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
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body, json, receivedAt: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{"ok":true}' : '{"ok":false}');
      for (const wake of waiters) wake();
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
