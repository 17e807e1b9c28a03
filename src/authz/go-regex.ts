// Authelia's configurations are written in Go's regular-expression syntax (RE2). This module translates such a
// pattern into an equivalent JavaScript RegExp (always with the `u` flag, so `.` and classes work on code points as
// Go's do), and refuses, with a reason, what Go accepts but JavaScript cannot express exactly, and what Go itself
// refuses (lookaround, back-references), so a pattern means the same thing here as it does under Authelia.
//
// Translated exactly rather than passed through:
// - `(?P<name>re)` named groups; `\Q...\E` literal text; `\A`, `\z`; octal and `\x{...}` escapes;
// - `\d \s \w` and `[[:alpha:]]` classes, which are ASCII-only in Go (JS `\s` also matches Unicode spaces);
// - `.`, `^`, `$`, whose JS meaning differs around `\r` and U+2028 (Go only knows `\n` as a line end);
// - the `s`, `m` and `U` (ungreedy) flags, anywhere and scoped; `i` only when it covers the whole pattern,
//   because Node 20's RegExp has no scoped modifiers.

export interface GoRegex {
  readonly regex: RegExp;
  /** Names of the named capture groups, as written in the pattern. */
  readonly groupNames: readonly string[];
}

/** Go caps `{n,m}` counts at 1000; so do we, so a pattern valid here is valid under Authelia. */
const MAX_REPEAT = 1000;
const MAX_CODE_POINT = 0x10ffff;

type Range = readonly [number, number];

const range = (from: string, to: string = from): Range => [from.codePointAt(0)!, to.codePointAt(0)!];
const DIGIT: Range[] = [range('0', '9')];
const WORD: Range[] = [range('0', '9'), range('A', 'Z'), range('_'), range('a', 'z')];
// Go's \s: \t \n \f \r and space; deliberately not \v, nor Unicode spaces.
const SPACE: Range[] = [range('\t', '\n'), range('\f', '\r'), range(' ')];

