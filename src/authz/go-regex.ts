// Authelia's configurations are written in Go's regular-expression syntax, and Go matches them with RE2: in time
// linear in the input, whatever the pattern. Every operator regex (domain_regex, resources, query patterns) is
// therefore compiled with re2js, a port of RE2 that reads Go's syntax as Go does (`(?P<name>)`, `\Q...\E`, `\z`,
// scoped flags, ASCII-only `\d \s \w`) and refuses what Go refuses (lookaround, back-references) with Go's own
// messages. A visitor cannot make the gate backtrack: `^/api/(a+)+$` on any path costs what its length costs.
//
// No V8 RegExp is used for operator patterns, not even as a fast path: proving a pattern free of super-linear
// backtracking is not simple enough to trust, and re2js is fast enough for the hot path (bench/rules.ts).
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

class Re2Regex implements GoRegex {
  readonly groupNames: readonly string[];

  constructor(
    readonly source: string,
    private readonly compiled: RE2JS,
  ) {
    const named = compiled.namedGroups();
    this.groupNames = Object.keys(named).sort((a, b) => named[a]! - named[b]!);
  }

  test(text: string): boolean {
    return this.compiled.test(text);
  }

  exec(text: string): Readonly<Record<string, string | undefined>> | null {
    if (this.groupNames.length === 0) return this.compiled.test(text) ? NO_GROUPS : null;
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
export function compileGoRegex(pattern: string, options: { caseInsensitive?: boolean } = {}): GoRegex | { error: string } {
  try {
    return new Re2Regex(pattern, RE2JS.compile(pattern, options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0));
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    // re2js words its reasons as Go does ("error parsing regexp: invalid escape sequence: `\C`"): keep the reason.
    const reason = error.message.replace(/^error parsing regexp: /, '');
    return { error: `invalid regular expression '${pattern}': ${reason}` };
  }
}
