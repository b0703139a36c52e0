/**
 * The SSRF guard's address classification (shared/domain/address-ranges.ts: node:net and a table of
 * special-purpose ranges) held to ipaddr.js, the library it replaced in the bundles: for every
 * range of ipaddr.js's own table, its first and last address and the ones just outside, and for
 * random IPv4, IPv6 and IPv4-embedding IPv6 addresses, both name the same range, write the
 * address the same way and read the same IPv6 parts. Nothing here opens a socket.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { parseAddress, rangeOf } from '../../shared/domain/address-ranges.ts';
import { addressRefusal } from '../../shared/domain/targets.ts';

type Subnet = [ipaddr.IPv4 | ipaddr.IPv6, number];
type SpecialRanges = Record<string, Subnet | Subnet[]>;

/** ipaddr.js's table, which its `range()` walks in order. */
const specialRanges = (kind: typeof ipaddr.IPv4 | typeof ipaddr.IPv6): [string, Subnet[]][] =>
  Object.entries((kind.prototype as unknown as { SpecialRanges: SpecialRanges }).SpecialRanges).map(([name, subnets]) => [
    name,
    Array.isArray(subnets[0]) ? (subnets as Subnet[]) : [subnets as Subnet],
  ]);

const toBigInt = (bytes: number[]) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
const fromBigInt = (n: bigint, length: number) => ipaddr.fromByteArray(Array.from({ length }, (_, i) => Number((n >> BigInt(8 * (length - 1 - i))) & 255n)));

/** The first and last address of each subnet, and the addresses just before and after it. */
function boundaries(): string[] {
  const out: string[] = [];
  for (const kind of [ipaddr.IPv4, ipaddr.IPv6]) {
    for (const [, subnets] of specialRanges(kind)) {
      for (const [base, bits] of subnets) {
        const bytes = base.toByteArray();
        const width = BigInt(bytes.length * 8);
        const first = toBigInt(bytes);
        const last = first | ((1n << (width - BigInt(bits))) - 1n);
        const max = (1n << width) - 1n;
        for (const n of [first, last, first - 1n, last + 1n]) if (n >= 0n && n <= max) out.push(fromBigInt(n, bytes.length).toString());
      }
    }
  }
  return out;
}

/**
 * ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d` (IPv4-mapped); RFC 4291, Node's sockets and the
 * WHATWG URL parser read it as the IPv4-compatible `::` + the 32 bits. It is given the hex spelling
 * of the same bits, which it reads as RFC 4291 does (the guard's decision for both readings is
 * compared below).
 */
const DEPRECATED_COMPAT = /^::(\d+\.\d+\.\d+\.\d+)$/;
const hexTail = (v4: string) => {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
};

/** What both say about `address`. */
function compare(address: string) {
  const ours = parseAddress(address);
  const bare = address.replace(/^\[|\]$/g, '');
  const compat = DEPRECATED_COMPAT.exec(bare);
  const theirs = ipaddr.parse(compat ? `::${hexTail(compat[1]!)}` : bare);
  return {
    ours: ours && { range: rangeOf(ours), text: ours.text, parts: ours.family === 6 ? ours.parts : undefined },
    theirs: { range: theirs.range(), text: theirs.toString().replace(/%.*$/, ''), parts: theirs.kind() === 'ipv6' ? (theirs as ipaddr.IPv6).parts : undefined },
  };
}

const expectSame = (address: string) => {
  const { ours, theirs } = compare(address);
  expect({ address, ...ours }).toEqual({ address, ...theirs });
};

describe('address-ranges: the special-purpose ranges agree with ipaddr.js', () => {
  it('names every range of ipaddr.js (both tables cover the same names)', () => {
    const named = new Set<string>();
    for (const address of boundaries()) {
      expectSame(address);
      named.add(compare(address).theirs.range);
    }
    const expected = [...specialRanges(ipaddr.IPv4), ...specialRanges(ipaddr.IPv6)].map(([name]) => name);
    expect([...named].sort()).toEqual([...new Set([...expected, 'unicast'])].sort());
  });

  it('agrees on random IPv4 addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => expectSame(address)),
      { numRuns: 5_000 },
    );
  });

  it('agrees on random IPv6 addresses, and on ones inside each special IPv6 prefix', () => {
    const prefixes = specialRanges(ipaddr.IPv6).flatMap(([, subnets]) => subnets.map(([base, bits]) => [(base as ipaddr.IPv6).parts, bits] as const));
    const inPrefix = fc
      .tuple(fc.constantFrom(...prefixes), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }))
      .map(([[base, bits], noise]) =>
        base
          .map((part, i) => {
            const fixed = Math.max(0, Math.min(16, bits - 16 * i));
            const mask = fixed === 0 ? 0 : (0xffff << (16 - fixed)) & 0xffff;
            return ((part & mask) | (noise[i]! & ~mask & 0xffff)).toString(16);
          })
          .join(':'),
      );
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), inPrefix), (address) => expectSame(address)),
      { numRuns: 5_000 },
    );
  });

  it('agrees on IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64), and on other spellings', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.constantFrom('::ffff:', '::', '64:ff9b::', '::ffff:0:', '0:0:0:0:0:FFFF:'), (v4, prefix) => expectSame(`${prefix}${v4}`)),
      { numRuns: 2_000 },
    );
    // Either reading of `::a.b.c.d`, the guard decides as it does for a.b.c.d.
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect({ v4, refused: addressRefusal(`::${v4}`) !== undefined }).toEqual({ v4, refused: addressRefusal(v4) !== undefined });
      }),
      { numRuns: 2_000 },
    );
    for (const address of ['[::1]', 'FE80::A', '[2001:DB8::1]', '0:0:0:0:0:0:0:1', '2001:db8:0:0:1:0:0:1', '::ffff:a9fe:a9fe']) expectSame(address);
    expect(compare('fe80::1%eth0').ours).toEqual({ range: 'linkLocal', text: 'fe80::1', parts: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
  });

  it('takes no other spelling for an address: non-canonical IPv4 forms are not addresses (so they are refused)', () => {
    for (const raw of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '1.2.3.04', 'not-an-address', '', ' 1.2.3.4']) {
      expect({ raw, parsed: parseAddress(raw) }).toEqual({ raw, parsed: undefined });
    }
  });
});
