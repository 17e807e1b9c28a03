// The syntax of a network in the configuration (rule `networks`, definitions.network, server.trusted_proxies):
// one IPv4 or IPv6 address, or a CIDR range. Parsed here, at the configuration layer, so that validation and the
// rules compiler read it the same way; matching a client against networks is authz/ip.ts.
import { isIP } from 'node:net';

export interface Network {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32` or `::1`. Strict on purpose: no zone (`%eth0`), no leading
 * zeros (`010.0.0.1` reads as octal to some tools), a prefix of plain digits within the family's size.
 */
export function parseNetwork(text: string): Network | { error: string } {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = address.includes('%') ? 0 : isIP(address);
  if (version === 0)
    return { error: `'${text}' is not an IP address or a CIDR range (like 10.0.0.0/8 or 2001:db8::/32)` };
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (slash < 0) return { address, prefix: bits, family };
  const prefixText = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits))
    return { error: `'${text}' has an invalid prefix length: it must be 0 to ${bits}` };
  return { address, prefix, family };
}
