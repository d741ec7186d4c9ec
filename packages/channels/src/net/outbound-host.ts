// Tenant-supplied outbound addresses (a workspace's SMTP server): in production they may not resolve to loopback,
// private, link-local or other internal addresses, or a tenant could make our workers talk to the internal network.
// Checked when the address is saved and again right before connecting (DNS may have changed since), and the check
// hands back the address it approved, so the connection goes exactly there and a second lookup cannot swap it.
import dns from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { getConfig, type Config } from '@nudge/config';

export interface OutboundHostPolicy {
  /** Refuse hosts that resolve to internal addresses (production). */
  blockInternalAddresses: boolean;
}

export function outboundHostPolicy(config: Pick<Config, 'isProduction'> = getConfig()): OutboundHostPolicy {
  return { blockInternalAddresses: config.isProduction };
}

export type OutboundHostProblem = 'unresolvable' | 'internal_address';

// ipaddr.js's range names that are not the public internet.
const INTERNAL_RANGES = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'loopback',
  'private',
  'uniqueLocal',
  'carrierGradeNat',
  'reserved',
  'ipv4Mapped',
  'rfc6145',
  'rfc6052',
  '6to4',
  'teredo',
]);

/** Whether an IP address is internal (loopback, private, link-local and the like) rather than public. */
export function isInternalAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  // ::ffff:10.0.0.1 is 10.0.0.1.
  const ip = ipaddr.process(address);
  return INTERNAL_RANGES.has(ip.range());
}

/**
 * The address to connect to for `host`, or why it may not be used. Under a blocking policy every address the name
 * resolves to must be public (a name with one internal address among public ones is refused: the resolver of the
 * connection could pick it). Without one, the host is returned as given, unresolved.
 */
export async function checkOutboundHost(
  host: string,
  policy: OutboundHostPolicy = outboundHostPolicy(),
): Promise<{ address: string } | { problem: OutboundHostProblem }> {
  const name = host.replace(/^\[(.*)\]$/, '$1');
  if (!policy.blockInternalAddresses) return { address: name };
  let addresses: string[];
  if (net.isIP(name)) addresses = [name];
  else {
    try {
      addresses = (await dns.lookup(name, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return { problem: 'unresolvable' };
    }
  }
  if (!addresses.length) return { problem: 'unresolvable' };
  if (addresses.some(isInternalAddress)) return { problem: 'internal_address' };
  return { address: addresses[0] as string };
}
