// The path + query that `resources` rules are matched against: the path the application behind the proxy will act
// on, not the text the client chose to send. Like Authelia (NewObject → URLPathFullClean), the path is
// percent-decoded (`%2F` included) and its dot segments are resolved, and the raw query is appended after a `?`.
//
// Where upstreams disagree about what a path means, there is no single right answer to match a rule against, so the
// path is refused (the endpoint answers 400) instead of guessed:
// - control bytes (raw or encoded), a backslash (raw or encoded: Windows and some frameworks treat it as a slash),
//   fullwidth `.`, `/`, `\` (Unicode-normalising upstreams fold them), raw non-ASCII (proxies and browsers encode it);
// - invalid percent-encoding, bytes that are not UTF-8 after decoding (`%c0%af`, an overlong `/`);
// - a `%` followed by two hex digits after decoding (double encoding: `%252e` is `.` to an upstream decoding twice);
// - a `..` that would climb above the root (Authelia clamps it; an upstream might serve a file outside its root);
// - a `..` right after an empty segment (`/a//../b` is `/b` to path.Clean and nginx, `/a/b` to RFC 3986 and WHATWG);
// - a path ending in a dot segment (`/a/b/..` is `/a` to path.Clean, `/a/` to RFC 3986);
// - a `.` or `..` carrying a `;` parameter (`..;/` is `..` to Tomcat and friends).
// Empty segments collapse as in Authelia (`/a//b` matches as `/a/b`); a trailing slash is kept.
//
// The query is Authelia's raw query, except that percent-encoded unreserved characters are decoded (`%61` → `a`):
// RFC 3986 §6.2.2.2 says both spellings are the same URL, so `?%61dmin` cannot slip past a rule written for
// `?admin`, and no URL a browser sends (browsers never encode unreserved characters) is matched differently.

export type CanonicalResource = string | { error: string };

const HEX = /^[0-9A-Fa-f]{2}$/;
const ENCODED_UNRESERVED = /%(2[de]|3\d|4[1-9a-f]|5[\da]|5f|6[1-9a-f]|7[\da]|7e)/gi;
const DOUBLE_ENCODED = /%[0-9A-Fa-f]{2}/;
// C0 and C1 controls, DEL, and the fullwidth full stop, solidus and reverse solidus.
const REFUSED_AFTER_DECODING = /[\u0000-\u001f\u007f-\u009f\\\uff0e\uff0f\uff3c]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The resource string for `raw`: an absolute http(s) URL (`X-Original-URL`, check-policy's `--url`) or an
 * origin-form request target (`X-Forwarded-Uri`), exactly as received.
 */
export function canonicalResource(raw: string): CanonicalResource {
  let rest = raw;
  const scheme = /^https?:\/\/[^/?#]*/i.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    if (!rest.startsWith('/')) rest = `/${rest}`; // `https://host` and `https://host?q` have the root path
  }
  if (rest.includes('#')) return { error: 'target URL has a fragment' };
  if (!rest.startsWith('/')) return { error: 'target path must start with /' };
  const mark = rest.indexOf('?');
  const rawPath = mark === -1 ? rest : rest.slice(0, mark);
  const rawQuery = mark === -1 ? '' : rest.slice(mark + 1);

  const path = decodePath(rawPath);
  if (typeof path !== 'string') return path;
  // Without `/.` or `//` there is no dot segment and no empty one: nothing to resolve (the common case).
  const clean = path.includes('/.') || path.includes('//') ? removeDotSegments(path) : path;
  if (typeof clean !== 'string') return clean;
  return rawQuery === ''
    ? clean
    : `${clean}?${rawQuery.includes('%') ? rawQuery.replace(ENCODED_UNRESERVED, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : rawQuery}`;
}

function decodePath(rawPath: string): string | { error: string } {
  // Raw text first: only printable ASCII, no backslash (a proxy forwards the request line as the client sent it).
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return { error: 'control, space or non-ASCII character in path' };
    if (code === 0x5c) return { error: 'backslash in path' };
  }
  if (!rawPath.includes('%')) return rawPath;
  const bytes: number[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (code !== 0x25) {
      bytes.push(code);
      continue;
    }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { error: 'invalid percent-encoding in path' };
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(bytes));
  } catch {
    return { error: 'path is not UTF-8 once decoded' };
  }
  if (REFUSED_AFTER_DECODING.test(decoded)) return { error: 'encoded control character or backslash in path' };
  if (DOUBLE_ENCODED.test(decoded)) return { error: 'double percent-encoding in path' };
  return decoded;
}

function removeDotSegments(path: string): string | { error: string } {
  const segments = path.split('/');
  const kept: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    if (segment === '.' || segment === '..') {
      if (i === last) return { error: 'path ends in a dot segment' };
      if (segment === '.') continue;
      if (segments[i - 1] === '' && i > 1) return { error: 'dot-dot segment after an empty segment' };
      if (kept.length === 0) return { error: 'path climbs above the root' };
      kept.pop();
      continue;
    }
    if (/^\.\.?;/.test(segment)) return { error: 'dot segment with parameters in path' };
    if (segment !== '') kept.push(segment);
  }
  if (kept.length === 0) return '/';
  return `/${kept.join('/')}${segments[last] === '' ? '/' : ''}`;
}
