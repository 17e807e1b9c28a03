// A tagged template that escapes every interpolated value, so page code cannot forget to.
// Only markup made by `html` itself passes through unescaped; the class is not exported as a value,
// so no other module can wrap an arbitrary string and smuggle it past the escaping.

class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}
export type { SafeHtml };

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use both between tags and inside a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Values a template may hold: `null`, `undefined` and `false` render nothing (handy for `cond && html`...``). */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
