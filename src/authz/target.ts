// Reads "which request is the proxy asking about?" from the headers each proxy flavour sends (SPEC §4).
// Every header is hostile: anything missing, repeated or malformed is refused (400; 401 on the legacy endpoint, as
// Authelia), never a pass and never a redirect.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { canonicalResource } from './resource-path.js';
import type { AuthzFlavour } from '../config/authz-endpoints.js';
import type { TrustedProxies } from './ip.js';

export interface Target {
  url: URL;
  /** Upper-case HTTP method of the original request. */
  method: string;
  /**
   * The target as the proxy wrote it (scheme lower-cased): what goes back to the portal as `rd`, as Authelia sends it
   * (`https://app.example.com` stays without a slash, a port stays). Validated with `url`; never used for decisions.
   */
  raw: string;
  /** The path + query `resources` rules match: decoded, dot segments resolved (resource-path.ts). */
  resource: string;
}

export type TargetResult = { target: Target } | { error: string };

const METHOD = /^[A-Za-z]{1,20}$/;
// What the authz endpoints accept, as Authelia does: upper-case ASCII letters only (`get` and `GETz` are refused, so a
// lower-case method can never match a `methods: [GET]` rule by accident).
const HEADER_METHOD = /^[A-Z]{1,32}$/;
// Host names and IP literals only: no userinfo, path, whitespace or other tricks can hide in X-Forwarded-Host.
const HOST =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const MAX_URL_LENGTH = 8192;

/**
 * A header's value. Node joins a repeated header with ", ": the space it adds fails every check below
 * (methods, hosts, protos and target URLs never contain one), so a repeated header is a 400 as it should be.
 */
