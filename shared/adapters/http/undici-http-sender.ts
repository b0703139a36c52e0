import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Agent, Dispatcher } from 'undici';
// The Agent's module, not undici's index, which also loads fetch, WebSocket, caches and mocks: the
// sender thread's bundle is 455 KB minified instead of 1.4 MB, which the thread compiles at
// every start and the runtime's bundle cache checks.
import UndiciAgent from 'undici/lib/dispatcher/agent.js';
import { addressRefusal, type TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult, StatusListener } from '../../usecases/ports.ts';
import { guardedConnection, type ConnectChecked } from './guarded-connection.ts';
import { deadline, describe, KEEP_ALIVE_MS, KEEP_CHARS, READ_LIMIT_BYTES, timeoutError, targetUrl, type HttpSenderOptions } from './sending.ts';
import { textPrefix } from '../../domain/text.ts';

/**
 * Receivers' POSTs on undici's `Agent.dispatch`, for the one-machine runtime's sender thread:
 * the same behaviour as NodeHttpSender (keep-alive pools per origin, no redirect following, the
 * 64 KiB read limit, the attempt's deadline, the SSRF guard on every connection, the same error
 * sentences) at about half its CPU a request. Measured on loopback with 50 requests in flight
 * (2 CPUs): 74 to 86 us of the client's CPU a POST, against 174 to 190 us for node:http and 98
 * to 162 us for undici's own `request`, which wraps the answer in a stream and a promise; the
 * handler here takes the answer's callbacks as they come. The sender thread's CPU is what the
 * receivers and the main thread share the second core with.
 *
 * Lambda keeps NodeHttpSender: undici would add about 400 KB to the dispatcher's bundle and
 * its cold import, for a function that sends a few requests per invocation.
 */
export class UndiciHttpSender implements HttpSender {
  private readonly agent: Agent;
  private readonly policy: TargetPolicy;

