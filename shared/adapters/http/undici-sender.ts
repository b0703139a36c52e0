import { Agent, buildConnector, request } from 'undici';
import { addressRefusal, endpointRefusal, urlRefusal, type TargetPolicy } from '../../domain/targets.ts';
import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { guardedLookup, TARGET_REFUSED, TargetRefusedError, type Resolve } from './guarded-lookup.ts';

/** How much of a receiver's answer is read (the rest is dropped) and how much is kept in the log. */
const READ_LIMIT_BYTES = 64 * 1024;
const KEEP_CHARS = 1024;

/**
 * undici's `request`: keep-alive connection pools per origin (a delivery burst to one receiver
 * reuses connections), no redirect following (its default), and errors that carry a code we can
 * turn into a sentence for the delivery log.
 */
export class UndiciSender implements HttpSender {
  private readonly agent: Agent;
  private readonly policy: TargetPolicy;
  /**
   * `resolve` and `addressRefusal` replace the system resolver and the refused ranges (tests: a
   * 127.0.0.x address playing a public one).
   */
  constructor(options: {
    policy: TargetPolicy;
    connectionsPerOrigin?: number;
    resolve?: Resolve;
    addressRefusal?: (address: string) => string | undefined;
  }) {
    this.policy = options.policy;
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: 10_000,
      connect: peerCheckedConnector(options.policy, options.resolve, options.addressRefusal ?? addressRefusal),
    });
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
    const signal = AbortSignal.timeout(req.timeoutMs);
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        dispatcher: this.agent,
        signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const bodyPrefix = await readPrefix(res.body, req.keepChars ?? KEEP_CHARS);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      return { kind: 'response', statusCode: res.statusCode, headers, bodyPrefix, durationMs: elapsed() };
    } catch (err) {
      return { kind: 'error', error: describe(err, req.timeoutMs), durationMs: elapsed() };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * The SSRF guard on every connection. Where private targets are refused, the connection's one DNS
 * lookup drops refused addresses before connecting (no second, rebinding lookup). Whatever the
 * policy, the socket's actual peer is checked once connected and before a byte is sent, so no
 * name, spelling or resolver trick reaches Hookline's own ports or a metadata endpoint.
 */
function peerCheckedConnector(
  policy: TargetPolicy,
  resolve: Resolve | undefined,
  refusal: (address: string) => string | undefined,
): buildConnector.connector {
  const lookup = policy.allowPrivateTargets
    ? resolve && guardedLookup(resolve, () => undefined)
    : guardedLookup(resolve, refusal);
  const connect = buildConnector({ timeout: 10_000, ...(lookup ? { lookup } : {}) });
  return (options, callback) =>
    connect(options, (...args) => {
      const [err, socket] = args;
      if (err) return callback(err, null);
      const refused = endpointRefusal(socket.remoteAddress ?? '', socket.remotePort ?? 0, policy, refusal);
      if (refused === undefined) return callback(null, socket);
      socket.destroy();
      callback(new TargetRefusedError(`${options.hostname} is a ${refused}, which webhooks may not reach`), null);
    });
}

async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }, keepChars: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= READ_LIMIT_BYTES) break;
    }
  } catch {
    // A receiver that resets while sending its body has still answered with a status.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, keepChars);
}

/** A sentence for the delivery log; never includes request headers (they hold credentials). */
export function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `timeout: no answer within ${timeoutMs} ms`;
  }
  if (code === TARGET_REFUSED) return `refused: ${e.code === TARGET_REFUSED ? e.message : e.cause?.message}`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout: could not connect';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset by the receiver';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS lookup failed';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || /certificate|ssl|tls/i.test(e.message ?? '')) {
    return `TLS error: ${code || e.message}`;
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_ARG_TYPE') return 'invalid URL';
  return `request failed: ${code || e.name || 'unknown error'}`;
}
