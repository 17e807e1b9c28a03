// Checks the access_control section beyond what the schema's types can say, reporting every problem at once with
// its key path. The parsers here are the only reading of each criterion's syntax: the rules compiler
// (authz/rules-compile.ts) uses them too, so what validates is exactly what compiles.
import { domainToASCII } from 'node:url';
import type { ConfigProblem } from './problems.js';
import type { AccessControlConfig, DefinitionsConfig, Policy, RuleConfig } from './schema.js';
import { compileGoRegex, type GoRegex } from './go-regex.js';
import { parseNetwork, type Network } from './networks.js';

type Failure = { error: string };
const failed = <T extends object>(value: T | Failure): value is Failure => 'error' in value;

/** The methods Authelia accepts in `methods` (RFC 7231, 5789 and 4918). */
const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
]);

// ---- domain ---------------------------------------------------------------------------------------------------

/** Host names are stored lower-case and in their ASCII (punycode) form, as URL parsing gives them. */
export type DomainPattern =
  | { kind: 'exact'; host: string }
  /** `*.example.com`: any subdomain, at any depth, but not example.com itself. `suffix` is `.example.com`. */
  | { kind: 'wildcard'; suffix: string }
  /**
   * `{user}.example.com`, `{user}-app.example.com`, `{group}.example.com`: a template at the start, then `suffix`
   * (`.example.com`, `-app.example.com`). As in Authelia, the host is the username followed by `suffix` (a username
   * may hold dots: john.doe at john.doe.example.com), or its first label is a group and the rest is `suffix`.
   */
  | { kind: 'user' | 'group'; suffix: string };

const LEADING_FORMS: readonly [prefix: string, kind: 'wildcard' | 'user' | 'group'][] = [
  ['*.', 'wildcard'],
  ['{user}', 'user'],
  ['{group}', 'group'],
];

/** Letters of any script, digits, '-' and '_', in non-empty labels, as punycode; undefined if not a domain. */
function asciiDomain(text: string): string | undefined {
  // domainToASCII gives the punycode form that URL parsing gives request hosts (it is no validator by itself: it
  // stops quietly at a slash or a backslash), hence the checks before and after.
  const ascii = /^[\p{L}\p{M}\p{N}_-]+(?:\.[\p{L}\p{M}\p{N}_-]+)*$/u.test(text) ? domainToASCII(text) : '';
  return /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/.test(ascii) ? ascii : undefined;
}

export function parseDomainPattern(text: string): DomainPattern | Failure {
  const lower = text.toLowerCase();
  const leading = LEADING_FORMS.find(([prefix]) => lower.startsWith(prefix));
  const rest = leading ? lower.slice(leading[0].length) : lower;
  if (rest.includes('*'))
    return { error: `'${text}': a wildcard is only allowed as a leading '*.' (like '*.example.com')` };
  // Authelia reads a template only at the very start; anywhere else it is literal text no host can hold.
  if (/\{(user|group)\}/.test(rest)) {
    return {
      error: `'${text}': '{user}' and '{group}' are only allowed at the start (like '{user}.example.com' or '{user}-app.example.com')`,
    };
  }
  if (leading && leading[1] !== 'wildcard') {
    // The end of the first label (ASCII: its punycode would depend on the name), then the domain.
    const parts = /^([a-z0-9_-]*)\.(.*)$/.exec(rest);
    const domain = parts ? asciiDomain(parts[2]!) : undefined;
    if (domain === undefined) {
      return {
        error: `'${text}': '${leading[0]}' must be followed by a domain name (like '${leading[0]}.example.com' or '${leading[0]}-app.example.com')`,
      };
    }
    return { kind: leading[1], suffix: `${parts![1]}.${domain}` };
  }
  const ascii = asciiDomain(rest);
  if (ascii === undefined) return { error: `'${text}' is not a valid domain name` };
  return leading ? { kind: leading[1], suffix: `.${ascii}` } : { kind: 'exact', host: ascii };
}

// ---- regular expressions (domain_regex, resources, query patterns) --------------------------------------------

/** Named groups that bind a match to the signed-in user (Authelia's "Named Regex Groups"). */
const SUBJECT_GROUPS: readonly string[] = ['User', 'Group'];

export const bindsSubject = (regex: GoRegex): boolean => regex.groupNames.some((name) => SUBJECT_GROUPS.includes(name));

/** Domain regexes match case-insensitively: host names are (RFC 4343). */
export function parseDomainRegex(text: string): GoRegex | Failure {
  return checkSubjectGroups(compileGoRegex(text, { caseInsensitive: true }));
}

export function parseResourceRegex(text: string): GoRegex | Failure {
  return checkSubjectGroups(compileGoRegex(text));
}

