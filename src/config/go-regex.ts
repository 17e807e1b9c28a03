// Authelia's configurations are written in Go's regular-expression syntax, and Go matches them with RE2: in time
// linear in the input, whatever the pattern. Every operator regex (domain_regex, resources, query patterns) is
// therefore compiled with re2js, a port of RE2 that reads Go's syntax as Go does (`(?P<name>)`, `\Q...\E`, `\z`,
// scoped flags, ASCII-only `\d \s \w`) and refuses what Go refuses (lookaround, back-references) with Go's own
// messages. A visitor cannot make the gate backtrack: `^/api/(a+)+$` on any path costs what its length costs.
//
// No V8 RegExp is used for operator patterns, not even as a fast path: proving a pattern free of super-linear
// backtracking is not simple enough to trust. The one shortcut is a literal-prefix check (anchoredPrefix): most
// rules' patterns start `^/literal` and most texts do not start that way, which re2js takes ~10x longer to find.
import { RE2JS, RE2JSException } from 're2js';

export interface GoRegex {
  /** The pattern as written. */
  readonly source: string;
  /** Names of the named capture groups, as written in the pattern. */
  readonly groupNames: readonly string[];
  /** Whether the pattern matches anywhere in `text` (Go's MatchString). */
  test(text: string): boolean;
  /**
   * The named groups of the leftmost-first match (Go's FindStringSubmatch), `undefined` for a group that took no
   * part in it; null when the pattern does not match.
   */
  exec(text: string): Readonly<Record<string, string | undefined>> | null;
}

const NO_GROUPS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** Characters that stand for themselves in a Go pattern (outside a class) and have no case-folding surprises. */
const PLAIN = /^[A-Za-z0-9/_=&:-]$/;

/**
 * Text every match must start the input with: the literal characters right after a leading `^`, or '' when that
 * cannot be known simply. Sure because: `^` (flags can only change what follows them) is the start of the text;
 * a pattern with `|` anywhere is left alone (an alternative may not start with the prefix); the run stops at the
 * first character that is not plain, and a quantifier there makes the last character optional, so it is dropped.
 */
export function anchoredPrefix(pattern: string): string {
  if (!pattern.startsWith('^') || pattern.includes('|')) return '';
  let end = 1;
  while (end < pattern.length && PLAIN.test(pattern[end]!)) end++;
  const next = pattern[end];
  if (next === '*' || next === '+' || next === '?' || next === '{') end--;
  return end > 1 ? pattern.slice(1, end) : '';
}

const ASCII_LOWER = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);

class Re2Regex implements GoRegex {
  readonly groupNames: readonly string[];
  private readonly prefix: string;

  constructor(
    readonly source: string,
    private readonly compiled: RE2JS,
    private readonly caseInsensitive: boolean,
  ) {
    const named = compiled.namedGroups();
    this.groupNames = Object.keys(named).sort((a, b) => named[a]! - named[b]!);
    const prefix = anchoredPrefix(source);
    this.prefix = caseInsensitive ? prefix.toLowerCase() : prefix;
  }

  /**
   * False when the text surely does not start with the prefix; true when it does or when unsure (a non-ASCII
   * character under case-insensitivity: Go folds 'k' with the Kelvin sign and 's' with the long s).
   */
  private mayMatch(text: string): boolean {
    const prefix = this.prefix;
    if (prefix.length === 0) return true;
    if (text.length < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) {
      const code = text.charCodeAt(i);
      if (code === prefix.charCodeAt(i)) continue;
      if (!this.caseInsensitive) return false;
      if (code >= 0x80) return true;
      if (ASCII_LOWER(code) !== prefix.charCodeAt(i)) return false;
    }
    return true;
  }

  test(text: string): boolean {
    return this.mayMatch(text) && this.compiled.test(text);
  }

  exec(text: string): Readonly<Record<string, string | undefined>> | null {
    // The boolean test is much cheaper than extracting groups, and most texts do not match.
    if (!this.test(text)) return null;
    if (this.groupNames.length === 0) return NO_GROUPS;
    const matcher = this.compiled.matcher(text);
    if (!matcher.find()) return null;
    const groups: Record<string, string | undefined> = {};
    for (const name of this.groupNames) groups[name] = matcher.group(name) ?? undefined;
    return groups;
  }
}

/**
 * Compiles a Go (RE2) pattern, or says why Go would refuse it. `caseInsensitive` is Go's `(?i)` over the whole
 * pattern (used for host names, which are case-insensitive).
 */
export function compileGoRegex(
  pattern: string,
  options: { caseInsensitive?: boolean } = {},
): GoRegex | { error: string } {
  try {
    const caseInsensitive = options.caseInsensitive === true;
    return new Re2Regex(pattern, RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0), caseInsensitive);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    // re2js words its reasons as Go does ("error parsing regexp: invalid escape sequence: `\C`"): keep the reason.
    const reason = error.message.replace(/^error parsing regexp: /, '');
    return { error: `invalid regular expression '${pattern}': ${reason}` };
  }
}
