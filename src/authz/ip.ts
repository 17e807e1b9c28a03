// Client addresses matched against the networks of access-control rules and trusted proxies (IPv4 and IPv6,
// single addresses or CIDR ranges; their syntax is config/networks.ts). Matching uses node:net's BlockList, which
// already treats an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as the IPv4 address, in both directions.
import { BlockList, SocketAddress, isIP } from 'node:net';
import type { Network } from '../config/networks.js';

export function addNetwork(list: BlockList, network: Network): void {
  if (network.prefix === (network.family === 'ipv4' ? 32 : 128)) list.addAddress(network.address, network.family);
  else list.addSubnet(network.address, network.prefix, network.family);
}

// Building a SocketAddress costs about a microsecond, far more than the whole rule evaluation; clients repeat, so
// keep the recent ones. Bounded, and simply emptied when full, so hostile address churn costs memory no more than this.
const CACHE_LIMIT = 4096;
const addressCache = new Map<string, SocketAddress | null>();

/** The parsed client address, or null when `ip` is missing or not an IP address (such a client matches no network). */
export function clientAddress(ip: string | undefined): SocketAddress | null {
  if (ip === undefined) return null;
  const cached = addressCache.get(ip);
  if (cached !== undefined) return cached;
  // Only valid (hence short) addresses are cached: garbage must not be able to fill memory.
  const version = isIP(ip);
  if (version === 0) return null;
  let parsed: SocketAddress | null;
  try {
    parsed = new SocketAddress({ address: ip, family: version === 4 ? 'ipv4' : 'ipv6' });
  } catch {
    parsed = null;
  }
  if (addressCache.size >= CACHE_LIMIT) addressCache.clear();
  addressCache.set(ip, parsed);
  return parsed;
}

/**
 * `server.trusted_proxies`: the addresses whose X-Forwarded-For is believed (see target.ts `clientAddress`).
 * Built once at start-up from entries the configuration has already checked.
 */
export class TrustedProxies {
  readonly none: boolean;
  private readonly list = new BlockList();

  constructor(entries: readonly Network[]) {
    this.none = entries.length === 0;
    for (const entry of entries) addNetwork(this.list, entry);
  }

  /** True when `ip` (a valid address) is a trusted proxy. */
  has(ip: string): boolean {
    const address = clientAddress(ip);
    return address !== null && this.list.check(address);
  }
}
