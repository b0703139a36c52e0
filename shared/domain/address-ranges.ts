import { BlockList, isIP } from 'node:net';

/**
 * The special-purpose address ranges of IANA's IPv4 and IPv6 registries, named and ordered as
 * ipaddr.js names and orders them: an address is in the first range that holds it, else it is
 * `unicast`. Node's own `net.isIP` parses and `net.BlockList` matches, so a bundle carries this
 * table instead of an address library (ipaddr.js is 12.8 KB minified, in the two bundles that
 * check targets). test/security/address-ranges.test.ts holds the table to ipaddr.js's answers.
 */
type Ranges = readonly (readonly [name: string, subnets: readonly (readonly [prefix: string, bits: number])[]])[];

const IPV4_RANGES: Ranges = [
  ['unspecified', [['0.0.0.0', 8]]],
  ['broadcast', [['255.255.255.255', 32]]],
  ['multicast', [['224.0.0.0', 4]]],
  ['linkLocal', [['169.254.0.0', 16]]],
  ['loopback', [['127.0.0.0', 8]]],
  ['carrierGradeNat', [['100.64.0.0', 10]]],
  ['private', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]],
  ['reserved', [['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['240.0.0.0', 4]]],
  ['as112', [['192.175.48.0', 24], ['192.31.196.0', 24]]],
  ['amt', [['192.52.193.0', 24]]],
];

const IPV6_RANGES: Ranges = [
  ['unspecified', [['::', 128]]],
  ['linkLocal', [['fe80::', 10]]],
  ['multicast', [['ff00::', 8]]],
  ['loopback', [['::1', 128]]],
  ['uniqueLocal', [['fc00::', 7]]],
  ['ipv4Mapped', [['::ffff:0:0', 96]]],
  ['deprecatedSiteLocal', [['fec0::', 10]]],
  ['discard', [['100::', 64]]],
  ['rfc6145', [['::ffff:0:0:0', 96]]],
  ['rfc6052', [['64:ff9b::', 96], ['64:ff9b:1::', 48]]],
  ['6to4', [['2002::', 16]]],
  ['teredo', [['2001::', 32]]],
  ['benchmarking', [['2001:2::', 48]]],
  ['amt', [['2001:3::', 32]]],
  ['as112v6', [['2001:4:112::', 48], ['2620:4f:8000::', 48]]],
  ['deprecatedOrchid', [['2001:10::', 28]]],
  ['orchid2', [['2001:20::', 28]]],
  ['droneRemoteIdProtocolEntityTags', [['2001:30::', 28]]],
  ['segmentRouting', [['5f00::', 16]]],
  ['reserved', [['2001::', 23], ['2001:db8::', 32], ['3fff::', 20]]],
];

/** An address in canonical form: dotted decimal, or RFC 5952 IPv6 (lower case, `::` for the longest zero run) with its eight 16-bit parts. */
export type ParsedAddress = { readonly family: 4; readonly text: string } | { readonly family: 6; readonly text: string; readonly parts: readonly number[] };

/** `raw` (brackets and an IPv6 zone such as `%eth0` allowed) as an address, or undefined when it is none. */
export function parseAddress(raw: string): ParsedAddress | undefined {
  const address = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return { family, text: address };
  if (family !== 6) return undefined;
  // The WHATWG URL serializer writes IPv6 as RFC 5952 does (IPv4 tails as two hex parts).
  const text = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return { family, text, parts: ipv6Parts(text) };
}

function ipv6Parts(canonical: string): number[] {
  const [head = '', tail] = canonical.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':'));
  const front = words(head);
  const back = tail === undefined ? [] : words(tail);
  return [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back].map((w) => parseInt(w, 16));
}

type Table = readonly (readonly [name: string, list: BlockList])[];
let tables: { 4: Table; 6: Table } | undefined;

function table(ranges: Ranges, type: 'ipv4' | 'ipv6'): Table {
  return ranges.map(([name, subnets]) => {
    const list = new BlockList();
    for (const [prefix, bits] of subnets) list.addSubnet(prefix, bits, type);
    return [name, list] as const;
  });
}

/** The special range `address` is in (`loopback`, `private`, `ipv4Mapped`...), or `unicast`. */
export function rangeOf(address: ParsedAddress): string {
  // Built on first use: a cold start that checks no target builds nothing.
  tables ??= { 4: table(IPV4_RANGES, 'ipv4'), 6: table(IPV6_RANGES, 'ipv6') };
  const type = address.family === 4 ? 'ipv4' : 'ipv6';
  return tables[address.family].find(([, list]) => list.check(address.text, type))?.[0] ?? 'unicast';
}
