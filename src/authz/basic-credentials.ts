// HTTP credentials sent by API clients to the authz endpoints (SPEC §4), read as Authelia reads an Authorization or
// Proxy-Authorization value: `<scheme> <value>` split at the first space, the scheme case-insensitive.
export type BasicCredentials = { username: string; password: string };

/**
 * `basic` with its credentials; `bearer` for a well-formed bearer token (Gatehouse issues none, so the caller skips
 * it as Authelia skips a token it did not issue); 'malformed' for anything else: no space, another scheme, bad
 * base64 (padding required, as Go's decoder), no colon, an empty user name or password, control characters.
 */
export type ParsedAuthorization = ({ scheme: 'basic' } & BasicCredentials) | { scheme: 'bearer' } | 'malformed';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 6750 §2.1 token68.
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;
const MAX_LENGTH = 4096;

export function parseAuthorization(header: string | string[]): ParsedAuthorization {
  if (typeof header !== 'string' || header.length > MAX_LENGTH) return 'malformed';
  const space = header.indexOf(' ');
  if (space < 0) return 'malformed';
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1);
  if (scheme === 'bearer') return TOKEN68.test(value) ? { scheme: 'bearer' } : 'malformed';
  if (scheme !== 'basic' || value === '' || !BASE64.test(value)) return 'malformed';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return 'malformed';
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(username) || password.length === 0 || password.includes('\u0000'))
    return 'malformed';
  return { scheme: 'basic', username, password };
}