// `(?P<user>...)` looks like it binds to the user but, group names being case-sensitive, would silently match
// anybody: refuse it rather than let a rule be wider than its author meant.
function checkSubjectGroups(compiled: GoRegex | Failure): GoRegex | Failure {
  if (failed(compiled)) return compiled;
  const lookalike = compiled.groupNames.find(
    (name) =>
      !SUBJECT_GROUPS.includes(name) && SUBJECT_GROUPS.some((group) => group.toLowerCase() === name.toLowerCase()),
  );
  if (lookalike !== undefined) {
    return {
      error: `named group '${lookalike}' does not bind to the user: only '${SUBJECT_GROUPS.join("' and '")}' do (case-sensitive)`,
    };
  }
  return compiled;
}

// ---- subject --------------------------------------------------------------------------------------------------

export type SubjectTerm = { kind: 'user' | 'group'; name: string };

const OAUTH2_CLIENT_PREFIX = 'oauth2:client:';
const SUBJECT_PREFIXES: readonly [prefix: string, kind: SubjectTerm['kind']][] = [
  ['user:', 'user'],
  ['group:', 'group'],
];

export function parseSubjectTerm(text: string): SubjectTerm | Failure {
  if (text.startsWith(OAUTH2_CLIENT_PREFIX)) {
    // It decides who gets in and cannot be honoured (Gatehouse issues no OAuth 2.0 tokens): refuse, never drop it.
    return {
      error: `'${text}': Gatehouse has no OAuth 2.0 clients, so this subject can never be honoured: remove the subject or the rule`,
    };
  }
  const found = SUBJECT_PREFIXES.find(([prefix]) => text.startsWith(prefix));
  if (!found) return { error: `'${text}' must start with ${SUBJECT_PREFIXES.map(([p]) => `'${p}'`).join(' or ')}` };
  const [prefix, kind] = found;
  // As Authelia: spaces around the name are dropped ('group: admins' is the group 'admins').
  const name = text.slice(prefix.length).replace(/^ +| +$/g, '');
  if (name === '') return { error: `'${text}' needs a name after '${prefix}'` };
  return { kind, name };
}

// ---- networks -------------------------------------------------------------------------------------------------

export type RuleNetwork = { network: Network } | { name: string };

/** An address or CIDR range, else the name of a network defined in definitions.network or access_control.networks. */
export function parseRuleNetwork(text: string, definedNames: ReadonlySet<string>): RuleNetwork | Failure {
  const parsed = parseNetwork(text);
  if (!failed(parsed)) return { network: parsed };
  if (definedNames.has(text)) return { name: text };
  if (/^[\d.:/a-f]+$/i.test(text) && /[.:/]/.test(text)) return parsed; // meant as an address: say what is wrong with it
  return {
    error: `'${text}' is neither an IP address, a CIDR range nor the name of a network in definitions.network or access_control.networks`,
  };
}

/**
 * The named networks, from Authelia's current `definitions.network` and its older `access_control.networks`, as
 * written (a name defined in both is a problem accessControlProblems reports; here the first definition wins).
 */
export function namedNetworkTexts(
  config: AccessControlConfig,
  definitions: DefinitionsConfig,
): Map<string, readonly string[]> {
  const named = new Map<string, readonly string[]>(Object.entries(definitions.network));
  for (const group of config.networks) if (!named.has(group.name)) named.set(group.name, group.networks);
  return named;
}

// ---- query ----------------------------------------------------------------------------------------------------

export type QueryMatcherConfig = NonNullable<RuleConfig['query']>[number][number];
export type QueryOperator = NonNullable<QueryMatcherConfig['operator']>;

/** Authelia's default: `equal` when a non-empty value is given, else `present` (`value: ''` means "present"). */
export const queryOperator = (matcher: QueryMatcherConfig): QueryOperator =>
  matcher.operator ?? (matcher.value !== undefined && matcher.value !== '' ? 'equal' : 'present');

const queryOperatorTakesValue = (operator: QueryOperator): boolean => operator !== 'present' && operator !== 'absent';

/** Without definitions, a rule naming one of their networks is refused as naming an unknown network: never ignored. */
export const NO_DEFINITIONS: DefinitionsConfig = Object.freeze({ network: {} });

// ---- the whole section ----------------------------------------------------------------------------------------

type Report = (path: string, message: string) => void;

