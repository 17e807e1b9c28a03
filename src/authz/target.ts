// Reads "which request is the proxy asking about?" from the headers each proxy flavour sends (SPEC §4).
// Every header is hostile: anything missing, repeated or malformed is a 400, never a pass and never a redirect.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { canonicalResource } from './resource-path.js';

export type AuthzFlavour = 'auth-request' | 'forward-auth' | 'verify';

export interface Target {
  url: URL;
  /** Upper-case HTTP method of the original request. */
  method: string;
  /** The path + query `resources` rules match: decoded, dot segments resolved (resource-path.ts). */
  resource: string;
}

export type TargetResult = { target: Target } | { error: string };

const METHOD = /^[A-Za-z]{1,20}$/;
// Host names and IP literals only: no userinfo, path, whitespace or other tricks can hide in X-Forwarded-Host.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
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
  if (raw === undefined) return { error: 'missing method header' };
  return normaliseMethod(raw) ?? { error: 'malformed method header' };
}

/**
 * An absolute http(s) URL with a host and no userinfo; the caller still checks scheme against the cookie domain.
 * The host must be written plainly: the WHATWG parser rewrites percent-encoded and some non-ASCII hosts
 * (`pub%6cic.example.com` becomes `public.example.com`) while a proxy routes on the raw text, so any host the parser
 * would change is refused rather than judged as another host.
 */
export function parseTargetUrl(raw: string | undefined, options: { allowFragment?: boolean } = {}): URL | { error: string } {
  if (raw === undefined || raw === '') return { error: 'missing target URL' };
  if (raw.length > MAX_URL_LENGTH) return { error: 'target URL too long' };
  // Control characters, spaces and backslashes are never sent by a proxy; browsers and URL parsers
  // disagree about them, which is how host confusion starts. A proxied request never has a fragment: a '#' would
  // make Gatehouse judge a shorter path than the one the app receives (redirect targets may have one).
  if (/[\u0000-\u0020\u007f\\]/.test(raw) || (!options.allowFragment && raw.includes('#'))) return { error: 'malformed target URL' };
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
  if (url.hostname === '' || url.hostname !== authority.replace(/:\d+$/, '').toLowerCase()) return { error: 'malformed target URL' };
  return url;
}

function fromForwardedHeaders(headers: IncomingHttpHeaders): URL | { error: string } {
  const proto = singleHeader(headers, 'x-forwarded-proto');
  const host = singleHeader(headers, 'x-forwarded-host');
  const uri = singleHeader(headers, 'x-forwarded-uri');
  if (proto === undefined || host === undefined || uri === undefined) return { error: 'missing X-Forwarded-Proto, -Host or -Uri' };
  if (proto !== 'https' && proto !== 'http') return { error: 'malformed X-Forwarded-Proto' };
  if (!HOST.test(host)) return { error: 'malformed X-Forwarded-Host' };
  if (!uri.startsWith('/') || uri.startsWith('//') || uri.includes('#')) return { error: 'malformed X-Forwarded-Uri' };
  return parseTargetUrl(`${proto}://${host}${uri}`);
}

/** The target of an authz call, per flavour (SPEC §4 table). */
export function readTarget(flavour: AuthzFlavour, headers: IncomingHttpHeaders, requestMethod: string): TargetResult {
  let url: URL | { error: string };
  let method: string | { error: string };
  switch (flavour) {
    case 'auth-request':
      url = parseTargetUrl(singleHeader(headers, 'x-original-url'));
      method = parseMethod(singleHeader(headers, 'x-original-method'));
      break;
    case 'forward-auth':
      url = fromForwardedHeaders(headers);
      method = parseMethod(singleHeader(headers, 'x-forwarded-method'));
      break;
    case 'verify': {
      // Authelia 4.37's legacy endpoint: X-Original-URL, else X-Forwarded-*; the method is optional there.
      url = verifyTarget(headers);
      const rawMethod = singleHeader(headers, 'x-original-method') ?? singleHeader(headers, 'x-forwarded-method');
      method = rawMethod === undefined ? requestMethod.toUpperCase() : parseMethod(rawMethod);
      break;
    }
  }
  if ('error' in url) return url;
  if (typeof method !== 'string') return method;
  const resource = resourceOf(flavour, headers);
  if (typeof resource !== 'string') return resource;
  return { target: { url, method, resource } };
}

/**
 * The rules' resource, from the raw header text (the parsed URL has already resolved dot segments and clamped a
 * `..` above the root), from the header the flavour reads; verify reads both, and when both are sent they must agree.
 */
function resourceOf(flavour: AuthzFlavour, headers: IncomingHttpHeaders): string | { error: string } {
  const original = flavour === 'forward-auth' ? undefined : singleHeader(headers, 'x-original-url');
  const forwarded = flavour === 'auth-request' ? undefined : singleHeader(headers, 'x-forwarded-uri');
  const fromOriginal = original === undefined ? undefined : canonicalResource(original);
  const fromForwarded = forwarded === undefined ? undefined : canonicalResource(forwarded);
  const resource = fromOriginal ?? fromForwarded;
  if (resource === undefined) return { error: 'missing target URL' };
  if (typeof resource !== 'string') return { error: `refused target path: ${resource.error}` };
  if (fromForwarded !== undefined && typeof fromForwarded !== 'string') return { error: `refused target path: ${fromForwarded.error}` };
  if (fromOriginal !== undefined && fromForwarded !== undefined && fromOriginal !== fromForwarded) return { error: 'X-Original-URL and X-Forwarded-Uri disagree' };
  return resource;
}

/**
 * Behind Traefik, the proxy sets X-Forwarded-* itself but passes any other client header through, so a client's own
 * X-Original-URL must not override them: when both are sent they must name the same URL.
 */
function verifyTarget(headers: IncomingHttpHeaders): URL | { error: string } {
  const original = singleHeader(headers, 'x-original-url');
  const forwardedSent = headers['x-forwarded-host'] !== undefined || headers['x-forwarded-uri'] !== undefined;
  if (original === undefined) return fromForwardedHeaders(headers);
  const url = parseTargetUrl(original);
  if ('error' in url || !forwardedSent) return url;
  const forwarded = fromForwardedHeaders(headers);
  if ('error' in forwarded) return forwarded;
  return forwarded.href === url.href ? url : { error: 'X-Original-URL and X-Forwarded-* disagree' };
}

/**
 * The client address for `networks` rules: the leftmost X-Forwarded-For entry (the shipped proxy configurations
 * overwrite that header), else the peer. A garbled header is an error, not a silent fallback to the peer.
 */
export function clientAddress(headers: IncomingHttpHeaders, peer: string | undefined): string | { error: string } {
  const forwarded = headers['x-forwarded-for'];
  if (forwarded !== undefined) {
    const first = (Array.isArray(forwarded) ? forwarded[0] ?? '' : forwarded).split(',')[0]!.trim();
    const address = first.startsWith('[') && first.includes(']') ? first.slice(1, first.indexOf(']')) : first;
    if (isIP(address) === 0) return { error: 'malformed X-Forwarded-For' };
    return normaliseAddress(address);
  }
  return normaliseAddress(peer ?? '');
}

/** `::ffff:10.0.0.1` is the IPv4 client 10.0.0.1 (dual-stack sockets report it that way). */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
