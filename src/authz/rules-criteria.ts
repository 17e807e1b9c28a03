// The six criteria a rule can have (domain, resource, method, network, subject, query), each compiled once into a
// matcher that answers HIT, MISS or MAY for a request's state, as Authelia matches them.
import { BlockList } from 'node:net';
import type { DomainPattern, QueryOperator } from '../config/access-control-syntax.js';
import type { GoRegex } from '../config/go-regex.js';
import type { Network } from '../config/networks.js';
import type { GoQuery } from './go-query.js';
import { addNetwork } from './ip.js';
import { HIT, MAY, MISS, type Criterion } from './rules-request.js';
import { anyRegex, inGroup, isUser, matchTemplate } from './rules-subject.js';

export function domainCriterion(patterns: readonly DomainPattern[], regexes: readonly GoRegex[]): Criterion {
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

export function resourceCriterion(regexes: readonly GoRegex[]): Criterion {
  const regexMatch = anyRegex(regexes);
  return { kind: 'resource', test: (state) => regexMatch(state.resource(), state.subject) };
}

export function methodCriterion(methods: readonly string[]): Criterion {
  return { kind: 'method', test: (state) => (methods.includes(state.method) ? HIT : MISS) };
}

export function networkCriterion(networks: readonly Network[]): Criterion {
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

export type SubjectBranch = { users: string[]; groups: string[] };

export function subjectCriterion(anyOf: readonly SubjectBranch[]): Criterion {
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

export type QueryTest = { operator: QueryOperator; key: string; value: string; regex: GoRegex | undefined };

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

export function queryCriterion(anyOf: readonly (readonly QueryTest[])[]): Criterion {
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
