// The access-control rules engine (SPEC §3, Authelia's semantics): rules are compiled once, at start, into plain
// matchers that the authz hot path only reads. `evaluate` walks the rules top to bottom and stops at the first
// whose every criterion matches. The decisions are made in advance and the per-request scratch state is reused
// (evaluation is synchronous, so it is never shared by two requests at once); what a request needs is worked out
// once and only when a rule asks (its query string, its client address). Regexes run on RE2 (go-regex.ts).
//
// Each criterion answers HIT, MISS, or MAY: "matches if the user turns out to be the right one", which only an
// anonymous request can get, from `subject`, a `{user}`/`{group}` domain or a User/Group regex group. A rule with
// no MISS and some MAY decides an anonymous request with `subjectRequired`: the caller sends the user to sign in,
// then evaluates again with the real subject, for whom every criterion is a plain HIT or MISS.
//
// Choices where Authelia's documentation is silent (documented here, tested in test/unit/authz/rules.test.ts):
// - `resources` match the canonical path + query of resource-path.ts: decoded, dot segments resolved, as Authelia.
// - Query conditions read the query string as Go's url.Query() does, as Authelia (go-query.ts): the first value of
//   a key counts, an absent key's value is '' (so `pattern` on an absent key is matched against '').
// - User and group names compare case-insensitively, in `subject` as in templates and regex groups.
// - An `oauth2:client:` subject is refused by validation (rules-validate.ts): Gatehouse has no OAuth 2.0 clients.
import { BlockList, type SocketAddress } from 'node:net';
import { ConfigError } from '../config/problems.js';
import type { AccessControlConfig, DefinitionsConfig, Policy, RuleConfig } from '../config/schema.js';
import { compileGoRegex, type GoRegex } from '../config/go-regex.js';
import { parseGoQuery, type GoQuery } from './go-query.js';
import { parseNetwork, type Network } from '../config/networks.js';
import { addNetwork, clientAddress } from './ip.js';
import { canonicalResource } from './resource-path.js';
import {
  accessControlProblems,
  bindsSubject,
  namedNetworkTexts,
  NO_DEFINITIONS,
  parseDomainPattern,
  parseDomainRegex,
  parseResourceRegex,
  parseRuleNetwork,
  parseSubjectTerm,
  queryOperator,
  type DomainPattern,
  type QueryOperator,
} from '../config/access-control-syntax.js';

export interface AccessSubject {
  username: string;
  groups: readonly string[];
}

export interface AccessRequest {
  url: URL;
  /**
   * What `resources` match: `canonicalResource` of the URL as received (resource-path.ts). The authz endpoints and
   * check-policy always pass it; without it, it is worked out from `url` (already normalised by the WHATWG parser).
   */
  resource?: string;
  method: string;
  ip: string | undefined;
  subject?: AccessSubject;
}

export interface AccessDecision {
  policy: Policy;
  /** 1-based rule position, 0 = default_policy */
  rule: number;
  /** An anonymous request met a rule that depends on who the user is: sign in, then evaluate again. */
  subjectRequired: boolean;
}

export interface CompiledAccessControl {
  evaluate(request: AccessRequest): AccessDecision;
  readonly ruleCount: number;
}

const LEVELS = { bypass: 0, one_factor: 1, two_factor: 2, deny: 'deny' } as const;

/** The authentication level a policy needs: bypass 0, one_factor 1, two_factor 2, or 'deny'. */
export const policyLevel = (policy: Policy): 0 | 1 | 2 | 'deny' => LEVELS[policy];

export const MISS = 0;
export const HIT = 1;
export const MAY = 2;
export type Match = typeof MISS | typeof HIT | typeof MAY;

export type CriterionKind = 'domain' | 'resource' | 'method' | 'network' | 'subject' | 'query';

interface Criterion {
  readonly kind: CriterionKind;
  test(state: RequestState): Match;
}

/** One rule's answer per criterion it has (absent criteria are left out), for `check-policy`. */
export interface RuleInspection {
  position: number;
  policy: Policy;
  criteria: Partial<Record<CriterionKind, Match>>;
}

// ---- per-request state, computed lazily and only once --------------------------------------------------------

/** A URL the caller did not canonicalise (a refused path then matches as written, which no sane rule matches). */
function resourceOf(url: URL): string {
  const resource = canonicalResource(url.pathname + url.search);
  return typeof resource === 'string' ? resource : url.pathname + url.search;
}

class RequestState {
  url: URL | undefined;
  host = '';
  method = '';
  subject: AccessSubject | undefined;
  private ip: string | undefined;
  private resourcePath: string | undefined;
  private queryValues: GoQuery | undefined;
  private address: SocketAddress | null | undefined;

  load(request: AccessRequest): void {
    this.url = request.url;
    this.host = request.url.hostname.toLowerCase();
    this.method = request.method.toUpperCase();
    this.subject = request.subject;
    this.ip = request.ip;
    this.resourcePath = request.resource;
    this.queryValues = undefined;
    this.address = undefined;
  }

