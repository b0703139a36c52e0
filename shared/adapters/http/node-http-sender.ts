import type { ClientRequest, IncomingMessage } from 'node:http';
import { connect as netConnect, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { addressRefusal, endpointRefusal, urlRefusal, type TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { guardedLookup, TARGET_REFUSED, TargetRefusedError, type Resolve } from './guarded-lookup.ts';

// Not `import ... from 'node:http'`: an ES import of node:http reads its lazy WebSocket,
// CloseEvent and MessageEvent exports, which loads Node's fetch (undici), about 27 ms of a cold
// start, for classes nothing here uses. getBuiltinModule returns the module without them.
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule('node:https');
type HttpAgent = InstanceType<typeof HttpAgent>;
type HttpsAgent = InstanceType<typeof HttpsAgent>;

/** How much of a receiver's answer is read (the rest is dropped) and how much is kept in the log. */
const READ_LIMIT_BYTES = 64 * 1024;
const KEEP_CHARS = 1024;
/** A TCP connection not made by then fails (the request's own timeout usually ends it first). */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long an idle keep-alive connection waits for the next request to its origin. */
const KEEP_ALIVE_MS = 10_000;
const CONNECT_TIMEOUT = 'HOOKLINE_CONNECT_TIMEOUT';

type Refusal = (address: string) => string | undefined;

/**
 * Receivers' POSTs on Node's own `http`/`https`: keep-alive connection pools per origin (a
 * delivery burst to one receiver reuses connections), no redirect following, a 64 KiB read
 * limit, and the SSRF guard on every connection (see `guardedConnection`). Nothing to bundle
 * but this file: Node ships the client.
 */
export class NodeHttpSender implements HttpSender {
  private readonly agents: { readonly 'http:': HttpAgent; readonly 'https:': HttpsAgent };
  private readonly policy: TargetPolicy;
  /**
   * `resolve` and `addressRefusal` replace the system resolver and the refused ranges (tests: a
   * 127.0.0.x address playing a public one).
   */
  constructor(options: { policy: TargetPolicy; connectionsPerOrigin?: number; resolve?: Resolve; addressRefusal?: Refusal }) {
    this.policy = options.policy;
    const connect = guardedConnection(options.policy, options.resolve, options.addressRefusal ?? addressRefusal);
    const pool = { keepAlive: true, maxSockets: options.connectionsPerOrigin ?? 64, timeout: KEEP_ALIVE_MS, scheduling: 'lifo' } as const;
    this.agents = { 'http:': withConnection(new HttpAgent(pool), connect, false), 'https:': withConnection(new HttpsAgent(pool), connect, true) };
  }

  async post(req: OutboundRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return { kind: 'error', error: 'invalid URL', durationMs: 0 };
    }
    const refusal = urlRefusal(url, this.policy);
    if (refusal) return { kind: 'error', error: `refused: the URL ${refusal}`, durationMs: 0 };
    const body = Buffer.from(req.body, 'utf8');
    let timeout: { clear(): void } | undefined;
    try {
      // Inside the try: Node refuses some header values (a line break) by throwing here.
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        headers: { 'content-length': String(body.length), ...req.headers },
        agent: this.agents[url.protocol as 'http:' | 'https:'],
      });
      // The deadline ends the request wherever it is, the body still being read included.
      timeout = deadline(req.timeoutMs, () => request.destroy(new DOMException(`no answer within ${req.timeoutMs} ms`, 'TimeoutError')));
      const res = await answerTo(request, body);
      const bodyPrefix = await readPrefix(res, req.keepChars ?? KEEP_CHARS);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      return { kind: 'response', statusCode: res.statusCode ?? 0, headers, bodyPrefix, durationMs: elapsed() };
    } catch (err) {
      return { kind: 'error', error: describe(err, req.timeoutMs), durationMs: elapsed() };
    } finally {
      timeout?.clear();
    }
  }

  async close(): Promise<void> {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

/**
 * The attempt's timeout: `expire` runs one turn of the event loop after its timer. setImmediate
 * runs after the poll phase, so an answer already in the socket is read first. A process busy
 * past the deadline (a start, a burst) would otherwise fail a receiver that answered in time,
 * and its ladder would send the attempt again. (A timer and a destroy rather than an
 * AbortSignal, whose controller and the listeners Node's client adds and removes for it cost
 * every POST.)
 */
function deadline(ms: number, expire: () => void): { clear(): void } {
  let pending: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    pending = setImmediate(expire);
  }, ms);
  return {
    clear: () => {
      clearTimeout(timer);
      if (pending) clearImmediate(pending);
    },
  };
}

