import { urlRefusal, type TargetPolicy } from '../../domain/targets.ts';
import type { SendResult } from '../../usecases/ports.ts';
import { CONNECT_TIMEOUT, type Refusal } from './guarded-connection.ts';
import { TARGET_REFUSED, type Resolve } from './guarded-lookup.ts';

/**
 * What every HTTP sender shares (NodeHttpSender on Lambda, UndiciHttpSender on the one-machine
 * runtime's sender thread): the limits of an attempt, its deadline, and the delivery log's
 * sentences for what went wrong.
 */

/** What each HTTP sender is built with. */
export interface HttpSenderOptions {
  readonly policy: TargetPolicy;
  /**
   * Keep-alive connections per origin.
   * @default 64
   */
  readonly connectionsPerOrigin?: number;
  /** Replaces the system resolver (tests: a 127.0.0.x address playing a public one). */
  readonly resolve?: Resolve;
  /** Replaces the refused address ranges (tests). */
  readonly addressRefusal?: Refusal;
}

/** The attempt's URL, or the failed attempt it is when it does not parse or the policy refuses it (nothing is sent). */
export function targetUrl(url: string, policy: TargetPolicy): URL | Extract<SendResult, { kind: 'error' }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'error', error: 'invalid URL', durationMs: 0 };
  }
  const refusal = urlRefusal(parsed, policy);
  return refusal ? { kind: 'error', error: `refused: the URL ${refusal}`, durationMs: 0 } : parsed;
}

/** How much of a receiver's answer is read (the rest is dropped) and how much is kept in the log. */
export const READ_LIMIT_BYTES = 64 * 1024;
export const KEEP_CHARS = 1024;
/** How long an idle keep-alive connection waits for the next request to its origin. */
export const KEEP_ALIVE_MS = 10_000;

/**
 * The attempt's timeout: `expire` runs one turn of the event loop after its timer. setImmediate
 * runs after the poll phase, so an answer already in the socket is read first. A process busy
 * past the deadline (a start, a burst) would otherwise fail a receiver that answered in time,
 * and its ladder would send the attempt again. (A timer and a destroy rather than an
 * AbortSignal, whose controller and the listeners the client adds and removes for it cost
 * every POST.)
 */
export function deadline(ms: number, expire: () => void): { clear(): void } {
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

/** The error an attempt past its deadline ends with (`describe` says "timeout: ..."). */
export const timeoutError = (timeoutMs: number): DOMException => new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError');

/** A sentence for the delivery log; never includes request headers (they hold credentials). */
export function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ABORT_ERR') return `timeout: no answer within ${timeoutMs} ms`;
  if (code === TARGET_REFUSED) return `refused: ${e.code === TARGET_REFUSED ? e.message : e.cause?.message}`;
  if (code === CONNECT_TIMEOUT || code === 'ETIMEDOUT') return 'timeout: could not connect';
  if (code === 'ECONNREFUSED') return 'connection refused';
  // UND_ERR_SOCKET: undici's "other side closed", a receiver that dropped the connection unanswered.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'connection reset by the receiver';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'DNS lookup failed';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(e.message ?? '')) {
    return `TLS error: ${code || e.message}`;
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_ARG_TYPE') return 'invalid URL';
  return `request failed: ${code || e.name || 'unknown error'}`;
}