  /** Drops the references so the last request is not kept alive. */
  clear(): void {
    this.url = undefined;
    this.subject = undefined;
    this.ip = undefined;
    this.resourcePath = undefined;
    this.queryValues = undefined;
    this.address = undefined;
  }

  /** The query string's keys and values, read as Go's url.Query() reads them (as Authelia does). */
  query(): GoQuery {
    this.queryValues ??= parseGoQuery(this.url!.search);
    return this.queryValues;
  }

  resource(): string {
    this.resourcePath ??= resourceOf(this.url!);
    return this.resourcePath;
  }

  clientAddress(): SocketAddress | null {
    if (this.address === undefined) this.address = clientAddress(this.ip);
    return this.address;
  }
}

// ---- comparisons -----------------------------------------------------------------------------------------------

/** `text.slice(start, end)` equals `other` ignoring case, without building the slice for ASCII text. */
function sameIgnoringCase(text: string, start: number, end: number, other: string): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) {
    let a = text.charCodeAt(start + i);
    let b = other.charCodeAt(i);
    if (a === b) continue;
    if (a >= 0x80 || b >= 0x80) return text.slice(start, end).toLowerCase() === other.toLowerCase();
    if (a >= 65 && a <= 90) a += 32;
    if (b >= 65 && b <= 90) b += 32;
    if (a !== b) return false;
  }
  return true;
}

const isUser = (subject: AccessSubject, text: string, start = 0, end = text.length): boolean =>
  sameIgnoringCase(text, start, end, subject.username);

function inGroup(subject: AccessSubject, text: string, start = 0, end = text.length): boolean {
  for (const group of subject.groups) if (sameIgnoringCase(text, start, end, group)) return true;
  return false;
}

/** A regex whose User / Group groups, if any, bind the match to the subject. */
function matchBinding(compiled: GoRegex, text: string, subject: AccessSubject | undefined): Match {
  const groups = compiled.exec(text);
  if (groups === null) return MISS;
  if (subject === undefined) return MAY;
  const user = groups.User;
  const group = groups.Group;
  if (compiled.groupNames.includes('User') && (user === undefined || !isUser(subject, user))) return MISS;
  if (compiled.groupNames.includes('Group') && (group === undefined || !inGroup(subject, group))) return MISS;
  return HIT;
}

/**
 * A template domain, as Authelia matches it: `{user}` + suffix is the username followed by the suffix (dots and all:
 * john.doe at john.doe.example.com); `{group}` + suffix needs the first label to be a group and the rest of the host
 * to be the suffix (so `{group}-app.example.com` never matches a signed-in user, as in Authelia). An anonymous
 * request MAY match when the host ends with the suffix after something.
 */
function matchTemplate(
  kind: 'user' | 'group',
  suffix: string,
  host: string,
  subject: AccessSubject | undefined,
): Match {
  const prefixEnd = host.length - suffix.length;
  if (prefixEnd <= 0 || !host.endsWith(suffix)) return MISS;
  if (subject === undefined) return MAY;
  if (kind === 'user') return isUser(subject, host, 0, prefixEnd) ? HIT : MISS;
  return host.indexOf('.') === prefixEnd && inGroup(subject, host, 0, prefixEnd) ? HIT : MISS;
}

/**
 * A matcher for a list of regexes: HIT if any hits, else MAY if any may, else MISS. Those that bind nothing to the
 * subject are split off at compile time: a plain `test` answers for them.
 */
function anyRegex(regexes: readonly GoRegex[]): (text: string, subject: AccessSubject | undefined) => Match {
  const plain = regexes.filter((compiled) => !bindsSubject(compiled));
  const binding = regexes.filter(bindsSubject);
  return (text, subject) => {
    for (const regex of plain) if (regex.test(text)) return HIT;
    let result: Match = MISS;
    for (const compiled of binding) {
      const match = matchBinding(compiled, text, subject);
      if (match === HIT) return HIT;
      if (match === MAY) result = MAY;
    }
    return result;
  };
}

// ---- criteria --------------------------------------------------------------------------------------------------