/** Sends `body` and waits for the answer's head. */
function answerTo(request: ClientRequest, body: Buffer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
}

type Connect = (options: ConnectionOptions & { host?: string; port?: number }, tls: boolean, done: (err: Error | null, socket?: Socket) => void) => void;

/**
 * The SSRF guard on every connection. Where private targets are refused, the connection's one DNS
 * lookup drops refused addresses before connecting (no second, rebinding lookup). Whatever the
 * policy, the TCP socket's actual peer is checked once connected and before a byte is sent (TLS
 * starts only after the check), so no name, spelling or resolver trick reaches Hookline's own
 * ports or a metadata endpoint. Keep-alive reuses only connections that passed.
 */
function guardedConnection(policy: TargetPolicy, resolve: Resolve | undefined, refusal: Refusal): Connect {
  const lookup: LookupFunction | undefined = policy.allowPrivateTargets
    ? resolve && guardedLookup(resolve, () => undefined)
    : guardedLookup(resolve, refusal);
  return (options, tls, done) => {
    const host = options.host ?? 'localhost';
    const tcp = netConnect({ host, port: options.port ?? (tls ? 443 : 80), ...(lookup ? { lookup } : {}) });
    let settled = false;
    const fail = (err: Error) => {
      clearTimeout(timer);
      tcp.destroy();
      if (!settled) done(err);
      settled = true;
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('could not connect'), { code: CONNECT_TIMEOUT })), CONNECT_TIMEOUT_MS);
    tcp.once('error', fail);
    tcp.once('connect', () => {
      clearTimeout(timer);
      tcp.removeListener('error', fail);
      const refused = endpointRefusal(tcp.remoteAddress ?? '', tcp.remotePort ?? 0, policy, refusal);
      if (refused !== undefined) return fail(new TargetRefusedError(`${host} is a ${refused}, which webhooks may not reach`));
      // The agent's options carry the TLS settings and the server name (SNI, certificate check).
      settled = true;
      done(null, tls ? tlsConnect({ ...options, socket: tcp }) : tcp);
    });
  };
}

/** Has the agent open its connections through `connect` (asynchronously: Node's agents accept a callback). */
function withConnection<A extends HttpAgent>(agent: A, connect: Connect, tls: boolean): A {
  (agent as unknown as { createConnection: unknown }).createConnection = (
    options: ConnectionOptions & { host?: string; port?: number },
    callback: (err: Error | null, socket?: Socket) => void,
  ): undefined => {
    connect(options, tls, callback);
    return undefined;
  };
  return agent;
}

/**
 * The first READ_LIMIT_BYTES of the answer (events rather than an async iterator, which costs a
 * promise per chunk). A receiver that resets or stalls while sending its body has still answered
 * with a status: what arrived is kept.
 */
function readPrefix(res: IncomingMessage, keepChars: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      res.removeListener('data', onData);
      // The rest of a long answer is dropped with its connection; a complete one goes back to the pool.
      if (!res.complete) res.destroy();
      resolve(Buffer.concat(chunks).toString('utf8').slice(0, keepChars));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= READ_LIMIT_BYTES) finish();
    };
    res.on('data', onData);
    res.once('end', finish);
    res.once('error', finish);
    res.once('close', finish);
  });
}

/** A sentence for the delivery log; never includes request headers (they hold credentials). */
export function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ABORT_ERR') return `timeout: no answer within ${timeoutMs} ms`;
  if (code === TARGET_REFUSED) return `refused: ${e.code === TARGET_REFUSED ? e.message : e.cause?.message}`;
  if (code === CONNECT_TIMEOUT || code === 'ETIMEDOUT') return 'timeout: could not connect';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset by the receiver';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS lookup failed';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(e.message ?? '')) {
    return `TLS error: ${code || e.message}`;
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_ARG_TYPE') return 'invalid URL';
  return `request failed: ${code || e.name || 'unknown error'}`;
}
