// Reads a query string as Go's url.ParseQuery does, since Authelia's query conditions read `URL.Query()`: so a
// rule's `query` criterion means here what it means under Authelia, including for odd query strings:
// - pairs are split on '&' only; a pair holding ';' is dropped (Go refuses ';' as a separator);
// - empty pairs are skipped; a pair without '=' is a key with the value '';
// - '+' is a space; a pair with a malformed escape ('%zz', a lone '%') is dropped, whole.
// Bytes that are not UTF-8 decode to U+FFFD (Go keeps them as bytes; no configured value can equal them either).

/** Each key's values, in order of appearance. */
export type GoQuery = ReadonlyMap<string, readonly string[]>;

const EMPTY: GoQuery = new Map();
const utf8 = new TextDecoder('utf-8');

const hexValue = (code: number): number =>
  code >= 48 && code <= 57
    ? code - 48
    : code >= 65 && code <= 70
      ? code - 55
      : code >= 97 && code <= 102
        ? code - 87
        : -1;

/** Go's QueryUnescape; undefined where Go answers an error. */
function queryUnescape(text: string): string | undefined {
  if (!text.includes('%')) return text.includes('+') ? text.replaceAll('+', ' ') : text;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 37 /* % */) {
      const high = i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
      const low = high >= 0 ? hexValue(text.charCodeAt(i + 2)) : -1;
      if (low < 0) return undefined;
      bytes.push(high * 16 + low);
      i += 2;
    } else if (code === 43 /* + */) {
      bytes.push(32);
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      // Not ASCII (the WHATWG parser would have encoded it, but a caller may not have): its UTF-8 bytes.
      const end = code >= 0xd800 && code <= 0xdbff ? i + 2 : i + 1;
      bytes.push(...encoder.encode(text.slice(i, end)));
      i = end - 1;
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

/** `search` as URL#search gives it: '' or '?' followed by the query string. */
export function parseGoQuery(search: string): GoQuery {
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return EMPTY;
  const values = new Map<string, string[]>();
  for (const pair of query.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    if (key === undefined) continue;
    const value = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (value === undefined) continue;
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}
