// Reads "which request is the proxy asking about?" from the headers the proxies send (SPEC §4); which of these
// readers a flavour uses is its row in flavours.ts. Every header is hostile: anything missing, repeated or malformed
// is refused (400; 401 on the legacy endpoint, as Authelia), never a pass and never a redirect.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { canonicalResource } from './resource-path.js';
import type { TrustedProxies } from './ip.js';

/**
 * Read-only: a target may be shared by every request that names it (target-memo.ts). Freezing cannot stop a URL's
 * setters, so never set anything on `url` (build a new URL instead, as portalLink does).
 */
export interface Target {
  readonly url: URL;
  /** Upper-case HTTP method of the original request. */
  readonly method: string;
  /**
   * The target as the proxy wrote it (scheme lower-cased): what goes back to the portal as `rd`, as Authelia sends it
   * (`https://app.example.com` stays without a slash, a port stays). Validated with `url`; never used for decisions.
   */
  readonly raw: string;
  /** The path + query `resources` rules match: decoded, dot segments resolved (resource-path.ts). */
  readonly resource: string;
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
 * The original request's method from the header `name`; when `requestMethod` is given, an absent or empty header
 * means the method of the authz request itself (Authelia's legacy endpoint).
 */
export function readMethod(
  headers: IncomingHttpHeaders,
  name: 'x-original-method' | 'x-forwarded-method',
  requestMethod?: string,
): string | { error: string } {
  const sent = singleHeader(headers, name);
  return parseMethod(requestMethod !== undefined && (sent === undefined || sent === '') ? requestMethod : sent);
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

/**
 * The target URL a reader chose, with the header texts it read the path from: the resource is worked out from
 * those raw texts (the parsed URL has already resolved dot segments and clamped a `..` above the root).
 */
export interface ChosenTarget {
  url: URL;
  raw: string;
  /** X-Original-URL as sent, when the target was read from it. */
  originalUrl?: string;
  /**
   * X-Forwarded-Uri, when the target was read from it or checked against it; empty is the root, and so is absent
   * when it alone names the target.
   */
  forwardedUri?: string | undefined;
}

type Chosen = ChosenTarget | { error: string };

/** Scheme names are case-insensitive (`HTTPS` is https, as in Authelia); the rest is kept as written. */
function lowerScheme(raw: string): string {
  const colon = raw.indexOf(':');
  const scheme = raw.slice(0, colon);
  return scheme === 'https' || scheme === 'http' ? raw : `${scheme.toLowerCase()}${raw.slice(colon)}`;
}

/** X-Original-URL (nginx auth_request, and Authelia's legacy endpoint). */
export function fromOriginalUrl(headers: IncomingHttpHeaders): Chosen {
  const raw = singleHeader(headers, 'x-original-url');
  const url = parseTargetUrl(raw);
  return 'error' in url ? url : { url, raw: lowerScheme(raw!), originalUrl: raw! };
}

/**
 * An absent or empty X-Forwarded-Uri is the root, as in Authelia (its tests send `https://app.example.com` that way);
 * X-Forwarded-Proto is compared case-insensitively.
 */
export function fromForwardedHeaders(headers: IncomingHttpHeaders): Chosen {
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
  return 'error' in url ? url : { url, raw, forwardedUri: uri === '' ? '/' : uri };
}

/**
 * Authelia's legacy endpoint: X-Original-URL, else X-Forwarded-*. Behind Traefik, the proxy sets X-Forwarded-*
 * itself but passes any other client header through, so a client's own X-Original-URL must not override them: when
 * both are sent they must name the same URL (and the same resource).
 */
export function fromOriginalUrlOrForwarded(headers: IncomingHttpHeaders): Chosen {
  if (singleHeader(headers, 'x-original-url') === undefined) return fromForwardedHeaders(headers);
  const url = fromOriginalUrl(headers);
  const forwardedSent = headers['x-forwarded-host'] !== undefined || headers['x-forwarded-uri'] !== undefined;
  if ('error' in url || !forwardedSent) return url;
  const forwarded = fromForwardedHeaders(headers);
  if ('error' in forwarded) return forwarded;
  if (forwarded.url.href !== url.url.href) return { error: 'X-Original-URL and X-Forwarded-* disagree' };
  // Only a path actually sent is compared: X-Forwarded-Host alone says nothing about the path.
  const uri = singleHeader(headers, 'x-forwarded-uri');
  return { ...url, forwardedUri: uri === '' ? '/' : uri };
}

/** The target, from the URL a reader chose and the method: the rules' resource is read from the chosen headers. */
export function targetOf(chosen: ChosenTarget, method: string): TargetResult {
  const fromOriginal = chosen.originalUrl === undefined ? undefined : canonicalResource(chosen.originalUrl);
  const fromForwarded = chosen.forwardedUri === undefined ? undefined : canonicalResource(chosen.forwardedUri);
  const resource = fromOriginal ?? fromForwarded;
  if (resource === undefined) return { error: 'missing target URL' };
  if (typeof resource !== 'string') return { error: `refused target path: ${resource.error}` };
  if (fromForwarded !== undefined && typeof fromForwarded !== 'string')
    return { error: `refused target path: ${fromForwarded.error}` };
  if (fromOriginal !== undefined && fromForwarded !== undefined && fromOriginal !== fromForwarded)
    return { error: 'X-Original-URL and X-Forwarded-Uri disagree' };
  return { target: { url: chosen.url, raw: chosen.raw, method, resource } };
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
