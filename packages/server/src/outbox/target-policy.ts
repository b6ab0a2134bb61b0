import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { TargetPolicy } from '../config.js';

/**
 * Which notify targets the dispatcher may connect to. `strict` refuses loopback, private, link-local,
 * unique-local, CGNAT, unspecified, multicast and cloud-metadata addresses; `local` (the default for
 * `npm start`) allows them and also allows plain http. The check runs at delivery time on the addresses
 * DNS returns, and the connection goes to the address that was checked (no second lookup), so a name
 * that re-resolves to 127.0.0.1 between check and connect (DNS rebinding) cannot slip through.
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
  ['64:ff9b::', 96, 'ipv6'],
]);

/** Classifies an IP address (v4, v6, or v4-mapped v6). */
export function classifyAddress(address: string): AddressClass {
  // ::ffff:127.0.0.1 reaches 127.0.0.1; judge it as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped?.[1] ?? address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  for (const [kind, list] of blocks) if (list.check(ip, family)) return kind;
  return 'public';
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
    servername: isIP(host) ? undefined : host,
  };
}
