// Issue 8: validate-config warns when a subject-restricted rule is followed by a rule that hands the same resource
// to everyone else (a lint Authelia lacks). Conservative: only what is provable from the rules as written.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { shadowedRuleWarnings } from '../../../src/config/shadowed-rules.js';
import { loadContent, withMinimal } from './config-files.js';

type Rule = Record<string, unknown>;
const ADMINS: Rule = { domain: 'admin.example.com', subject: ['group:admins'], policy: 'two_factor' };

/** The lint's warnings for these rules, through the real loader (schema defaults and transforms applied). */
function lint(rules: Rule[]): string[] {
  const { config, warnings } = loadContent(withMinimal({ access_control: { default_policy: 'deny', rules } }));
  const lintWarnings = shadowedRuleWarnings(config.access_control);
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('access_control.rules[')),
    lintWarnings,
    'validate-config shows exactly the lint warnings',
  );
  return lintWarnings;
}

describe('warned: a later rule without a subject hands the restricted resource to everyone', () => {
  it('the example configuration pattern: group:admins two_factor, then *.example.com one_factor', () => {
    const warnings = lint([ADMINS, { domain: '*.example.com', policy: 'one_factor' }]);
    assert.deepEqual(warnings, [
      "access_control.rules[0] gives 'admin.example.com' only to its subject, but access_control.rules[1] (policy one_factor, " +
        'no subject) matches the same requests for everyone else: anyone who signs in gets in. If only the subject should, add a rule for ' +
        "'admin.example.com' with policy deny right after access_control.rules[0]",
    ]);
  });

  const cases: { rule: string; later: Rule; restricted?: Rule }[] = [
    { rule: 'the same domain, policy bypass', later: { domain: 'admin.example.com', policy: 'bypass' } },
    {
      rule: 'a wildcard over a wildcard',
      later: { domain: '*.example.com', policy: 'one_factor' },
      restricted: { ...ADMINS, domain: '*.apps.example.com' },
    },
    {
      rule: 'a stronger policy still lets everyone in',
      later: { domain: 'admin.example.com', policy: 'two_factor' },
      restricted: { ...ADMINS, policy: 'one_factor' },
    },
    {
      rule: 'the later rule has more methods and networks than the restricted one (wider)',
      later: {
        domain: '*.example.com',
        policy: 'one_factor',
        methods: ['GET', 'POST'],
        networks: ['10.0.0.0/8', '192.168.0.0/16'],
      },
      restricted: { ...ADMINS, methods: ['GET'], networks: ['10.0.0.0/8'] },
    },
    {
      rule: 'the same resources',
      later: { domain: 'admin.example.com', policy: 'one_factor', resources: ['^/api/'] },
      restricted: { ...ADMINS, resources: ['^/api/'] },
    },
    {
      rule: 'one of several domains of the restricted rule',
      later: { domain: 'b.example.com', policy: 'one_factor' },
      restricted: { ...ADMINS, domain: ['a.example.com', 'b.example.com'] },
    },
  ];
  for (const { rule, later, restricted } of cases) {
    it(rule, () => assert.equal(lint([restricted ?? ADMINS, later]).length, 1));
  }
});

describe('not warned: everyone else is provably kept out, or nothing can be proven', () => {
  const cases: { rule: string; rules: Rule[] }[] = [
    {
      rule: 'a deny for the same domain in between (the fixed example)',
      rules: [
        ADMINS,
        { domain: 'admin.example.com', policy: 'deny' },
        { domain: '*.example.com', policy: 'one_factor' },
      ],
    },
    {
      rule: 'the later rule has a subject',
      rules: [ADMINS, { domain: '*.example.com', subject: 'group:dev', policy: 'one_factor' }],
    },
    { rule: 'the later rule denies', rules: [ADMINS, { domain: '*.example.com', policy: 'deny' }] },
    {
      rule: 'the restricted rule is a deny (an exclusion, not a grant)',
      rules: [
        { ...ADMINS, policy: 'deny' },
        { domain: '*.example.com', policy: 'one_factor' },
      ],
    },
    { rule: 'another domain', rules: [ADMINS, { domain: 'app.example.com', policy: 'one_factor' }] },
    {
      rule: 'a wildcard does not cover its apex',
      rules: [
        { ...ADMINS, domain: 'example.com' },
        { domain: '*.example.com', policy: 'one_factor' },
      ],
    },
    {
      rule: 'the later rule is narrower: resources',
      rules: [ADMINS, { domain: '*.example.com', policy: 'one_factor', resources: ['^/public/'] }],
    },
    {
      rule: 'the later rule is narrower: methods',
      rules: [ADMINS, { domain: '*.example.com', policy: 'one_factor', methods: ['GET'] }],
    },
    {
      rule: 'the later rule is narrower: networks',
      rules: [ADMINS, { domain: '*.example.com', policy: 'bypass', networks: ['192.168.0.0/16'] }],
    },
    {
      rule: 'the later rule is narrower: query',
      rules: [ADMINS, { domain: '*.example.com', policy: 'one_factor', query: [[{ key: 'x' }]] }],
    },
    {
      rule: 'the later rule only has a domain regex (not reasoned about)',
      rules: [ADMINS, { domain_regex: '^.*\\.example\\.com$', policy: 'one_factor' }],
    },
    {
      rule: 'the later rule has a {user} domain (per user, not everyone)',
      rules: [
        { ...ADMINS, domain: 'john.example.com' },
        { domain: '{user}.example.com', policy: 'one_factor' },
      ],
    },
    {
      rule: 'the restricted rule has a {user} domain under a wildcard (not reasoned about)',
      rules: [
        { ...ADMINS, domain: '{user}.example.com' },
        { domain: '*.example.com', policy: 'one_factor' },
      ],
    },
    {
      rule: 'a rule without a subject before the restricted one (it answers first; not this lint)',
      rules: [{ domain: '*.example.com', policy: 'one_factor' }, ADMINS],
    },
  ];
  for (const { rule, rules } of cases) {
    it(rule, () => assert.deepEqual(lint(rules), []));
  }
});
