/**
 * A receiver whose every answer is decided by a handler written from a vendor's document: it
 * checks what that document says a receiver checks, and answers as that document says (401 for
 * bad credentials, 400 for a body it cannot use, 200 otherwise). Each request is recorded with
 * the answer it got and why, so a test can assert "the receiver accepted it" and, when it did
 * not, show the receiver's reason.
 *
 * Self-contained (its own HTTP server on 127.0.0.1:0) so that it does not depend on changes to
 * receiver.ts's answers; it shares only how a request is read (readRequest).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readRequest, type ReceivedRequest } from './receiver.ts';

/** A handler's answer: the status, a JSON body (an object is JSON-encoded) and why, for failure messages. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Why the receiver refused the request (shown when a test expected it to be accepted). */
  readonly reason?: string;
  /** Answer only after this long (the request is recorded at once). */
  readonly delayMs?: number;
}

export type ScriptedHandler = (req: ReceivedRequest) => ScriptedAnswer;

export interface Exchange {
  readonly req: ReceivedRequest;
  readonly answer: ScriptedAnswer;
}

export interface ScriptedReceiver {
  /** e.g. http://127.0.0.1:4567 */
  readonly url: string;
  /** Every request with the answer it got, in arrival order. */
  readonly exchanges: readonly Exchange[];
  /** Requests whose path (without the query string) is `path`. */
  on(path: string): Exchange[];
  /** Swaps the handler for later requests. */
  setHandler(handler: ScriptedHandler): void;
  /** Resolves once `predicate` holds; rejects on timeout with `what` and every exchange so far. */
  waitUntil(what: string, predicate: (exchanges: readonly Exchange[]) => boolean, timeoutMs?: number): Promise<readonly Exchange[]>;
  close(): Promise<void>;
}

/** The path of a request without its query string. */
export const pathOf = (req: Pick<ReceivedRequest, 'path'>): string => new URL(req.path, 'http://receiver').pathname;

/** One line per exchange, for failure messages. */
export function describeExchanges(exchanges: readonly Exchange[]): string {
  if (exchanges.length === 0) return '(no requests)';
  return exchanges
    .map((e, i) => `#${i + 1} ${e.req.method} ${pathOf(e.req)} -> ${e.answer.status}${e.answer.reason ? ` (${e.answer.reason})` : ''}: ${e.req.body.slice(0, 300)}`)
    .join('\n');
}

export async function startScriptedReceiver(handler: ScriptedHandler, name = 'scripted receiver'): Promise<ScriptedReceiver> {
  const exchanges: Exchange[] = [];
  let current = handler;
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    readRequest(req, (received) => {
      let answer: ScriptedAnswer;
      try {
        answer = current(received);
      } catch (error) {
        answer = { status: 500, body: { error: 'receiver check threw' }, reason: `handler threw: ${String(error)}` };
      }
      exchanges.push({ req: received, answer });
      const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(payload);
      };
      if (answer.delayMs && answer.delayMs > 0) {
        const timer = setTimeout(reply, answer.delayMs);
        res.once('close', () => clearTimeout(timer));
      } else {
        reply();
      }
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    on: (path) => exchanges.filter((e) => pathOf(e.req) === path),
    setHandler: (h) => {
      current = h;
    },
    waitUntil: (what, predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!predicate(exchanges)) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...exchanges]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: ${what} did not happen within ${timeoutMs} ms; requests so far:\n${describeExchanges(exchanges)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** `Authorization: Basic ...` decoded as `[user, password]` (split at the first colon), or undefined. */
export function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
