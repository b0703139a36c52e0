import type { Agent as HttpAgent, ClientRequest, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { addressRefusal, type TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { guardedConnection, type ConnectChecked } from './guarded-connection.ts';
import { deadline, describe, KEEP_ALIVE_MS, KEEP_CHARS, READ_LIMIT_BYTES, timeoutError, targetUrl, type HttpSenderOptions } from './sending.ts';
import { textPrefix } from '../../domain/text.ts';

/**
 * Node's http, https and tls, loaded when the first sender is made rather than with this
 * module: the one-machine runtime bundles this file but sends from its sender thread, and https
 * with tls was about 15 ms of each start. Through getBuiltinModule, not `import ... from
 * 'node:http'`: an ES import of node:http reads its lazy WebSocket, CloseEvent and MessageEvent
 * exports, which loads Node's fetch (undici), about 27 ms of a cold start, for classes nothing
 * here uses.
 */
let nodeModules: { http: typeof import('node:http'); https: typeof import('node:https'); tls: typeof import('node:tls') } | undefined;
const node = () =>
  (nodeModules ??= { http: process.getBuiltinModule('node:http'), https: process.getBuiltinModule('node:https'), tls: process.getBuiltinModule('node:tls') });

/**
 * Receivers' POSTs on Node's own `http`/`https`: keep-alive connection pools per origin (a
 * delivery burst to one receiver reuses connections), no redirect following, a 64 KiB read
 * limit, and the SSRF guard on every connection (see `guardedConnection`). Nothing to bundle
 * but this file: Node ships the client.
 */
export class NodeHttpSender implements HttpSender {
  private readonly agents: { readonly 'http:': HttpAgent; readonly 'https:': HttpsAgent };
  private readonly policy: TargetPolicy;
  constructor(options: HttpSenderOptions) {
    this.policy = options.policy;
    const connect = guardedConnection(options.policy, options.resolve, options.addressRefusal ?? addressRefusal);
    const pool = { keepAlive: true, maxSockets: options.connectionsPerOrigin ?? 64, timeout: KEEP_ALIVE_MS, scheduling: 'lifo' } as const;
    const { http, https } = node();
    this.agents = { 'http:': withConnection(new http.Agent(pool), connect, false), 'https:': withConnection(new https.Agent(pool), connect, true) };
  }

  async post(req: OutboundRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = targetUrl(req.url, this.policy);
    if (!(url instanceof URL)) return url;
    const body = Buffer.from(req.body, 'utf8');
    let timeout: { clear(): void } | undefined;
    try {
      // Inside the try: Node refuses some header values (a line break) by throwing here.
      const request = (url.protocol === 'https:' ? node().https.request : node().http.request)(url, {
        method: 'POST',
        headers: { 'content-length': String(body.length), ...req.headers },
        agent: this.agents[url.protocol as 'http:' | 'https:'],
      });
      // The deadline ends the request wherever it is, the body still being read included.
      timeout = deadline(req.timeoutMs, () => request.destroy(timeoutError(req.timeoutMs)));
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

/** Sends `body` and waits for the answer's head. */
function answerTo(request: ClientRequest, body: Buffer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
}

/**
 * Has the agent open its connections through the guard (asynchronously: Node's agents accept a
 * callback), TLS started on the checked socket. The agent's options carry the TLS settings and
 * the server name (SNI, certificate check).
 */
function withConnection<A extends HttpAgent>(agent: A, connect: ConnectChecked, tls: boolean): A {
  (agent as unknown as { createConnection: unknown }).createConnection = (
    options: ConnectionOptions & { host?: string; port?: number },
    callback: (err: Error | null, socket?: Socket) => void,
  ): undefined => {
    connect(options.host ?? 'localhost', options.port ?? (tls ? 443 : 80), (err, tcp) =>
      err || !tcp ? callback(err ?? new Error('no connection')) : callback(null, tls ? node().tls.connect({ ...options, socket: tcp }) : tcp),
    );
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
      resolve(textPrefix(Buffer.concat(chunks).toString('utf8'), keepChars));
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