function domainCriterion(patterns: readonly DomainPattern[], regexes: readonly GoRegex[]): Criterion {
  const exact: string[] = [];
  const suffixes: string[] = [];
  const templates: { kind: 'user' | 'group'; suffix: string }[] = [];
  for (const pattern of patterns) {
    if (pattern.kind === 'exact') exact.push(pattern.host);
    else if (pattern.kind === 'wildcard') suffixes.push(pattern.suffix);
    else templates.push({ kind: pattern.kind, suffix: pattern.suffix });
  }
  const regexMatch = anyRegex(regexes);
  return {
    kind: 'domain',
    test(state) {
      const host = state.host;
      for (const candidate of exact) if (candidate === host) return HIT;
      for (const suffix of suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return HIT;
      let result = regexMatch(host, state.subject);
      if (result === HIT) return HIT;
      for (const template of templates) {
        const match = matchTemplate(template.kind, template.suffix, host, state.subject);
        if (match === HIT) return HIT;
        if (match === MAY) result = MAY;
      }
      return result;
    },
  };
}

function resourceCriterion(regexes: readonly GoRegex[]): Criterion {
  const regexMatch = anyRegex(regexes);
  return { kind: 'resource', test: (state) => regexMatch(state.resource(), state.subject) };
}

function methodCriterion(methods: readonly string[]): Criterion {
  return { kind: 'method', test: (state) => (methods.includes(state.method) ? HIT : MISS) };
}

function networkCriterion(networks: readonly Network[]): Criterion {
  const list = new BlockList();
  for (const network of networks) addNetwork(list, network);
  return {
    kind: 'network',
    test(state) {
      const address = state.clientAddress();
      return address !== null && list.check(address) ? HIT : MISS;
    },
  };
}

type SubjectBranch = { users: string[]; groups: string[] };

function subjectCriterion(anyOf: readonly SubjectBranch[]): Criterion {
  return {
    kind: 'subject',
    test(state) {
      if (anyOf.length === 0) return MISS;
      const subject = state.subject;
      if (subject === undefined) return MAY;
      branches: for (const branch of anyOf) {
        for (const user of branch.users) if (!isUser(subject, user)) continue branches;
        for (const group of branch.groups) if (!inGroup(subject, group)) continue branches;
        return HIT;
      }
      return MISS;
    },
  };
}

type QueryTest = { operator: QueryOperator; key: string; value: string; regex: GoRegex | undefined };

/** Authelia's query matchers: presence, else the key's first value ('' when absent) against the value or pattern. */
function queryHolds(test: QueryTest, query: GoQuery): boolean {
  switch (test.operator) {
    case 'present':
      return query.has(test.key);
    case 'absent':
      return !query.has(test.key);
  }
  const value = query.get(test.key)?.[0] ?? '';
  const matches = test.regex !== undefined ? test.regex.test(value) : value === test.value;
  return matches === (test.operator === 'equal' || test.operator === 'pattern');
}

function queryCriterion(anyOf: readonly (readonly QueryTest[])[]): Criterion {
  return {
    kind: 'query',
    test(state) {
      const query = state.query();
      branches: for (const branch of anyOf) {
        for (const test of branch) if (!queryHolds(test, query)) continue branches;
        return HIT;
      }
      return MISS;
    },
  };
}

// ---- compilation ----------------------------------------------------------------------------------------------

/** Unwraps a parse that validation has already vouched for. */
function valid<T extends object>(parsed: T | { error: string }): T {
  if ('error' in parsed) throw new Error(`access control: ${parsed.error}`);
  return parsed;
}

function compileRule(
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

interface CompiledRule {
  readonly position: number;
  readonly policy: Policy;
  readonly criteria: readonly Criterion[];
  readonly matched: AccessDecision;
  readonly potential: AccessDecision;
  /** The hosts, when the domain criterion is nothing but exact hosts (see RulesByHost). */
  readonly exactHosts: readonly string[] | undefined;
}

/**
 * A pre-filter, so evaluation does not test every rule's domain: for a host, the rules that can possibly match it,
 * in order: those naming the host exactly, and those with a wildcard, template or regex. Every other rule's domain
 * criterion would MISS, so leaving them out changes no decision.
 */
class RulesByHost {
  private readonly byHost = new Map<string, readonly CompiledRule[]>();
  private readonly anyHost: readonly CompiledRule[];

  constructor(rules: readonly CompiledRule[]) {
    this.anyHost = rules.filter((rule) => rule.exactHosts === undefined);
    const hosts = new Set(rules.flatMap((rule) => rule.exactHosts ?? []));
    for (const host of hosts) {
      this.byHost.set(
        host,
        rules.filter((rule) => rule.exactHosts === undefined || rule.exactHosts.includes(host)),
      );
    }
  }

  for(host: string): readonly CompiledRule[] {
    return this.byHost.get(host) ?? this.anyHost;
  }
}

export class AccessControl implements CompiledAccessControl {
  private readonly state = new RequestState();
  private readonly defaultDecision: AccessDecision;
  private readonly candidates: RulesByHost;

  constructor(
    private readonly rules: readonly CompiledRule[],
    defaultPolicy: Policy,
  ) {
    this.defaultDecision = Object.freeze({ policy: defaultPolicy, rule: 0, subjectRequired: false });
    this.candidates = new RulesByHost(rules);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  evaluate(request: AccessRequest): AccessDecision {
    const state = this.state;
    state.load(request);
    try {
      rules: for (const rule of this.candidates.for(state.host)) {
        let potential = false;
        for (const criterion of rule.criteria) {
          const match = criterion.test(state);
          if (match === MISS) continue rules;
          if (match === MAY) potential = true;
        }
        return potential ? rule.potential : rule.matched;
      }
      return this.defaultDecision;
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
