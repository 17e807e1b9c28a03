// Turns one rule of the configuration into its criteria, cheapest and most selective first, with its two possible
// decisions made in advance. The syntax was checked by validation (config/access-control-syntax.ts), whose parsers
// are used here too: what validates is exactly what compiles.
import {
  parseDomainPattern,
  type DomainPattern,
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
  /** Which hosts the domain criterion can match at all, for the rules index (rules-index.ts). */
  readonly reach: DomainReach;
}

/**
 * The hosts a rule's domain criterion can match, as the rules index files them: `exact` hosts; `suffixes` such as
 * `.example.com`, from `*.example.com` and from the templates `{user}.example.com` and `{group}-app.example.com`
 * (whatever the template stands for, the host ends with the part from the suffix's first dot on); `anyHost` when a
 * `domain_regex` could match any host. A host outside all three makes the domain criterion MISS.
 */
export interface DomainReach {
  readonly exact: readonly string[];
  readonly suffixes: readonly string[];
  readonly anyHost: boolean;
}

function domainReach(domains: readonly DomainPattern[], regexCount: number): DomainReach {
  const exact: string[] = [];
  const suffixes: string[] = [];
  for (const domain of domains) {
    if (domain.kind === 'exact') exact.push(domain.host);
    // A template's suffix is the rest of its first label (maybe empty), then a dot and the domain.
    else suffixes.push(domain.kind === 'wildcard' ? domain.suffix : domain.suffix.slice(domain.suffix.indexOf('.')));
  }
  return Object.freeze({
    exact: Object.freeze([...new Set(exact)]),
    suffixes: Object.freeze([...new Set(suffixes)]),
    anyHost: regexCount > 0,
  });
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
    Object.freeze(
      rule.max_auth_age === undefined
        ? { policy: rule.policy, rule: position, subjectRequired }
        : { policy: rule.policy, rule: position, subjectRequired, maxAuthAge: rule.max_auth_age },
    );
  return {
    position,
    policy: rule.policy,
    criteria,
    matched: decision(false),
    potential: decision(true),
    reach: domainReach(domains, domainRegexes.length),
  };
}
