import { lookup } from 'node:dns/promises';

/** The system resolver: every address of a host name. */
export async function resolveHost(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
}
