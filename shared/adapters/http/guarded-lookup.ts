import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { addressRefusal } from '../../domain/targets.ts';

export const TARGET_REFUSED = 'HOOKLINE_TARGET_REFUSED';

export class TargetRefusedError extends Error {
  readonly code = TARGET_REFUSED;
  override name = 'TargetRefusedError';
}

export type Resolve = (hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true, verbatim: true }, callback);

/**
 * The DNS lookup the sender's sockets use when private targets are not allowed: it resolves the
 * name once, drops every address the policy refuses, and hands the socket only the addresses it
 * checked, so the connection goes to a checked address and a second, rebinding lookup never
 * happens. TLS still verifies the certificate against the original host name (SNI unchanged).
 */
export function guardedLookup(resolve: Resolve = systemResolve, refusal: (address: string) => string | undefined = addressRefusal): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: unknown[]) => void) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err);
      const family = options?.family === 6 || options?.family === 'IPv6' ? 6 : options?.family === 4 || options?.family === 'IPv4' ? 4 : 0;
      const candidates = addresses.filter((a) => family === 0 || a.family === family);
      const allowed = candidates.filter((a) => refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const first = candidates[0];
        const why = first ? refusal(first.address) : 'no address';
        return callback(new TargetRefusedError(`${hostname} resolves to a ${why}, which webhooks may not reach`));
      }
      if (options?.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  }) as LookupFunction;
}