/** `definitions` is where Authelia's current configurations name networks (definitions.network). */
export function accessControlProblems(
  config: AccessControlConfig,
  definitions: DefinitionsConfig = NO_DEFINITIONS,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  const names = new Set<string>();
  const checkNetworks = (at: string, networks: readonly string[]) => {
    if (networks.length === 0) report(at, 'must list at least one network');
    networks.forEach((text, j) => {
      const parsed = parseNetwork(text);
      if (failed(parsed)) report(`${at}[${j}]`, parsed.error);
    });
  };
  for (const [name, networks] of Object.entries(definitions.network)) {
    names.add(name);
    checkNetworks(`definitions.network.${name}`, networks);
  }
  config.networks.forEach((group, i) => {
    const at = `access_control.networks[${i}]`;
    if (Object.hasOwn(definitions.network, group.name)) {
      report(
        `${at}.name`,
        `network '${group.name}' is also defined in definitions.network: define it in one place only (Authelia refuses this too)`,
      );
    } else if (names.has(group.name)) {
      report(`${at}.name`, `duplicate network name '${group.name}'`);
    }
    names.add(group.name);
    checkNetworks(`${at}.networks`, group.networks);
  });
  config.rules.forEach((rule, i) => {
    ruleProblems(rule, `access_control.rules[${i}]`, names, report);
  });
  return problems;
}

const SUBJECT_DEPENDENT_BYPASS =
  "a 'bypass' rule cannot depend on who the user is (the user is only known after signing in): use 'one_factor' or remove";

function ruleProblems(rule: RuleConfig, at: string, networkNames: ReadonlySet<string>, report: Report): void {
  const listFields = ['domain', 'domain_regex', 'resources', 'methods', 'networks', 'subject', 'query'] as const;
  for (const field of listFields) {
    if (rule[field]?.length === 0)
      report(`${at}.${field}`, 'must not be an empty list (leave the key out to match any value)');
  }
  if (!rule.domain?.length && !rule.domain_regex?.length) report(at, "needs a 'domain' or a 'domain_regex'");
  const bypass = rule.policy === ('bypass' satisfies Policy);

  const eachRegex = (field: 'domain_regex' | 'resources', parse: (text: string) => GoRegex | Failure) =>
    rule[field]?.forEach((text, j) => {
      const parsed = parse(text);
      if (failed(parsed)) report(`${at}.${field}[${j}]`, parsed.error);
      else if (bypass && bindsSubject(parsed))
        report(`${at}.${field}[${j}]`, `${SUBJECT_DEPENDENT_BYPASS} the named group User/Group`);
    });

  rule.domain?.forEach((text, j) => {
    const parsed = parseDomainPattern(text);
    if (failed(parsed)) report(`${at}.domain[${j}]`, parsed.error);
  });
  eachRegex('domain_regex', parseDomainRegex);
  eachRegex('resources', parseResourceRegex);
  rule.methods?.forEach((method, j) => {
    if (!HTTP_METHODS.has(method)) {
      const hint = HTTP_METHODS.has(method.toUpperCase()) ? ` (write it in capitals: '${method.toUpperCase()}')` : '';
      report(`${at}.methods[${j}]`, `'${method}' is not an HTTP method Gatehouse knows${hint}`);
    }
  });
  rule.networks?.forEach((text, j) => {
    const parsed = parseRuleNetwork(text, networkNames);
    if (failed(parsed)) report(`${at}.networks[${j}]`, parsed.error);
  });
  if (bypass && rule.subject?.length) report(`${at}.policy`, `${SUBJECT_DEPENDENT_BYPASS} 'subject'`);
  if (rule.max_auth_age !== undefined) {
    if (rule.policy !== 'two_factor')
      report(
        `${at}.max_auth_age`,
        `only applies to 'two_factor' rules (this one is '${rule.policy}'): it limits the age of the security-key use, which only 'two_factor' asks for`,
      );
    else if (!(rule.max_auth_age > 0)) report(`${at}.max_auth_age`, 'must be longer than 0 (like 10m)');
  }
  rule.subject?.forEach((all, j) => {
    if (all.length === 0) report(`${at}.subject[${j}]`, 'must not be an empty list');
    all.forEach((text, k) => {
      const parsed = parseSubjectTerm(text);
      if (failed(parsed)) report(`${at}.subject[${j}][${k}]`, parsed.error);
    });
  });
  rule.query?.forEach((all, j) => {
    if (all.length === 0) report(`${at}.query[${j}]`, 'must not be an empty list');
    all.forEach((matcher, k) => {
      const path = `${at}.query[${j}][${k}]`;
      const operator = queryOperator(matcher);
      if (!queryOperatorTakesValue(operator)) {
        // As Authelia: an empty value is the same as none.
        if (matcher.value !== undefined && matcher.value !== '')
          report(`${path}.value`, `the '${operator}' operator takes no value`);
      } else if (matcher.value === undefined) {
        report(`${path}.value`, `the '${operator}' operator needs a value`);
      } else if (operator === 'pattern' || operator === 'not pattern') {
        const parsed = compileGoRegex(matcher.value);
        if (failed(parsed)) report(`${path}.value`, parsed.error);
      }
    });
  });
}
