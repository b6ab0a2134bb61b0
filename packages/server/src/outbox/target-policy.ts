import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { TargetPolicy } from '../config.js';

/**
 * Which notify targets the dispatcher may connect to. `strict` refuses loopback, private, link-local,
 * unique-local, CGNAT, unspecified, multicast and cloud-metadata addresses, `localhost` names, and any
 * IPv6 address that embeds such an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64,
 * 6to4, Teredo); `local` (the default for `npm start`) allows them and also allows plain http. The check
 * runs at delivery time on the addresses DNS returns, and the connection goes to the address that was
 * checked (no second lookup), so a name that re-resolves to 127.0.0.1 between check and connect (DNS
 * rebinding) cannot slip through.
 * @see docs/fidelity.md (Notifications: Target policy)
 */

/** Why an address is not public. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'reserved';

const blocks: Array<[AddressClass, BlockList]> = [];
function block(kind: AddressClass, ranges: Array<[string, number, 'ipv4' | 'ipv6']>): void {
  const list = new BlockList();
  for (const [net, prefix, family] of ranges) list.addSubnet(net, prefix, family);
  blocks.push([kind, list]);
}
// Metadata first: 169.254.169.254 is also link-local, but the more specific reason helps the operator.
block('metadata', [
  ['169.254.169.254', 32, 'ipv4'],
  ['100.100.100.200', 32, 'ipv4'],
  ['fd00:ec2::254', 128, 'ipv6'],
]);
block('loopback', [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
block('unspecified', [
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
block('private', [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
]);
block('link-local', [
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
block('unique-local', [['fc00::', 7, 'ipv6']]);
block('reserved', [
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['ff00::', 8, 'ipv6'],
]);

/**
 * Classifies an IP address (v4 or v6). An IPv6 address that carries an IPv4 address is judged as that
 * IPv4 address, whatever its spelling (`::ffff:7f00:1` and `::ffff:127.0.0.1` alike).
 * @example classifyAddress('64:ff9b::10.0.0.1') // 'private'
 */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) does not change the address
  if (isIP(ip) === 6) {
    const embedded = embeddedIpv4(ipv6Words(ip));
    if (embedded !== undefined) {
      const kind = classifyAddress(embedded.address);
      return kind === 'public' && !embedded.globallyReachable ? 'reserved' : kind;
    }
  }
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  for (const [kind, list] of blocks) if (list.check(ip, family)) return kind;
  return 'public';
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail becomes the last two). */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)));
  const [head = '', tail] = text.split('::');
  if (tail === undefined) return groups(head);
  const before = groups(head);
  const after = groups(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/**
 * The IPv4 address an IPv6 address hands traffic to, by the prefix it starts with; undefined for a
 * native IPv6 address. `globallyReachable` is false for prefixes that never leave their own network.
 */
function embeddedIpv4(w: number[]): { address: string; globallyReachable: boolean } | undefined {
  const at = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const [w0 = 0, w1 = 0, w2 = 0, , w4 = 0, w5 = 0, w6 = 0, w7 = 0] = w;
  const last32 = at(w6, w7);
  // ::/128 and ::1/128 are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
  if (zero(0, 7) && w7 <= 1) return undefined;
  // ::a.b.c.d (IPv4-compatible, ::/96), ::ffff:a.b.c.d (IPv4-mapped), ::ffff:0:a.b.c.d (IPv4-translated)
  if (zero(0, 5) && (w5 === 0 || w5 === 0xffff)) return { address: last32, globallyReachable: true };
  if (zero(0, 4) && w4 === 0xffff && w5 === 0) return { address: last32, globallyReachable: true };
  // NAT64: the well-known prefix 64:ff9b::/96 (DNS64 synthesises these for IPv4-only hosts) and the
  // local-use 64:ff9b:1::/48, whose /96 form is judged by its address and is never globally reachable.
  if (w0 === 0x64 && w1 === 0xff9b) {
    if (zero(2, 6)) return { address: last32, globallyReachable: true };
    if (w2 === 1) return { address: last32, globallyReachable: false };
  }
  // 6to4 (2002::/16): the IPv4 address of the tunnel end point follows the prefix.
  if (w0 === 0x2002) return { address: at(w1, w2), globallyReachable: true };
  // Teredo (2001::/32): the client's IPv4 address, bit-inverted, is the last 32 bits.
  if (w0 === 0x2001 && w1 === 0) return { address: at(w6 ^ 0xffff, w7 ^ 0xffff), globallyReachable: true };
  return undefined;
}

/** A URL's host as the policy judges it: no brackets, no trailing dots (`localhost.` is `localhost`), lower case. */
export function policyHost(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
}

/**
 * What `strict` can tell about a host before any DNS lookup: `loopback` for a `localhost` name
 * (RFC 6761), the class of a non-public IP literal, or undefined when only DNS answers can tell.
 * @param host a host as {@link policyHost} returns it
 */
export function classifyHostLiteral(host: string): Exclude<AddressClass, 'public'> | undefined {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (isIP(host) === 0) return undefined;
  const kind = classifyAddress(host);
  return kind === 'public' ? undefined : kind;
}

/** A target that passed the policy: connect to `address`, present `hostname` (SNI, Host). */
export interface ResolvedTarget {
  url: URL;
  /** The IP address the connection must use. */
  address: string;
  family: 4 | 6;
  /** SNI name; undefined when the URL host is an IP literal (SNI cannot carry one). */
  servername: string | undefined;
}

/** A refusal, recorded in the delivery log. */
export interface TargetRefusal {
  refused: true;
  reason: string;
}

/** Resolves host names; injectable so tests can simulate a rebinding resolver. */
export type HostResolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The system resolver (every address of the name). */
export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Checks a notify target against the policy and resolves it to one address to connect to. Under
 * `strict` every resolved address must be public (a name with one private address is refused), and
 * only https is allowed.
 */
export async function resolveTarget(
  rawUrl: string,
  policy: TargetPolicy,
  resolver: HostResolver = systemResolver,
): Promise<ResolvedTarget | TargetRefusal> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { refused: true, reason: `not an absolute URL: ${rawUrl.slice(0, 80)}` };
  }
  if (url.protocol !== 'https:' && !(policy === 'local' && url.protocol === 'http:')) {
    return { refused: true, reason: `${url.protocol} targets are not allowed under the ${policy} policy` };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const name = policyHost(url);
  // A localhost name is loopback whatever the resolver says (RFC 6761); IP literals are judged below.
  if (policy === 'strict' && isIP(host) === 0 && classifyHostLiteral(name) !== undefined) {
    return {
      refused: true,
      reason: `${host} is a localhost name (loopback), refused by the strict target policy`,
    };
  }
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolver(host);
    } catch (err) {
      return { refused: true, reason: `DNS lookup of ${host} failed: ${(err as Error).message}` };
    }
  }
  if (addresses.length === 0) return { refused: true, reason: `${host} has no address` };
  if (policy === 'strict') {
    for (const a of addresses) {
      const kind = classifyAddress(a.address);
      if (kind !== 'public') {
        return {
          refused: true,
          reason: `${host} resolves to ${a.address} (${kind}), refused by the strict target policy`,
        };
      }
    }
  }
  const chosen = addresses[0] as { address: string; family: number };
  return {
    url,
    address: chosen.address,
    family: chosen.family === 6 ? 6 : 4,
    // SNI carries a name without its trailing dot (RFC 6066 §3).
    servername: isIP(host) ? undefined : name,
  };
}
