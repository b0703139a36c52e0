import ipaddr from 'ipaddr.js';

/**
 * Which outbound targets Hookline may reach (the SSRF guard's rules, pure). Only globally
 * routable unicast addresses pass: loopback, private, link-local (cloud metadata 169.254.169.254
 * included), CGNAT, multicast, unspecified, unique-local (fd00:ec2::254 included), reserved and
 * benchmarking ranges are refused, and so are the IPv6 forms that embed an IPv4 address
 * (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) when the embedded one would be.
 */
export interface TargetPolicy {
  /** On one machine, webhooks may point at loopback and private addresses. */
  readonly allowPrivateTargets: boolean;
  /** Ports a webhook may use when private targets are not allowed. */
  readonly allowedPorts: readonly number[];
}

export const DEFAULT_ALLOWED_PORTS: readonly number[] = [443, 80, 8443];

/** Why an address may not be reached, or undefined when it may. */
export function addressRefusal(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    const embedded = embeddedIPv4(v6);
    if (embedded) {
      const inner = addressRefusal(embedded);
      return inner ? `${inner} (embedded in ${v6.range()} IPv6 ${address})` : undefined;
    }
  }
  const range = ip.range();
  return range === 'unicast' ? undefined : `${range} address ${ip.toString()}`;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIPv4(ip: ipaddr.IPv6): string | undefined {
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address().toString();
  const p = ip.parts;
  const tail = () => `${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}`;
  const zeroHead = p.slice(0, 6).every((x) => x === 0);
  if (zeroHead && !(p[6] === 0 && (p[7] === 0 || p[7] === 1))) return tail(); // ::a.b.c.d (deprecated compat)
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0)) return tail();
  return undefined;
}

export const isIpLiteral = (hostname: string): boolean => ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));

const defaultPort = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/**
 * What is wrong with a URL as an outbound target, before any DNS lookup: scheme, credentials in
 * the authority, port, and a literal address. Undefined when the URL may be tried.
 */
export function urlRefusal(url: URL, policy: TargetPolicy): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not allowed (https only)`;
  if (url.protocol === 'http:' && !policy.allowPrivateTargets) return 'must use https://';
  if (url.username || url.password) return 'must not carry credentials before the host; use auth instead';
  if (policy.allowPrivateTargets) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, ''); // `localhost.` is localhost
  if (host === 'localhost' || host.endsWith('.localhost')) return 'points at localhost';
  const port = defaultPort(url);
  if (!policy.allowedPorts.includes(port)) return `port ${port} is not allowed (allowed: ${policy.allowedPorts.join(', ')})`;
  if (isIpLiteral(host)) {
    const refusal = addressRefusal(host);
    if (refusal) return `points at a ${refusal}`;
  }
  return undefined;
}
