// A lint Authelia lacks (issue 8): a rule restricted to some users (`subject`) does not keep anyone else out by
// itself. A request it does not match falls through to the rules below it, and a later rule with no subject that
// covers the same resource hands it to everyone (`group:admins` two_factor on admin.example.com, then
// `*.example.com` one_factor: anyone with a password gets admin.example.com). `validate-config` and `serve` warn.
//
// Conservative by design (a warning must never be noise): the later rule must provably match every request the
// restricted rule matches for at least one of its domains, apart from the subject:
//  - the restricted rule R has a subject and a policy other than deny (a subject-restricted deny is an exclusion);
//  - the later rule L has no subject and no `{user}`/`{group}` domain, and its policy is not deny;
//  - L covers one of R's plain domains: the same host, or a wildcard `*.s` over it (hosts strictly below s); R's `{user}`/`{group}` domains and domain regexes are never reasoned about;
//  - every other criterion of L is absent or no narrower than R's: resources and query equal, methods and networks
//    a superset of R's (written values compared as text: no regex or CIDR reasoning);
//  - L is the first such covering rule without a subject after R: one in between that covers the domain as well
//    (a deny for everyone, typically) answers first, so nothing is reported.
// Not linted: `default_policy` other than deny (non-members of the subject then get the default policy).
import type { AccessControlConfig, RuleConfig } from './schema.js';
import { joinKeyPath } from './problems.js';
import { parseDomainPattern } from './access-control-syntax.js';

type Pattern = ReturnType<typeof parseDomainPattern>;

const domainsOf = (rule: RuleConfig): Pattern[] => (rule.domain ?? []).map(parseDomainPattern);
const isPlain = (pattern: Pattern): pattern is { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string } =>
  !('error' in pattern) && (pattern.kind === 'exact' || pattern.kind === 'wildcard');

/** True when `outer` matches every host `inner` matches. */
function patternCovers(outer: Pattern, inner: Pattern): boolean {
  if (!isPlain(outer) || !isPlain(inner)) return false;
  if (outer.kind === 'exact') return inner.kind === 'exact' && inner.host === outer.host;
  // `*.s` matches hosts strictly below s, at any depth, never s itself.
  return (inner.kind === 'exact' ? inner.host : inner.suffix).endsWith(outer.suffix);
}

/** The text of R's domain that L covers (undefined: none is provably covered). */
function coveredDomain(later: RuleConfig, restricted: RuleConfig): string | undefined {
  const laterDomains = domainsOf(later);
  if (laterDomains.some((pattern) => !isPlain(pattern))) return undefined; // {user}/{group}: not "everyone"
  return (restricted.domain ?? []).find((text) =>
    laterDomains.some((outer) => patternCovers(outer, parseDomainPattern(text))),
  );
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const superset = (
  outer: readonly string[] | undefined,
  inner: readonly string[] | undefined,
  norm: (s: string) => string,
): boolean => {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  const set = new Set(outer.map(norm));
  return inner.every((value) => set.has(norm(value)));
};

/** L's criteria other than domain and subject are absent or no narrower than R's. */
function noNarrower(later: RuleConfig, restricted: RuleConfig): boolean {
  return (
    (later.resources === undefined || sameJson(later.resources, restricted.resources)) &&
    (later.query === undefined || sameJson(later.query, restricted.query)) &&
    superset(later.methods, restricted.methods, (m) => m.toUpperCase()) &&
    superset(later.networks, restricted.networks, (n) => n.trim())
  );
}

/** One warning per subject-restricted rule whose resource a later rule gives to everyone. */
export function shadowedRuleWarnings(accessControl: AccessControlConfig): string[] {
  const rules = accessControl.rules;
  const warnings: string[] = [];
  rules.forEach((restricted, i) => {
    if (restricted.subject === undefined || restricted.policy === 'deny') return;
    for (let j = i + 1; j < rules.length; j++) {
      const later = rules[j]!;
      if (later.subject !== undefined || !noNarrower(later, restricted)) continue;
      const domain = coveredDomain(later, restricted);
      if (domain === undefined) continue;
      if (later.policy !== 'deny') {
        const at = (index: number) => joinKeyPath('access_control.rules', index);
        warnings.push(
          `${at(i)} gives '${domain}' only to its subject, but ${at(j)} (policy ${later.policy}, no subject) ` +
            `matches the same requests for everyone else: anyone ${later.policy === 'bypass' ? 'at all' : 'who signs in'} gets in. ` +
            `If only the subject should, add a rule for '${domain}' with policy deny right after ${at(i)}`,
        );
      }
      return; // the first covering rule answers for everyone else; later ones are never reached
    }
  });
  return warnings;
}