  constructor(options: HttpSenderOptions) {
    this.policy = options.policy;
    const connect = guardedConnection(options.policy, options.resolve, options.addressRefusal ?? addressRefusal);
    this.agent = new UndiciAgent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: KEEP_ALIVE_MS,
      // The attempt's own deadline ends it wherever it is; undici's timers would only duplicate it.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: connector(connect),
    });
  }

  /**
   * `onStatus` is told the final status (and the time to it) as soon as it comes, before the
   * body: a status is the attempt's outcome whatever follows (see Answer), and JournaledHttpSender
   * keeps a 2xx from then on.
   */
  post(req: OutboundRequest, onStatus?: StatusListener): Promise<SendResult> {
    const url = targetUrl(req.url, this.policy);
    if (!(url instanceof URL)) return Promise.resolve(url);
    return new Promise((resolve) => {
      const answer = new Answer(req, resolve, onStatus);
      try {
        this.agent.dispatch(
          {
            origin: url.origin,
            path: url.pathname + url.search,
            method: 'POST',
            headers: req.headers,
            body: Buffer.from(req.body, 'utf8'),
          },
          answer,
        );
      } catch (err) {
        // undici refuses some header values (a line break) by throwing here.
        answer.fail(err);
      }
    });
  }

  /**
   * Runs undici's request path before the first attempt does. A fresh thread's first POST took
   * 34 ms on loopback against 3 ms for the next ones (undici's code compiled on first use, its
   * HTTP parser instantiated), and under load it passed a 100 ms deadline with the answer
   * already in the socket. Two POSTs (the second on the kept connection) to a server of its own
   * on 127.0.0.1, through a pool of their own: nothing leaves the machine and the attempts' pool
   * starts empty.
   */
  async warmUp(): Promise<void> {
    const { createServer } = process.getBuiltinModule('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const pool = new UndiciAgent({ connections: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const req: OutboundRequest = { url: `${origin}/`, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5_000 };
        await new Promise<SendResult>((resolve) => pool.dispatch({ origin, path: '/', method: 'POST', headers: req.headers, body: Buffer.from(req.body) }, new Answer(req, resolve)));
      }
    } finally {
      await pool.destroy();
      server.close();
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/**
 * One attempt's answer, as undici's handler callbacks deliver it: the status and headers, then
 * the first READ_LIMIT_BYTES of the body (a longer answer is cut and its connection dropped).
 * Settles once: the deadline, an error or the end, whichever comes first. A receiver that resets
 * or stalls while sending its body has still answered with a status: what arrived is kept.
 */
class Answer implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private readonly req: OutboundRequest;
  private readonly settle: (result: SendResult) => void;
  private readonly onStatus: StatusListener | undefined;
  private readonly timeout: { clear(): void };
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private statusCode = 0;
  private headers: Record<string, string | undefined> | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(req: OutboundRequest, settle: (result: SendResult) => void, onStatus?: StatusListener) {
    this.req = req;
    this.settle = settle;
    this.onStatus = onStatus;
    this.timeout = deadline(req.timeoutMs, () => this.expire());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The deadline passed while the request waited for a connection: it is never sent.
    if (this.settled) controller.abort(timeoutError(this.req.timeoutMs));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx answers come before the final one.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    const flat: Record<string, string | undefined> = {};
    for (const name in headers) {
      const value = headers[name];
      flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    this.headers = flat;
    // From here on the answer settles as a response with this status, however the body goes.
    if (this.settled || !this.onStatus) return;
    try {
      this.onStatus(statusCode, this.elapsed());
    } catch {
      // The listener's failure is its own (JournaledHttpSender records again at the end): the answer goes on.
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= READ_LIMIT_BYTES) {
      this.answered();
      controller.abort(new Error('answer past the read limit'));
    }
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.headers) this.answered();
    else this.fail(error);
  }

  /** Past the deadline: an answer whose body stalls keeps its status and what arrived; no answer is a timeout. */
  private expire(): void {
    if (!this.headers) return this.fail(timeoutError(this.req.timeoutMs));
    this.answered();
    this.controller?.abort(timeoutError(this.req.timeoutMs));
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.finish({ kind: 'error', error: describe(error, this.req.timeoutMs), durationMs: this.elapsed() });
    this.controller?.abort(error instanceof Error ? error : new Error(String(error)));
  }

  private answered(): void {
    if (this.settled) return;
    const bodyPrefix = textPrefix(Buffer.concat(this.chunks).toString('utf8'), this.req.keepChars ?? KEEP_CHARS);
    this.finish({ kind: 'response', statusCode: this.statusCode, headers: this.headers ?? {}, bodyPrefix, durationMs: this.elapsed() });
  }

  private finish(result: SendResult): void {
    this.settled = true;
    this.timeout.clear();
    this.settle(result);
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }
}

/**
 * undici's connector on the guard: the checked TCP socket, and TLS started on it only then
 * (with the host name for SNI and the certificate check, HTTP/1.1 only). undici is handed the
 * socket once the handshake is done, as its own connector does.
 */
function connector(connect: ConnectChecked) {
  return (options: { hostname: string; protocol: string; port: string; servername?: string }, callback: (...args: [null, Socket] | [Error, null]) => void): void => {
    const tls = options.protocol === 'https:';
    // URL host names keep an IPv6 address in brackets; sockets take it bare.
    const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
    connect(host, Number(options.port) || (tls ? 443 : 80), (err, tcp) => {
      if (err || !tcp) return callback(err ?? new Error('no connection'), null);
      if (!tls) return callback(null, tcp);
      const servername = options.servername ?? (isIP(host) ? undefined : host);
      const secure = tlsConnect({ socket: tcp, ALPNProtocols: ['http/1.1'], ...(servername ? { servername } : {}) });
      const failed = (error: Error) => {
        secure.destroy();
        callback(error, null);
      };
      secure.once('error', failed);
      secure.once('secureConnect', () => {
        secure.removeListener('error', failed);
        callback(null, secure);
      });
    });
  };
}
