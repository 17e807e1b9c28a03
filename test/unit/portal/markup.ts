// A minimal reader for the portal's own markup in view tests: attribute values are always double-quoted and
// escaped by the html tag, so a regular expression is enough to list elements, their attributes and their text.
export type Element = { attrs: Record<string, string>; text: string };

export const HOSTILE = '"><script>alert(1)</script>';

export function attributesOf(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(/([^\s=/>]+)(?:="([^"]*)")?/g)) attrs[m[1]!] = m[2] ?? '';
  return attrs;
}

export const textOf = (markup: string): string =>
  markup
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

export function elements(doc: string, tag: string): Element[] {
  const pattern =
    tag === 'input'
      ? new RegExp(`<${tag}\\b([^>]*)>`, 'g')
      : new RegExp(`<${tag}\\b([^>]*)>([\\s\\S]*?)</${tag}>`, 'g');
  return [...doc.matchAll(pattern)].map((m) => ({ attrs: attributesOf(m[1] ?? ''), text: textOf(m[2] ?? '') }));
}
