import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What one receiver saw: first arrival time (Date.now()) per webhook-id, and the rest. */
export interface Receiver {
  readonly url: string;
  /** webhook-id -> Date.now() at the first arrival. */
  readonly arrivals: Map<string, number>;
  duplicates: number;
  /** Requests without a webhook-id header (the ceiling loop, or anything unexpected). */
  anonymous: number;
  bodyBytes: number;
  bodies: number;
  close(): Promise<void>;
}

/** A receiver that answers 200 at once, after reading the body, and records when each delivery came. */
export function startReceiver(): Promise<Receiver> {
  const r: { -readonly [K in keyof Receiver]: Receiver[K] } = {
    url: '',
    arrivals: new Map(),
    duplicates: 0,
    anonymous: 0,
    bodyBytes: 0,
    bodies: 0,
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const arrivedAt = Date.now();
    const id = req.headers['webhook-id'];
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      if (typeof id === 'string') {
        if (r.arrivals.has(id)) r.duplicates++;
        else r.arrivals.set(id, arrivedAt);
        r.bodyBytes += size;
        r.bodies++;
      } else {
        r.anonymous++;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      r.close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve(r as Receiver);
    });
  });
}

/** A receiver that reads each request and never answers it: every attempt runs into its timeout. */
export interface HangingReceiver {
  readonly url: string;
  /** Requests received so far (each left open). */
  received: number;
  close(): Promise<void>;
}

export function startHangingReceiver(): Promise<HangingReceiver> {
  const r: { -readonly [K in keyof HangingReceiver]: HangingReceiver[K] } = { url: '', received: 0, close: () => Promise.resolve() };
  const server: Server = createServer((req) => {
    req.resume();
    req.on('end', () => r.received++);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hang`;
      r.close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve(r as HangingReceiver);
    });
  });
}

/** Forgets what a receiver saw, for the next run against the same webhooks. */
export function resetReceiver(r: Receiver): void {
  r.arrivals.clear();
  r.duplicates = 0;
  r.anonymous = 0;
  r.bodyBytes = 0;
  r.bodies = 0;
}