const POSIX_CLASSES: Readonly<Record<string, Range[]>> = {
  alnum: [range('0', '9'), range('A', 'Z'), range('a', 'z')],
  alpha: [range('A', 'Z'), range('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [range('\t'), range(' ')],
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [range('a', 'z')],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [range('\t', '\r'), range(' ')],
  upper: [range('A', 'Z')],
  word: WORD,
  xdigit: [range('0', '9'), range('A', 'F'), range('a', 'f')],
};

/** Ranges must be sorted and disjoint. */
function complement(ranges: readonly Range[]): Range[] {
  const result: Range[] = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) result.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return result;
}

const codePoint = (cp: number): string =>
  (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f
    ? String.fromCodePoint(cp)
    : `\\u{${cp.toString(16)}}`;

const rangesBody = (ranges: readonly Range[]): string =>
  ranges.map(([from, to]) => (from === to ? codePoint(from) : `${codePoint(from)}-${codePoint(to)}`)).join('');

class GoSyntaxError extends Error {}

const CASE_FLAG_PLACE = 'the (?i) flag is only supported for the whole pattern: put (?i) at its very start';

interface Flags {
  caseInsensitive: boolean;
  dotAll: boolean;
  multiLine: boolean;
  ungreedy: boolean;
}

/** A class member: one code point (may start a range) or a ready-made set. */
type ClassItem = { cp: number } | { set: string };

class Translator {
  private pos = 0;
  private out = '';
  private flags: Flags = { caseInsensitive: false, dotAll: false, multiLine: false, ungreedy: false };
  private readonly saved: Flags[] = [];
  private wholePatternCaseInsensitive = false;
  /** Group depth of a leading `(?i:...)`, which must then close at the very end of the pattern. */
  private caseInsensitiveScope = -1;
  readonly groupNames: string[] = [];

  constructor(private readonly src: string) {}

  translate(): { source: string; flags: string } {
    while (this.pos < this.src.length) this.atom();
    if (this.saved.length > 0) throw new GoSyntaxError('missing closing )');
    return { source: this.out, flags: this.wholePatternCaseInsensitive ? 'iu' : 'u' };
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private atom(): void {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '\\':
        return this.escapeOutsideClass();
      case '[':
        return this.characterClass();
      case '(':
        return this.groupOpen();
      case ')':
        if (this.saved.length === 0) throw new GoSyntaxError('unexpected )');
        if (this.saved.length === this.caseInsensitiveScope && this.pos < this.src.length) throw new GoSyntaxError(CASE_FLAG_PLACE);
        this.flags = this.saved.pop()!;
        this.out += ')';
        return;
      case '.':
        this.out += this.flags.dotAll ? '[\\s\\S]' : '[^\\n]';
        return;
      case '^':
        this.out += this.flags.multiLine ? '(?<![^\\n])' : '^';
        return;
      case '$':
        this.out += this.flags.multiLine ? '(?![^\\n])' : '$';
        return;
      case '*':
      case '+':
      case '?':
        this.out += c;
        return this.greediness();
      case '{':
        return this.braces();
      case '|':
        this.out += '|';
        return;
      default: {
        const cp = this.src.codePointAt(this.pos - 1)!;
        if (cp > 0xffff) this.pos++; // a character beyond the BMP is two UTF-16 units
        this.literal(cp);
      }
    }
  }

  private literal(cp: number): void {
    this.out += codePoint(cp);
  }

  /** After a quantifier: a trailing `?` makes it lazy; the U flag swaps lazy and greedy. */
  private greediness(): void {
    let lazy = false;
    if (this.peek() === '?') {
      this.pos++;
      lazy = true;
    }
    if (lazy !== this.flags.ungreedy) this.out += '?';
  }

  private braces(): void {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos - 1));
    if (!match) {
      // Go reads a `{` that does not start a repeat count as a literal; JS with `u` would refuse it.
      this.literal(0x7b);
      return;
    }
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? undefined : Number(match[3]);
    if (min > MAX_REPEAT || (max !== undefined && max > MAX_REPEAT)) {
      throw new GoSyntaxError(`repeat count ${match[0]} is larger than ${MAX_REPEAT}`);
    }
    if (max !== undefined && max < min) throw new GoSyntaxError(`invalid repeat count ${match[0]}`);
    this.pos += match[0].length - 1;
    this.out += match[0];
    this.greediness();
  }

  private groupOpen(): void {
    if (this.peek() !== '?') {
      this.pushGroup('(');
      return;
    }
    const rest = this.src.slice(this.pos + 1);
    if (/^(?:=|!|<=|<!)/.test(rest)) throw new GoSyntaxError('lookahead and lookbehind are not supported by Go regular expressions');
    const named = /^(?:P?<)([^>]*)>/.exec(rest);
    if (named) {
      const name = named[1]!;
      if (!/^\w+$/.test(name)) throw new GoSyntaxError(`invalid group name '${name}'`);
      if (this.groupNames.includes(name)) throw new GoSyntaxError(`duplicate group name '${name}'`);
      this.groupNames.push(name);
      this.pos += 1 + named[0].length;
      // Go allows names starting with a digit, JS does not; `$` cannot occur in a Go name, so no clash.
      this.pushGroup(`(?<${/^\d/.test(name) ? `$${name}` : name}>`);
      return;
    }
    if (rest.startsWith(':')) {
      this.pos += 2;
      this.pushGroup('(?:');
      return;
    }
    const flagGroup = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (!flagGroup || (flagGroup[1] === '' && !flagGroup[2]) || flagGroup[2] === '') {
      throw new GoSyntaxError(`unsupported group syntax '(?${rest.slice(0, 2)}'`);
    }
    const atPatternStart = this.pos === 1;
    this.pos += 1 + flagGroup[0].length;
    const scoped = flagGroup[3] === ':';
    if (scoped) this.pushGroup('(?:');
    this.applyFlags(flagGroup[1]!, flagGroup[2] ?? '', atPatternStart);
    if (scoped && this.wholePatternCaseInsensitive && this.caseInsensitiveScope < 0) this.caseInsensitiveScope = this.saved.length;
  }

  private pushGroup(opening: string): void {
    this.saved.push({ ...this.flags });
    this.out += opening;
  }

  private applyFlags(set: string, clear: string, atPatternStart: boolean): void {
    const change = (letters: string, on: boolean) => {
      for (const letter of letters) {
        if (letter === 'i') {
          if (on === this.flags.caseInsensitive) continue;
          if (!(on && atPatternStart)) {
            throw new GoSyntaxError(CASE_FLAG_PLACE);
          }
          this.wholePatternCaseInsensitive = true;
          this.flags.caseInsensitive = true;
        } else if (letter === 's') this.flags.dotAll = on;
        else if (letter === 'm') this.flags.multiLine = on;
        else this.flags.ungreedy = on;
      }
    };
    change(set, true);
    change(clear, false);
  }

  private escapeOutsideClass(): void {
    const c = this.src[this.pos];
    switch (c) {
      case 'A':
        this.pos++;
        this.out += '(?<![\\s\\S])';
        return;
      case 'z':
        this.pos++;
        this.out += '(?![\\s\\S])';
        return;
      case 'b':
      case 'B':
        this.pos++;
        this.out += `\\${c}`;
        return;
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos + 1);
        const text = this.src.slice(this.pos + 1, end < 0 ? undefined : end);
        for (const ch of text) this.literal(ch.codePointAt(0)!);
        this.pos = end < 0 ? this.src.length : end + 2;
        return;
      }
    }
    const item = this.escape();
    this.out += 'cp' in item ? codePoint(item.cp) : `[${item.set}]`;
  }

  /** An escape valid both inside and outside a class; `pos` is just after the backslash. */
  private escape(): ClassItem {
    const c = this.src[this.pos++];
    if (c === undefined) throw new GoSyntaxError('trailing backslash at end of pattern');
    switch (c) {
      case 'a':
        return { cp: 7 };
      case 'f':
        return { cp: 12 };
      case 't':
        return { cp: 9 };
      case 'n':
        return { cp: 10 };
      case 'r':
        return { cp: 13 };
      case 'v':
        return { cp: 11 };
      case 'd':
        return { set: rangesBody(DIGIT) };
      case 'D':
        return { set: rangesBody(complement(DIGIT)) };
      case 's':
        return { set: rangesBody(SPACE) };
      case 'S':
        return { set: rangesBody(complement(SPACE)) };
      case 'w':
        return { set: rangesBody(WORD) };
      case 'W':
        return { set: rangesBody(complement(WORD)) };
      case 'x':
        return { cp: this.hexEscape() };
      case 'p':
      case 'P':
        return { set: this.unicodeClass(c === 'P') };
    }
    if (c >= '0' && c <= '7') {
      // Go: \0 and \1-\7 followed by another octal digit start an octal code (up to 3 digits); a lone \1-\9
      // would be a back-reference, which Go does not support.
      const octal = /^[0-7]{1,3}/.exec(this.src.slice(this.pos - 1))![0];
      if (c !== '0' && octal.length === 1) throw new GoSyntaxError(`back-references like \\${c} are not supported by Go regular expressions`);
      this.pos += octal.length - 1;
      return { cp: parseInt(octal, 8) };
    }
    const cp = c.codePointAt(0)!;
    // Go: an escaped ASCII character that is not a letter or digit stands for itself.
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return { cp };
    throw new GoSyntaxError(`invalid escape \\${c}`);
  }

  private hexEscape(): number {
    const braced = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.pos));
    const plain = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.pos));
    const digits = braced ? braced[1]! : plain?.[0];
    if (digits === undefined) throw new GoSyntaxError('invalid \\x escape: expected two hex digits or \\x{...}');
    const value = parseInt(digits, 16);
    if (digits.length > 8 || value > MAX_CODE_POINT) throw new GoSyntaxError(`\\x{${digits}} is beyond the last Unicode code point`);
    this.pos += braced ? braced[0].length : 2;
    return value;
  }

  private unicodeClass(negatedByLetter: boolean): string {
    let name: string;
    const braced = /^\{(\^?)([A-Za-z_]+)\}/.exec(this.src.slice(this.pos));
    let negated = negatedByLetter;
    if (braced) {
      name = braced[2]!;
      if (braced[1]) negated = !negated;
      this.pos += braced[0].length;
    } else {
      const letter = this.src[this.pos];
      if (letter === undefined || !/[A-Za-z]/.test(letter)) throw new GoSyntaxError('invalid \\p escape: expected \\pL or \\p{Name}');
      name = letter;
      this.pos++;
    }
    // Go's names are general categories (L, Lu, ...), `Any`, or scripts; JS needs `Script=` for the latter.
    const jsName = name.length <= 2 || name === 'Any' ? name : `Script=${name}`;
    const candidate = `\\${negated ? 'P' : 'p'}{${jsName}}`;
    try {
      new RegExp(candidate, 'u');
    } catch {
      throw new GoSyntaxError(`unknown Unicode class \\p{${name}}`);
    }
    return candidate;
  }

  private characterClass(): void {
    let body = '';
    if (this.peek() === '^') {
      body += '^';
      this.pos++;
    }
    let first = true;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) throw new GoSyntaxError('missing closing ]');
      // Go: a `]` right after `[` or `[^` is a literal; JS would read `[]` as an empty class.
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const item = this.classItem();
      if ('set' in item) {
        body += item.set;
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const end = this.classItem();
        if (!('cp' in end) || end.cp < item.cp) throw new GoSyntaxError('invalid character class range');
        body += `${codePoint(item.cp)}-${codePoint(end.cp)}`;
      } else {
        body += codePoint(item.cp);
      }
    }
    this.out += `[${body}]`;
  }

  private classItem(): ClassItem {
    const rest = this.src.slice(this.pos);
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(rest);
    if (posix) {
      const ranges = POSIX_CLASSES[posix[2]!];
      if (!ranges) throw new GoSyntaxError(`unknown POSIX class [:${posix[2]}:]`);
      this.pos += posix[0].length;
      return { set: rangesBody(posix[1] ? complement(ranges) : ranges) };
    }
    if (rest[0] === '\\') {
      this.pos++;
      return this.escape();
    }
    const cp = rest.codePointAt(0)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return { cp };
  }
}

/**
 * Compiles a Go (RE2) pattern into a JS RegExp with the same meaning, or says why it cannot.
 * `caseInsensitive` adds the `i` flag (used for host names, which are case-insensitive).
 */
export function compileGoRegex(pattern: string, options: { caseInsensitive?: boolean } = {}): GoRegex | { error: string } {
  const translator = new Translator(pattern);
  let translated: { source: string; flags: string };
  try {
    translated = translator.translate();
  } catch (error) {
    if (error instanceof GoSyntaxError) return { error: `invalid regular expression '${pattern}': ${error.message}` };
    throw error;
  }
  const flags = options.caseInsensitive && !translated.flags.includes('i') ? `i${translated.flags}` : translated.flags;
  try {
    return { regex: new RegExp(translated.source, flags), groupNames: translator.groupNames };
  } catch (error) {
    // V8's message repeats the translated source, which would only confuse: keep the reason after the last colon.
    const reason = String((error as Error).message).split(': ').pop() ?? 'invalid';
    return { error: `invalid regular expression '${pattern}': ${reason.toLowerCase()}` };
  }
}
