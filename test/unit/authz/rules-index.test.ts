import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { compileAccessControl, type AccessControl } from '../../../src/authz/rules.js';
import { compileRule } from '../../../src/authz/rules-compile.js';
import { END, RulesIndex } from '../../../src/authz/rules-index.js';
import { MAY, MISS, type AccessDecision, type AccessRequest } from '../../../src/authz/rules-request.js';
import { configSchema, type RawConfig } from '../../../src/config/schema.js';

type RawAccessControl = NonNullable<RawConfig['access_control']>;
type RawRule = NonNullable<RawAccessControl['rules']>[number];

type Policy = NonNullable<RawAccessControl['default_policy']>;

const compile = (rules: RawRule[], defaultPolicy: Policy = 'deny'): AccessControl => {
  const config = configSchema.parse({
    access_control: {
      default_policy: defaultPolicy,
      networks: [{ name: 'lan', networks: ['192.168.0.0/16'] }],
      rules,
    },
  });
  return compileAccessControl(config.access_control, config.definitions);
};

/**
 * The oracle: a plain walk over every rule in order, every criterion tested (`inspect`), the first rule with no
 * MISS deciding; an anonymous request that only MAY match is told to sign in. The index must change nothing of it.
 */
function plainScan(access: AccessControl, defaultPolicy: Policy, request: AccessRequest): AccessDecision {
  const first = access.inspect(request).find((rule) => !Object.values(rule.criteria).includes(MISS));
  if (first === undefined) return { policy: defaultPolicy, rule: 0, subjectRequired: false };
  return {
    policy: first.policy,
    rule: first.position,
    subjectRequired: Object.values(first.criteria).includes(MAY),
  };
}

// ---- a seeded generator (Mulberry32), so a failure names the seed that reproduces it ----------------------------

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(next: Random, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const chance = (next: Random, p: number): boolean => next() < p;

// A small vocabulary, so that hosts, suffixes, templates and regexes collide often.
const BASES = ['example.com', 'b.example.com', 'teams.example.com', 'example.org', 'com', 'x.b.example.com'];
const LABELS = ['a', 'b', 'x', 'app', 'john', 'dev', 'admins', 'john.doe', 'team', 'www', 'x1'];
const DOMAIN_REGEXES = [
  '^(?P<User>\\w+)\\.example\\.com$',
  '^a\\.',
  'example\\.org$',
  '^(?P<Group>\\w+)\\.teams\\.example\\.com$',
  '^x[0-9]*\\.b\\.example\\.com$',
  '^APP\\.EXAMPLE\\.COM$',
];

const randomHost = (next: Random): string =>
  chance(next, 0.15) ? pick(next, BASES) : `${pick(next, LABELS)}.${pick(next, BASES)}`;

function randomDomain(next: Random): string {
  const base = pick(next, BASES);
  switch (Math.floor(next() * 8)) {
    case 0:
    case 1:
    case 2:
      return randomHost(next);
    case 3:
      return `*.${base}`;
    case 4:
      return `*.${pick(next, LABELS)}.${base}`;
    case 5:
      return `${pick(next, ['{user}', '{group}'])}.${base}`;
    case 6:
      return `${pick(next, ['{user}', '{group}'])}-app.${base}`;
    default:
      return randomHost(next).toUpperCase();
  }
}

function randomRule(next: Random): RawRule {
  const rule: RawRule = { policy: pick(next, ['bypass', 'one_factor', 'two_factor', 'deny'] as const) };
  const withDomain = !chance(next, 0.15);
  if (withDomain) rule.domain = Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomDomain(next));
  if (!withDomain || chance(next, 0.15)) {
    rule.domain_regex = Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(next, DOMAIN_REGEXES));
  }
  if (chance(next, 0.25)) rule.methods = pick(next, [['GET'], ['OPTIONS', 'POST']]);
  if (chance(next, 0.25)) rule.networks = pick(next, [['10.0.0.0/8'], ['lan', '2001:db8::/32']]);
  if (chance(next, 0.25)) rule.resources = pick(next, [['^/admin'], ['^/api/(?P<User>\\w+)'], ['^/$', '\\?']]);
  if (chance(next, 0.25)) {
    rule.query = pick(next, [
      [[{ key: 'q', value: '1' }]],
      [[{ operator: 'present' as const, key: 'share' }], [{ operator: 'pattern' as const, key: 'v', value: '^\\d+$' }]],
    ]);
  }
  if (chance(next, 0.3)) rule.subject = pick(next, [['user:john'], ['group:dev'], [['group:admins'], ['user:fred']]]);
  // Validation refuses a bypass that depends on who the user is.
  const bindsUser = (texts?: string | string[]) => [texts ?? []].flat().some((text) => /\?P<(User|Group)>/.test(text));
  if (rule.policy === 'bypass' && (rule.subject || bindsUser(rule.domain_regex) || bindsUser(rule.resources))) {
    rule.policy = 'one_factor';
  }
  return rule;
}

const PEOPLE = [
  undefined,
  { username: 'john', groups: ['admins', 'dev'] },
  { username: 'fred', groups: ['users'] },
  { username: 'dev', groups: ['team'] },
  { username: 'john.doe', groups: ['admins'] },
];

function randomRequest(next: Random): AccessRequest {
  const host = chance(next, 0.05) ? pick(next, ['10.1.2.3', '[2001:db8::1]', 'a.example.com.']) : randomHost(next);
  const path = pick(next, ['/', '/admin', '/api/john', '/x?q=1', '/?share=abc&v=12', '/api/fred?q=2']);
  return {
    url: new URL(`https://${chance(next, 0.1) ? host.toUpperCase() : host}${path}`),
    method: pick(next, ['GET', 'POST', 'OPTIONS', 'get']),
    ip: pick(next, [undefined, '10.1.2.3', '192.168.1.5', '2001:db8::1', '203.0.113.9']),
    subject: pick(next, PEOPLE),
  };
}

