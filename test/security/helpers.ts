/**
 * Helpers of the security tests (test/security): a recording HTTP(S) server that can bind any
 * 127.0.0.0/8 address, count open requests and connections and answer slowly or hugely, a
 * throw-away test CA made with the openssl CLI, and assertions on the API's error answers.
 * Nothing here ever connects outside 127.0.0.0/8.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiResponse } from '../support/runtime.ts';

export interface ProbeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: any;
  readonly receivedAt: number;
  /** The local address the request came in on (which 127.x the client really reached). */
  readonly localAddress: string;
}

export interface ProbeAnswer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly delayMs?: number;
}

export type ProbeResponder = (req: ProbeRequest, index: number) => ProbeAnswer | undefined;

export interface Probe {
  readonly host: string;
  readonly port: number;
  /** `http(s)://<host>:<port>` */
  readonly url: string;
  readonly requests: ProbeRequest[];
  /** Requests being answered right now, and the most there ever were at once. */
  readonly open: () => number;
  readonly maxOpen: () => number;
  /** TCP connections accepted (TLS: handshakes completed). */
  readonly connections: () => number;
  setResponder(responder: ProbeResponder | undefined): void;
  waitUntil(what: string, predicate: (requests: readonly ProbeRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ProbeOptions {
  /** A 127.0.0.0/8 address; 127.0.0.1 by default. */
  readonly host?: string;
  /** 0 (any free port) by default. */
  readonly port?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
  readonly respond?: ProbeResponder;
}

/** A server that records what reaches it; refuses to bind anything outside 127.0.0.0/8. */
export async function startProbe(options: ProbeOptions = {}): Promise<Probe> {
  const host = options.host ?? '127.0.0.1';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`probe must bind 127.0.0.0/8, not ${host}`);
  const requests: ProbeRequest[] = [];
  let responder = options.respond;
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    let counted = true;
    const done = () => {
      if (counted) open--;
      counted = false;
    };
    res.once('finish', done);
    res.once('close', done);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const received: ProbeRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        receivedAt: Date.now(),
        localAddress: req.socket.localAddress ?? '',
      };
      requests.push(received);
      const answer = responder?.(received, requests.length - 1) ?? {};
      const reply = () => {
        if (res.destroyed) return;
        const status = answer.status ?? 200;
        res.writeHead(status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? (status < 300 ? '{"ok":true}' : '{"ok":false}'));
      };
      if (answer.delayMs) {
        const timer = setTimeout(reply, answer.delayMs);
        res.once('close', () => clearTimeout(timer));
      } else reply();
      for (const wake of [...waiters]) wake();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', () => connections++);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    requests,
    open: () => open,
    maxOpen: () => maxOpen,
    connections: () => connections,
    setResponder: (r) => {
      responder = r;
    },
    waitUntil: (what, predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(requests)) return resolve();
        const wake = () => {
          if (!predicate(requests)) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`${host}:${port}: ${what} did not happen within ${timeoutMs} ms (${requests.length} request(s) so far)`));
        }, timeoutMs);
        waiters.add(wake);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Two probes on the same port of two loopback addresses (for DNS answers that differ only in address). */
export async function startProbePair(hostA: string, hostB: string, tls?: ProbeOptions['tls']): Promise<[Probe, Probe]> {
  for (let attempt = 0; ; attempt++) {
    const a = await startProbe({ host: hostA, ...(tls ? { tls } : {}) });
    try {
      const b = await startProbe({ host: hostB, port: a.port, ...(tls ? { tls } : {}) });
      return [a, b];
    } catch (error) {
      await a.close();
      if (attempt >= 5) throw error;
    }
  }
}

export const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** A throw-away CA and a server certificate for `names`, made with the openssl CLI (EC P-256). */
export function makeTestCertificates(names: readonly string[]): { ca: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-sec-ca-'));
  try {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Hookline security test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', `/CN=${names[0]}`);
    writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
    openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.pem'), key: read('srv.key'), cert: read('srv.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 4xx answer as the contract wants it: JSON `{"error": "<sentence>"}`. */
export function expectJsonError(res: ApiResponse, status?: number): void {
  const seen = { status: res.status, contentType: res.headers.get('content-type'), body: res.text.slice(0, 500) };
  if (status !== undefined) expect(seen).toMatchObject({ status });
  else expect(res.status >= 400 && res.status < 500 ? 'a 4xx' : seen).toBe('a 4xx');
  expect(seen.contentType ?? '').toMatch(/^application\/json\b/);
  expect(typeof res.json?.error).toBe('string');
  expect(res.json.error.trim().length).toBeGreaterThan(0);
}

/** Waits, then lets the caller check that nothing more happened. */
export const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
