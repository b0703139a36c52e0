import { connect as netConnect, type LookupFunction, type Socket } from 'node:net';
import { endpointRefusal, type TargetPolicy } from '../../domain/targets.ts';
import { guardedLookup, TargetRefusedError, type Resolve } from './guarded-lookup.ts';

/** A TCP connection not made by then fails (the request's own timeout usually ends it first). */
const CONNECT_TIMEOUT_MS = 10_000;
/** The code of the error a connection that timed out fails with (see `describe`). */
export const CONNECT_TIMEOUT = 'HOOKLINE_CONNECT_TIMEOUT';

export type Refusal = (address: string) => string | undefined;

/** Opens a checked TCP connection to host:port; `done` gets it, or why there is none. */
export type ConnectChecked = (host: string, port: number, done: (err: Error | null, socket?: Socket) => void) => void;

/**
 * The SSRF guard on every connection, whichever HTTP client sends. Where private targets are
 * refused, the connection's one DNS lookup drops refused addresses before connecting (no second,
 * rebinding lookup). Whatever the policy, the TCP socket's actual peer is checked once connected
 * and before a byte is sent (the caller starts TLS only on the socket it is given), so no name,
 * spelling or resolver trick reaches Hookline's own ports or a metadata endpoint. Keep-alive
 * reuses only connections that passed.
 */
export function guardedConnection(policy: TargetPolicy, resolve: Resolve | undefined, refusal: Refusal): ConnectChecked {
  const lookup: LookupFunction | undefined = policy.allowPrivateTargets
    ? resolve && guardedLookup(resolve, () => undefined)
    : guardedLookup(resolve, refusal);
  return (host, port, done) => {
    const tcp = netConnect({ host, port, ...(lookup ? { lookup } : {}) });
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
      settled = true;
      done(null, tcp);
    });
  };
}