function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The upper-case method when `raw` is a plausible HTTP method name, else undefined (headers and the portal's rm). */
export function normaliseMethod(raw: unknown): string | undefined {
  return typeof raw === 'string' && METHOD.test(raw) ? raw.toUpperCase() : undefined;
}

function parseMethod(raw: string | undefined): string | { error: string } {
  if (raw === undefined || raw === '') return { error: 'missing method header' };
  return HEADER_METHOD.test(raw) ? raw : { error: 'malformed method header (upper-case letters only)' };
}

/**
 * An absolute http(s) URL with a host and no userinfo; the caller still checks scheme against the cookie domain.
 * The host must be written plainly: the WHATWG parser rewrites percent-encoded and some non-ASCII hosts
 * (`pub%6cic.example.com` becomes `public.example.com`) while a proxy routes on the raw text, so any host the parser
 * would change is refused rather than judged as another host.
 */
export function parseTargetUrl(
  raw: string | undefined,
  options: { allowFragment?: boolean } = {},
): URL | { error: string } {
  if (raw === undefined || raw === '') return { error: 'missing target URL' };
  if (raw.length > MAX_URL_LENGTH) return { error: 'target URL too long' };
  // Control characters, spaces and backslashes are never sent by a proxy; browsers and URL parsers
  // disagree about them, which is how host confusion starts. A proxied request never has a fragment: a '#' would
  // make Gatehouse judge a shorter path than the one the app receives (redirect targets may have one).
  if (/[\u0000-\u0020\u007f\\]/.test(raw) || (!options.allowFragment && raw.includes('#')))
    return { error: 'malformed target URL' };
  const authority = /^https?:\/\/([^/?#]*)/i.exec(raw)?.[1];
  if (authority === undefined || !HOST.test(authority)) return { error: 'malformed target URL' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: 'malformed target URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: 'target URL must be http or https' };
  if (url.username !== '' || url.password !== '') return { error: 'target URL must not carry credentials' };
  if (url.hostname === '' || url.hostname !== authority.replace(/:\d+$/, '').toLowerCase())
    return { error: 'malformed target URL' };
  return url;
}

interface ParsedUrl {
  url: URL;
  raw: string;
}

/** Scheme names are case-insensitive (`HTTPS` is https, as in Authelia); the rest is kept as written. */
function lowerScheme(raw: string): string {
  const colon = raw.indexOf(':');
  const scheme = raw.slice(0, colon);
  return scheme === 'https' || scheme === 'http' ? raw : `${scheme.toLowerCase()}${raw.slice(colon)}`;
}

function fromOriginalUrl(raw: string | undefined): ParsedUrl | { error: string } {
  const url = parseTargetUrl(raw);
  return 'error' in url ? url : { url, raw: lowerScheme(raw!) };
}

/**
 * An absent or empty X-Forwarded-Uri is the root, as in Authelia (its tests send `https://app.example.com` that way);
 * X-Forwarded-Proto is compared case-insensitively.
 */
function fromForwardedHeaders(headers: IncomingHttpHeaders): ParsedUrl | { error: string } {
  const rawProto = singleHeader(headers, 'x-forwarded-proto');
  const host = singleHeader(headers, 'x-forwarded-host');
  const uri = singleHeader(headers, 'x-forwarded-uri') ?? '';
  if (rawProto === undefined || host === undefined || host === '')
    return { error: 'missing X-Forwarded-Proto or -Host' };
  const proto = rawProto.toLowerCase();
  if (proto !== 'https' && proto !== 'http') return { error: 'malformed X-Forwarded-Proto' };
  if (!HOST.test(host)) return { error: 'malformed X-Forwarded-Host' };
  if (uri !== '' && (!uri.startsWith('/') || uri.startsWith('//') || uri.includes('#')))
    return { error: 'malformed X-Forwarded-Uri' };
  const raw = `${proto}://${host}${uri}`;
  const url = parseTargetUrl(raw);
  return 'error' in url ? url : { url, raw };
}

/** The target of an authz call, per flavour (SPEC §4 table). */
export function readTarget(flavour: AuthzFlavour, headers: IncomingHttpHeaders, requestMethod: string): TargetResult {
  let url: ParsedUrl | { error: string };
  let method: string | { error: string };
  switch (flavour) {
    case 'auth-request':
      url = fromOriginalUrl(singleHeader(headers, 'x-original-url'));
      method = parseMethod(singleHeader(headers, 'x-original-method'));
      break;
    case 'forward-auth':
      url = fromForwardedHeaders(headers);
      method = parseMethod(singleHeader(headers, 'x-forwarded-method'));
      break;
    case 'verify': {
      // Authelia's legacy endpoint: X-Original-URL, else X-Forwarded-*; the method is X-Forwarded-Method, else the
      // request's own (X-Original-Method is not read there).
      url = verifyTarget(headers);
      const forwardedMethod = singleHeader(headers, 'x-forwarded-method');
      method = parseMethod(forwardedMethod === undefined || forwardedMethod === '' ? requestMethod : forwardedMethod);
      break;
    }
  }
  if ('error' in url) return url;
  if (typeof method !== 'string') return method;
  const resource = resourceOf(flavour, headers);
  if (typeof resource !== 'string') return resource;
  return { target: { url: url.url, raw: url.raw, method, resource } };
}

/**
 * The rules' resource, from the raw header text (the parsed URL has already resolved dot segments and clamped a
 * `..` above the root), from the header the flavour reads; verify reads both, and when both are sent they must agree.
 */
function resourceOf(flavour: AuthzFlavour, headers: IncomingHttpHeaders): string | { error: string } {
  const original = flavour === 'forward-auth' ? undefined : singleHeader(headers, 'x-original-url');
  const forwardedHeader = flavour === 'auth-request' ? undefined : singleHeader(headers, 'x-forwarded-uri');
  // An empty or absent X-Forwarded-Uri is the root (see fromForwardedHeaders) when no X-Original-URL names the target.
  const forwarded =
    forwardedHeader === '' || (forwardedHeader === undefined && original === undefined && flavour !== 'auth-request')
      ? '/'
      : forwardedHeader;
  const fromOriginal = original === undefined ? undefined : canonicalResource(original);
  const fromForwarded = forwarded === undefined ? undefined : canonicalResource(forwarded);
  const resource = fromOriginal ?? fromForwarded;
  if (resource === undefined) return { error: 'missing target URL' };
  if (typeof resource !== 'string') return { error: `refused target path: ${resource.error}` };
  if (fromForwarded !== undefined && typeof fromForwarded !== 'string')
    return { error: `refused target path: ${fromForwarded.error}` };
  if (fromOriginal !== undefined && fromForwarded !== undefined && fromOriginal !== fromForwarded)
    return { error: 'X-Original-URL and X-Forwarded-Uri disagree' };
  return resource;
}

/**
 * Behind Traefik, the proxy sets X-Forwarded-* itself but passes any other client header through, so a client's own
 * X-Original-URL must not override them: when both are sent they must name the same URL.
 */
function verifyTarget(headers: IncomingHttpHeaders): ParsedUrl | { error: string } {
  const original = singleHeader(headers, 'x-original-url');
  const forwardedSent = headers['x-forwarded-host'] !== undefined || headers['x-forwarded-uri'] !== undefined;
  if (original === undefined) return fromForwardedHeaders(headers);
  const url = fromOriginalUrl(original);
  if ('error' in url || !forwardedSent) return url;
  const forwarded = fromForwardedHeaders(headers);
  if ('error' in forwarded) return forwarded;
  return forwarded.url.href === url.url.href ? url : { error: 'X-Original-URL and X-Forwarded-* disagree' };
}

/** An address that could not be known: it matches no `networks` rule, and regulation counts such attempts together. */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * The client address for `networks` rules and regulation, or undefined when it cannot be known (then no `networks`
 * criterion matches: fail closed). `trusted` is `server.trusted_proxies`:
 * - none configured: the leftmost X-Forwarded-For entry, else the peer (Authelia's rule; the shipped proxy files
 *   overwrite the header, so the leftmost entry is what the proxy saw);
 * - configured: X-Forwarded-For is believed only from a trusted peer, and the client is the rightmost entry that is
 *   not itself a trusted proxy, so a client that reaches Gatehouse directly, or prepends entries, cannot pick its address.
 * A blank or garbled header is never answered 400 (nginx turns that into a 500 page) and never falls back to the peer
 * (the proxy's own, possibly internal, address must not satisfy a `networks` rule): the address is unknown.
 */
export function clientAddress(
  headers: IncomingHttpHeaders,
  peer: string | undefined,
  trusted?: TrustedProxies,
): string | undefined {
  const peerAddress = normaliseAddress(peer ?? '');
  const forwarded = headers['x-forwarded-for'];
  if (trusted === undefined || trusted.none) {
    if (forwarded === undefined) return isIP(peerAddress) === 0 ? undefined : peerAddress;
    const text = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    const comma = text.indexOf(',');
    return forwardedEntry(comma < 0 ? text : text.slice(0, comma));
  }
  if (isIP(peerAddress) === 0) return undefined;
  if (forwarded === undefined || !trusted.has(peerAddress)) return peerAddress;
  const entries = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',');
  let address: string | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    address = forwardedEntry(entries[i]!);
    if (address === undefined) return undefined;
    if (!trusted.has(address)) return address;
  }
  // Every hop is a trusted address (an internal client behind internal proxies): the leftmost is the client.
  return address;
}

/** One X-Forwarded-For entry as an address (`[2001:db8::1]` unwrapped), undefined when it is not one. */
function forwardedEntry(entry: string): string | undefined {
  const trimmed = entry.trim();
  const address = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  return isIP(address) === 0 ? undefined : normaliseAddress(address);
}

/** `::ffff:10.0.0.1` is the IPv4 client 10.0.0.1 (dual-stack sockets report it that way). */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