const describeRequest = (request: AccessRequest): string =>
  `${request.method} ${request.url.href} from ${request.ip} as ${request.subject?.username ?? 'anonymous'}`;

describe('the indexed evaluation decides exactly as a plain walk over every rule, in order', () => {
  const SEEDS = 40;
  const LISTS_PER_SEED = 10;
  const REQUESTS_PER_LIST = 100;
  const seen = { defaultPolicy: 0, laterRule: 0, signIn: 0, total: 0 };

  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: ${LISTS_PER_SEED} generated rule lists, ${REQUESTS_PER_LIST} requests each`, () => {
      const next = random(seed);
      for (let list = 0; list < LISTS_PER_SEED; list++) {
        const rules = Array.from({ length: 1 + Math.floor(next() * 40) }, () => randomRule(next));
        const defaultPolicy = pick(next, ['deny', 'one_factor', 'bypass'] as const);
        const access = compile(rules, defaultPolicy);
        for (let n = 0; n < REQUESTS_PER_LIST; n++) {
          const request = randomRequest(next);
          const expected = plainScan(access, defaultPolicy, request);
          assert.deepEqual(
            access.evaluate(request),
            expected,
            `seed ${seed}, list ${list}: ${describeRequest(request)}\nrules: ${JSON.stringify(rules)}`,
          );
          seen.total++;
          if (expected.rule === 0) seen.defaultPolicy++;
          if (expected.rule > 1) seen.laterRule++;
          if (expected.subjectRequired) seen.signIn++;
        }
      }
    });
  }

  it('the generated cases are varied: default policy, later rules and sign-ins are all common', () => {
    assert.equal(seen.total, SEEDS * LISTS_PER_SEED * REQUESTS_PER_LIST);
    for (const [what, count] of Object.entries(seen)) assert.ok(count > seen.total / 20, `${what}: ${count}`);
  });
});

describe('the index gives a host only the rules that can match it, in order', () => {
  const raw: RawRule[] = [
    { domain: 'a.example.com', policy: 'deny' }, // 0
    { domain: '*.example.com', policy: 'one_factor' }, // 1
    { domain_regex: '^x', policy: 'two_factor' }, // 2
    { domain: ['b.example.com', '*.b.example.com'], policy: 'one_factor' }, // 3
    { domain: '{user}-app.example.org', policy: 'one_factor' }, // 4
    { domain: 'a.example.com', policy: 'bypass' }, // 5
    { domain: '{group}.b.example.com', policy: 'one_factor' }, // 6
    { domain: 'other.net', policy: 'one_factor' }, // 7
  ];
  const config = configSchema.parse({ access_control: { rules: raw } }).access_control;
  const index = new RulesIndex(config.rules.map((rule, i) => compileRule(rule, i + 1, new Map())));
  const list = (indices: Int32Array): number[] => {
    assert.equal(indices.at(-1), END);
    return [...indices.subarray(0, -1)];
  };
  const visited = (host: string) => {
    const { exact, bySuffix } = index.candidates(host);
    return { exact: list(exact), bySuffix: list(bySuffix) };
  };

  it('domain_regex rules are visited for every host', () => assert.deepEqual(list(index.anyHost), [2]));
  it('an exact host: its own rules, and those of every suffix it ends with', () => {
    assert.deepEqual(visited('a.example.com'), { exact: [0, 5], bySuffix: [1] });
    assert.deepEqual(visited('b.example.com'), { exact: [3], bySuffix: [1] });
  });
  it('a host no rule names: the rules of the longest suffix named, which include the shorter ones', () => {
    assert.deepEqual(visited('c.b.example.com'), { exact: [], bySuffix: [1, 3, 6] });
    assert.deepEqual(visited('d.c.b.example.com'), { exact: [], bySuffix: [1, 3, 6] });
    assert.deepEqual(visited('c.example.com'), { exact: [], bySuffix: [1] });
  });
  it('a template is filed under its domain, whatever the rest of its first label', () => {
    assert.deepEqual(visited('john-app.example.org'), { exact: [], bySuffix: [4] });
    assert.deepEqual(visited('john.doe-app.example.org'), { exact: [], bySuffix: [4] });
  });
  it('a wildcard does not reach its own domain, and other hosts get nothing but the regex rules', () => {
    assert.deepEqual(visited('example.com'), { exact: [], bySuffix: [] });
    assert.deepEqual(visited('example.org'), { exact: [], bySuffix: [] });
    assert.deepEqual(visited('unknown.test'), { exact: [], bySuffix: [] });
    assert.deepEqual(visited('localhost'), { exact: [], bySuffix: [] });
  });
  it('a rule naming a host and a suffix of it is visited once', () => {
    const access = compile([
      { domain: ['b.example.com', '*.example.com'], methods: 'POST', policy: 'deny' },
      { domain: 'b.example.com', policy: 'one_factor' },
    ]);
    const get = { url: new URL('https://b.example.com/'), method: 'GET', ip: undefined };
    assert.deepEqual(access.evaluate(get), { policy: 'one_factor', rule: 2, subjectRequired: false });
    assert.deepEqual(access.evaluate({ ...get, method: 'POST' }), { policy: 'deny', rule: 1, subjectRequired: false });
  });
});
