import { parseAddress, rangeOf, type ParsedAddress } from './address-ranges.ts';

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
  /**
   * Ports of Hookline's own services on this machine (its API, the storage and queue stand-ins):
   * refused on every local address whether private targets are allowed or not. A webhook aimed
   * at them would read or write other tenants' data, or publish back into Hookline in a loop.
   */
  readonly ownPorts?: readonly number[];
  /** This machine's own interface addresses, which reach `ownPorts` like loopback does. */
  readonly localAddresses?: readonly string[];
  /** Host names of Hookline's own API (its public URL): a webhook pointing back at it is an amplification loop. */
  readonly ownHosts?: readonly string[];
}

/**
 * Cloud metadata and credential endpoints (EC2 IMDS, ECS/EKS task credentials, their IPv6 forms):
 * refused always, even where private targets are allowed, since they hand out the host's own AWS
 * credentials.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23']);

export const DEFAULT_ALLOWED_PORTS: readonly number[] = [443, 80, 8443];

/** Why an address may not be reached, or undefined when it may. */
export function addressRefusal(address: string): string | undefined {
  const ip = parseAddress(address);
  if (!ip) return 'not an IP address';
  const embedded = embeddedIPv4(ip);
  if (embedded) {
    const inner = addressRefusal(embedded);
    return inner ? `${inner} (embedded in ${rangeOf(ip)} IPv6 ${address})` : undefined;
  }
  const range = rangeOf(ip);
  return range === 'unicast' ? undefined : `${range} address ${ip.text}`;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIPv4(ip: ParsedAddress): string | undefined {
  if (ip.family === 4) return undefined;
  const p = ip.parts;
  const tail = () => `${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}`;
  if (rangeOf(ip) === 'ipv4Mapped') return tail();
  const zeroHead = p.slice(0, 6).every((x) => x === 0);
  if (zeroHead && !(p[6] === 0 && (p[7] === 0 || p[7] === 1))) return tail(); // ::a.b.c.d (deprecated compat)
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0)) return tail();
  return undefined;
}

export const isIpLiteral = (hostname: string): boolean => parseAddress(hostname) !== undefined;

export const defaultPort = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/**
 * What is wrong with a URL as an outbound target, before any DNS lookup: scheme, credentials in
 * the authority, port, and a literal address. Undefined when the URL may be tried.
 */
export function urlRefusal(url: URL, policy: TargetPolicy): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not allowed (https only)`;
  if (url.protocol === 'http:' && !policy.allowPrivateTargets) return 'must use https://';
  if (url.username || url.password) return 'must not carry credentials before the host; use auth instead';
  const host = url.hostname.toLowerCase().replace(/\.+$/, ''); // `localhost.` is localhost
  const port = defaultPort(url);
  if (policy.ownHosts?.some((own) => own.toLowerCase().replace(/\.+$/, '') === host)) return "points at Hookline's own API";
  const isLocalhost = host === 'localhost' || host.endsWith('.localhost');
  if (isLocalhost && policy.ownPorts?.includes(port)) return `points at a port of Hookline's own services (${host} port ${port})`;
  if (isIpLiteral(host)) {
    const refusal = endpointRefusal(host, port, policy);
    if (refusal) return `points at a ${refusal}`;
  }
  if (policy.allowPrivateTargets) return undefined;
  if (isLocalhost) return 'points at localhost';
  if (!policy.allowedPorts.includes(port)) return `port ${port} is not allowed (allowed: ${policy.allowedPorts.join(', ')})`;
  return undefined;
}

/**
 * Why a connection to `address`:`port` may not be made, or undefined when it may: checked on the
 * address a name resolved to and again on the socket's actual peer, so no DNS answer or IP
 * spelling gets around it. The private ranges are refused only when private targets are not
 * allowed; `ownServiceRefusal` always.
 */
export function endpointRefusal(
  address: string,
  port: number,
  policy: TargetPolicy,
  refusal: (address: string) => string | undefined = addressRefusal,
): string | undefined {
  return policy.allowPrivateTargets ? ownServiceRefusal(address, port, policy) : (refusal(address) ?? ownServiceRefusal(address, port, policy));
}

/** Metadata endpoints and Hookline's own ports: refused whatever the policy allows. */
export function ownServiceRefusal(address: string, port: number, policy: TargetPolicy): string | undefined {
  const ip = normalisedAddress(address);
  if (ip === undefined) return 'not an IP address';
  if (METADATA_ADDRESSES.has(ip)) return `cloud metadata address ${ip}`;
  if (policy.ownPorts?.includes(port) && isLocalAddress(ip, policy.localAddresses ?? [])) {
    return `port of Hookline's own services (${ip} port ${port})`;
  }
  return undefined;
}

/** The address in canonical form, with an embedded IPv4 address (mapped, compatible, NAT64) unwrapped. */
function normalisedAddress(address: string): string | undefined {
  const ip = parseAddress(address);
  return ip && (embeddedIPv4(ip) ?? ip.text);
}

/** Loopback, unspecified (0.0.0.0 and :: reach every local listener) or one of this machine's addresses. */
function isLocalAddress(ip: string, localAddresses: readonly string[]): boolean {
  const range = rangeOf(parseAddress(ip)!);
  if (range === 'loopback' || range === 'unspecified') return true;
  return localAddresses.some((a) => normalisedAddress(a) === ip);
}
