// The rules index (issue 10: going from 50 to 1,000 rules must cost less than 5% of the throughput): for a request's
// host, the rules whose domain criterion can match it, so evaluation visits those and no other. Built once, at
// start, from each rule's reach (rules-compile.ts), and only read afterwards.
//
// A rule can match a host through an exact domain (a Map from host to rules), a wildcard or a template (a Map from
// suffix to rules: the host ends with it), or a domain_regex (no key can say which hosts: such rules are visited for
// every host). A host is looked up once among the exact domains, then by its suffixes from the longest; the longest
// suffix that some rule names stands for every shorter one too (its chain is merged at start). So a request gets
// three lists, each in ascending rule order, and evaluation merges them as it goes: first match wins, in the
// configured order, exactly as a walk over every rule (Authelia's semantics), because the rules left out would all
// have missed on their domain.
//
// The lists are Int32Arrays of rule indices ending in END, so the merge needs no bounds checks and makes no garbage;
// the memory is linear in the rules (an exact host holds its own rules; a suffix chain is shared).
import type { CompiledRule } from './rules-compile.js';

/** Ends every list: greater than any rule index. */
export const END = 0x7fffffff;

/** Ascending rule indices (0-based), then END. */
export type RuleIndices = Int32Array;

/** What the index gives for a host: the rules naming it exactly, and those whose suffixes it ends with. */
export interface HostCandidates {
  readonly exact: RuleIndices;
  readonly bySuffix: RuleIndices;
}

const sealed = (indices: Iterable<number>): RuleIndices =>
  Int32Array.from([...new Set(indices)].sort((a, b) => a - b).concat(END));

const NONE: HostCandidates = Object.freeze({ exact: sealed([]), bySuffix: sealed([]) });

/** The suffixes of a host that start at a dot (`.b.example.com`, `.example.com`, `.com`), longest first. */
function* dotSuffixes(host: string): Generator<string> {
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) yield host.slice(dot);
}

export class RulesIndex {
  /** The rules with a domain_regex, visited for every host. */
  readonly anyHost: RuleIndices;
  private readonly byHost = new Map<string, HostCandidates>();
  private readonly bySuffix = new Map<string, HostCandidates>();

  constructor(rules: readonly CompiledRule[]) {
    const exact = new Map<string, number[]>();
    const suffixed = new Map<string, number[]>();
    const anyHost: number[] = [];
    const file = (map: Map<string, number[]>, key: string, index: number) => {
      const list = map.get(key);
      if (list === undefined) map.set(key, [index]);
      else list.push(index);
    };
    rules.forEach((rule, index) => {
      // A rule that may match any host is visited for every host: filing it elsewhere too would add nothing.
      if (rule.reach.anyHost) anyHost.push(index);
      else {
        for (const host of rule.reach.exact) file(exact, host, index);
        for (const suffix of rule.reach.suffixes) file(suffixed, suffix, index);
      }
    });
    this.anyHost = sealed(anyHost);
    // A suffix's chain: its own rules and those of every shorter suffix some rule names (all of them match a host
    // that ends with it). Every suffix starts with a dot, so dotSuffixes yields the suffix itself first.
    for (const suffix of suffixed.keys()) {
      const chain = [...dotSuffixes(suffix)].flatMap((shorter) => suffixed.get(shorter) ?? []);
      this.bySuffix.set(suffix, Object.freeze({ exact: NONE.exact, bySuffix: sealed(chain) }));
    }
    for (const [host, indices] of exact) {
      const bySuffix = this.suffixCandidates(host).bySuffix;
      this.byHost.set(host, Object.freeze({ exact: sealed(indices), bySuffix }));
    }
  }

  /** The rules that can match `host` (lower case, as RequestState holds it), besides `anyHost`. */
  candidates(host: string): HostCandidates {
    return this.byHost.get(host) ?? this.suffixCandidates(host);
  }

  private suffixCandidates(host: string): HostCandidates {
    // Not dotSuffixes: a generator on the hot path would cost an object per request.
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const found = this.bySuffix.get(host.slice(dot));
      if (found !== undefined) return found;
    }
    return NONE;
  }
}
