// Turns one rule of the configuration into its criteria, cheapest and most selective first, with its two possible
// decisions made in advance. The syntax was checked by validation (config/access-control-syntax.ts), whose parsers
// are used here too: what validates is exactly what compiles.
import {
  parseDomainPattern,
  parseDomainRegex,
  parseResourceRegex,
  parseRuleNetwork,
  parseSubjectTerm,
  queryOperator,
} from '../config/access-control-syntax.js';
import { compileGoRegex } from '../config/go-regex.js';
import type { Network } from '../config/networks.js';
import type { Policy, RuleConfig } from '../config/schema.js';
import {
  domainCriterion,
  methodCriterion,
  networkCriterion,
  queryCriterion,
  resourceCriterion,
  subjectCriterion,
  type QueryTest,
  type SubjectBranch,
} from './rules-criteria.js';
import type { AccessDecision, Criterion } from './rules-request.js';

/** Unwraps a parse that validation has already vouched for. */
export function valid<T extends object>(parsed: T | { error: string }): T {
  if ('error' in parsed) throw new Error(`access control: ${parsed.error}`);
  return parsed;
}

export interface CompiledRule {
  readonly position: number;
  readonly policy: Policy;
  readonly criteria: readonly Criterion[];
  readonly matched: AccessDecision;
  readonly potential: AccessDecision;
  /** The hosts, when the domain criterion is nothing but exact hosts (see RulesByHost). */
  readonly exactHosts: readonly string[] | undefined;
}

export function compileRule(
  rule: RuleConfig,
  position: number,
  namedNetworks: ReadonlyMap<string, readonly Network[]>,
): CompiledRule {
  // Cheapest and most selective first: the order does not change the outcome, only how soon a MISS is found.
  const domains = (rule.domain ?? []).map((text) => valid(parseDomainPattern(text)));
  const domainRegexes = (rule.domain_regex ?? []).map((text) => valid(parseDomainRegex(text)));
  const criteria: Criterion[] = [domainCriterion(domains, domainRegexes)];
  if (rule.methods) criteria.push(methodCriterion(rule.methods));
  if (rule.networks) {
    const names = new Set(namedNetworks.keys());
    const networks = rule.networks.flatMap((text) => {
      const entry = valid(parseRuleNetwork(text, names));
      return 'network' in entry ? [entry.network] : namedNetworks.get(entry.name)!;
    });
    criteria.push(networkCriterion(networks));
  }
  if (rule.resources) criteria.push(resourceCriterion(rule.resources.map((text) => valid(parseResourceRegex(text)))));
  if (rule.query) {
    criteria.push(
      queryCriterion(
        rule.query.map((branch) =>
          branch.map((matcher): QueryTest => {
            const operator = queryOperator(matcher);
            const value = matcher.value ?? '';
            const regex =
              operator === 'pattern' || operator === 'not pattern' ? valid(compileGoRegex(value)) : undefined;
            return { operator, key: matcher.key, value, regex };
          }),
        ),
      ),
    );
  }
  if (rule.subject) {
    const branches: SubjectBranch[] = [];
    for (const terms of rule.subject) {
      const parsed = terms.map((text) => valid(parseSubjectTerm(text)));
      branches.push({
        users: parsed.flatMap((term) => (term.kind === 'user' ? [term.name] : [])),
        groups: parsed.flatMap((term) => (term.kind === 'group' ? [term.name] : [])),
      });
    }
    criteria.push(subjectCriterion(branches));
  }
  const decision = (subjectRequired: boolean): AccessDecision =>
    Object.freeze({ policy: rule.policy, rule: position, subjectRequired });
  const exactHosts = domains.flatMap((domain) => (domain.kind === 'exact' ? [domain.host] : []));
  return {
    position,
    policy: rule.policy,
    criteria,
    matched: decision(false),
    potential: decision(true),
    exactHosts: domainRegexes.length === 0 && exactHosts.length === domains.length ? exactHosts : undefined,
  };
}
