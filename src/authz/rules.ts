// The access-control rules engine (SPEC §3, Authelia's semantics): rules are compiled once, at start, into plain
// matchers that the authz hot path only reads. `evaluate` walks the rules top to bottom and stops at the first
// whose every criterion matches, skipping the rules whose domain cannot match the host (rules-index.ts). The
// decisions are made in advance and the per-request scratch state is reused (evaluation is synchronous, so it is
// never shared by two requests at once); what a request needs is worked out once and only when a rule asks (its
// query string, its client address). Regexes run on RE2 (config/go-regex.ts).
//
// Each criterion answers HIT, MISS, or MAY: "matches if the user turns out to be the right one", which only an
// anonymous request can get, from `subject`, a `{user}`/`{group}` domain or a User/Group regex group. A rule with
// no MISS and some MAY decides an anonymous request with `subjectRequired`: the caller sends the user to sign in,
// then evaluates again with the real subject, for whom every criterion is a plain HIT or MISS.
//
// Read top to bottom: rules-request.ts (the question, the answer, the per-request state), rules-subject.ts (names
// and regex groups against the subject), rules-criteria.ts (the six criteria), rules-compile.ts (one rule),
// rules-index.ts (which rules can match a host), then this file: the evaluation loop of the hot path, which visits
// only the rules the index gives for the host, in their configured order.
//
// Choices where Authelia's documentation is silent (documented here, tested in test/unit/authz/rules.test.ts):
// - `resources` match the canonical path + query of resource-path.ts: decoded, dot segments resolved, as Authelia.
// - Query conditions read the query string as Go's url.Query() does, as Authelia (go-query.ts): the first value of
//   a key counts, an absent key's value is '' (so `pattern` on an absent key is matched against '').
// - User and group names compare case-insensitively, in `subject` as in templates and regex groups.
// - An `oauth2:client:` subject is refused by validation (config/access-control-syntax.ts): Gatehouse has no
//   OAuth 2.0 clients.
import { accessControlProblems, namedNetworkTexts, NO_DEFINITIONS } from '../config/access-control-syntax.js';
import { parseNetwork } from '../config/networks.js';
import { ConfigError } from '../config/problems.js';
import type { AccessControlConfig, DefinitionsConfig, Policy } from '../config/schema.js';
import { compileRule, valid, type CompiledRule } from './rules-compile.js';
import { END, RulesIndex } from './rules-index.js';
import {
  MAY,
  MISS,
  RequestState,
  type AccessDecision,
  type AccessRequest,
  type CriterionKind,
  type Match,
} from './rules-request.js';

export interface CompiledAccessControl {
  evaluate(request: AccessRequest): AccessDecision;
  readonly ruleCount: number;
}

const LEVELS = { bypass: 0, one_factor: 1, two_factor: 2, deny: 'deny' } as const;

/** The authentication level a policy needs: bypass 0, one_factor 1, two_factor 2, or 'deny'. */
export const policyLevel = (policy: Policy): 0 | 1 | 2 | 'deny' => LEVELS[policy];

/**
 * Step-up (a rule's `max_auth_age`): whether a session's second factor is too old for the decision, so that the
 * request is answered as if the factor were missing. No max age: never. No recorded key use: too old (fail closed).
 */
export function secondFactorTooOld(
  decision: Pick<AccessDecision, 'maxAuthAge'>,
  secondFactorAt: number | undefined,
  now: number,
): boolean {
  const maxAge = decision.maxAuthAge;
  if (maxAge === undefined) return false;
  return secondFactorAt === undefined || now - secondFactorAt > maxAge * 1000;
}

/** One rule's answer per criterion it has (absent criteria are left out), for `check-policy`. */
export interface RuleInspection {
  position: number;
  policy: Policy;
  criteria: Partial<Record<CriterionKind, Match>>;
}

/** The rule's decision if every criterion matches (HIT, or MAY for an anonymous request), else undefined. */
function decide(rule: CompiledRule, state: RequestState): AccessDecision | undefined {
  let potential = false;
  for (const criterion of rule.criteria) {
    const match = criterion.test(state);
    if (match === MISS) return undefined;
    if (match === MAY) potential = true;
  }
  return potential ? rule.potential : rule.matched;
}

export class AccessControl implements CompiledAccessControl {
  private readonly state = new RequestState();
  private readonly defaultDecision: AccessDecision;
  private readonly index: RulesIndex;

  constructor(
    private readonly rules: readonly CompiledRule[],
    defaultPolicy: Policy,
  ) {
    this.defaultDecision = Object.freeze({ policy: defaultPolicy, rule: 0, subjectRequired: false });
    this.index = new RulesIndex(rules);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  evaluate(request: AccessRequest): AccessDecision {
    const state = this.state;
    state.load(request);
    try {
      const { exact, bySuffix } = this.index.candidates(state.host);
      const anyHost = this.index.anyHost;
      // Merges the three ascending lists (each ends in END) into the rules in their configured order, each once
      // (a rule naming a host and one of its suffixes is in two lists).
      let e = 0;
      let s = 0;
      let a = 0;
      for (;;) {
        const x = exact[e]!;
        const y = bySuffix[s]!;
        const z = anyHost[a]!;
        const next = Math.min(x, y, z);
        if (next === END) return this.defaultDecision;
        if (x === next) e++;
        if (y === next) s++;
        if (z === next) a++;
        const decision = decide(this.rules[next]!, state);
        if (decision !== undefined) return decision;
      }
    } finally {
      state.clear();
    }
  }

  /** Every rule's answer on every criterion it has (for `check-policy`), with the same matchers as `evaluate`. */
  inspect(request: AccessRequest): RuleInspection[] {
    const state = this.state;
    state.load(request);
    try {
      return this.rules.map((rule) => {
        const criteria: Partial<Record<CriterionKind, Match>> = {};
        for (const criterion of rule.criteria) criteria[criterion.kind] = criterion.test(state);
        return { position: rule.position, policy: rule.policy, criteria };
      });
    } finally {
      state.clear();
    }
  }
}

/**
 * Compiles the access_control section, with the named networks of `definitions`; throws ConfigError listing every
 * problem if it is not valid.
 */
export function compileAccessControl(
  config: AccessControlConfig,
  definitions: DefinitionsConfig = NO_DEFINITIONS,
): AccessControl {
  const problems = accessControlProblems(config, definitions);
  if (problems.length > 0) throw new ConfigError(problems);
  const namedNetworks = new Map(
    [...namedNetworkTexts(config, definitions)].map(([name, texts]) => [
      name,
      texts.map((text) => valid(parseNetwork(text))),
    ]),
  );
  return new AccessControl(
    config.rules.map((rule, index) => compileRule(rule, index + 1, namedNetworks)),
    config.default_policy,
  );
}
