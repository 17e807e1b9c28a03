import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { accessControlProblems } from '../../../src/config/access-control-syntax.js';
import { configSchema, type RawConfig } from '../../../src/config/schema.js';

type RawAccessControl = NonNullable<RawConfig['access_control']>;
type RawRule = NonNullable<RawAccessControl['rules']>[number];

type RawDefinitions = RawConfig['definitions'];

const problemsOf = (raw: RawAccessControl, definitions?: RawDefinitions) => {
  const config = configSchema.parse({ access_control: raw, definitions });
  return accessControlProblems(config.access_control, config.definitions);
};
const ruleProblems = (rule: RawRule, networks?: RawAccessControl['networks']) =>
  problemsOf({ networks, rules: [rule] });

describe('accessControlProblems: a valid section has none', () => {
  it('accepts every criterion in its documented forms', () => {
    assert.deepEqual(
      problemsOf({
        default_policy: 'deny',
        networks: [{ name: 'internal', networks: ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8', '127.0.0.1'] }],
        rules: [
          {
            domain: ['public.example.com', '*.example.com', 'bücher.example.com'],
            policy: 'bypass',
            methods: ['OPTIONS'],
          },
          { domain: '{user}.home.example.com', policy: 'bypass' }, // Authelia's documented (deprecated) example
          { domain: '{group}.example.com', policy: 'one_factor' },
          { domain: ['{user}-app.example.com', '{user}_x.bücher.example.com'], policy: 'one_factor' },
          {
            domain_regex: ['^user-(?P<User>\\w+)\\.example\\.com$', '^group-(?P<Group>\\w+)\\.example\\.com$'],
            policy: 'one_factor',
          },
          {
            domain: '*.example.com',
            resources: ['^/api([/?].*)?$', '(?i)^/admin'],
            methods: [
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
            ],
            networks: ['internal', '172.16.0.0/12', '2001:db8::/32'],
            subject: [['user:john'], ['group:admins', 'group:dev'], 'group: spaced'],
            query: [
              [
                { operator: 'present', key: 'secure' },
                { operator: 'absent', key: 'insecure' },
              ],
              [
                { operator: 'pattern', key: 'token', value: '^(abc123|zyx789)$' },
                { operator: 'not pattern', key: 'random', value: '^(1|2)$' },
              ],
              [{ key: 'a', value: 'b' }, { operator: 'not equal', key: 'c', value: 'd' }, { key: 'e' }],
              [
                { key: 'f', value: '' },
                { operator: 'present', key: 'g', value: '' },
                { operator: 'absent', key: 'h', value: '' },
              ],
              [
                { operator: 'equal', key: 'i', value: '' },
                { operator: 'pattern', key: 'j', value: 'a(?i)b' },
              ],
            ],
            policy: 'two_factor',
          },
        ],
      }),
      [],
    );
  });
});

describe('accessControlProblems: each problem, with its key path', () => {
  const cases: { why: string; rule?: RawRule; section?: RawAccessControl; path: string; message: RegExp }[] = [
    {
      why: 'a rule with neither domain nor domain_regex',
      rule: { policy: 'one_factor' },
      path: 'access_control.rules[0]',
      message: /needs a 'domain' or a 'domain_regex'/,
    },
    {
      why: 'a wildcard in the middle',
      rule: { domain: 'app.*.example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /wildcard is only allowed as a leading '\*\.'/,
    },
    {
      why: 'a wildcard without its dot',
      rule: { domain: '*example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /wildcard is only allowed as a leading/,
    },
    {
      why: 'a lone wildcard',
      rule: { domain: '*', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /wildcard is only allowed as a leading/,
    },
    {
      why: 'two wildcards',
      rule: { domain: '*.*.example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /wildcard is only allowed as a leading/,
    },
    {
      why: 'a template elsewhere than the start',
      rule: { domain: 'app.{user}.example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /only allowed at the start/,
    },
    {
      why: 'a template inside the first label',
      rule: { domain: 'app-{group}.example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /only allowed at the start/,
    },
    {
      why: 'a template alone',
      rule: { domain: '{user}', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /'\{user\}' must be followed by a domain name/,
    },
    {
      why: 'a template followed by a label only',
      rule: { domain: '{group}-app', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /'\{group\}' must be followed by a domain name/,
    },
    {
      why: 'a template followed by a bad domain',
      rule: { domain: '{user}.exa mple.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /must be followed by a domain name/,
    },
    {
      why: 'a domain that is not a host name',
      rule: { domain: 'example.com/path', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /not a valid domain name/,
    },
    {
      why: 'a domain with an empty label',
      rule: { domain: 'app..example.com', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /not a valid domain name/,
    },
    {
      why: 'a domain with a trailing dot',
      rule: { domain: 'example.com.', policy: 'deny' },
      path: 'access_control.rules[0].domain[0]',
      message: /not a valid domain name/,
    },
    {
      why: 'a bad domain_regex',
      rule: { domain_regex: '^(app', policy: 'deny' },
      path: 'access_control.rules[0].domain_regex[0]',
      message: /invalid regular expression '\^\(app': missing closing \)/,
    },
    {
      why: 'an escape Go refuses',
      rule: { domain: 'a.example.com', resources: '^/a\\Z', policy: 'deny' },
      path: 'access_control.rules[0].resources[0]',
      message: /invalid escape sequence: `\\Z`/,
    },
    {
      why: 'lookahead, which Go refuses',
      rule: { domain: 'a.example.com', resources: ['^/ok', '^/(?!admin)'], policy: 'deny' },
      path: 'access_control.rules[0].resources[1]',
      message: /invalid or unsupported Perl syntax/,
    },
    {
      why: 'a bad resources regex',
      rule: { domain: 'a.example.com', resources: '*/admin.*$', policy: 'deny' },
      path: 'access_control.rules[0].resources[0]',
      message: /missing argument to repetition operator/,
    },
    {
      why: 'a lower-case user group that would bind nobody',
      rule: { domain_regex: '^(?P<user>\\w+)\\.example\\.com$', policy: 'one_factor' },
      path: 'access_control.rules[0].domain_regex[0]',
      message: /named group 'user' does not bind to the user/,
    },
    {
      why: 'a bad query pattern',
      rule: { domain: 'a.example.com', query: [{ operator: 'pattern', key: 'k', value: '[' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /missing closing \]/,
    },
    {
      why: 'a bad method',
      rule: { domain: 'a.example.com', methods: ['GET', 'FETCH'], policy: 'deny' },
      path: 'access_control.rules[0].methods[1]',
      message: /'FETCH' is not an HTTP method/,
    },
    {
      why: 'a method in lower case',
      rule: { domain: 'a.example.com', methods: 'get', policy: 'deny' },
      path: 'access_control.rules[0].methods[0]',
      message: /write it in capitals: 'GET'/,
    },
    {
      why: 'a bad address in a rule',
      rule: { domain: 'a.example.com', networks: '10.0.0.300', policy: 'deny' },
      path: 'access_control.rules[0].networks[0]',
      message: /not an IP address or a CIDR range/,
    },
    {
      why: 'a bad prefix in a rule',
      rule: { domain: 'a.example.com', networks: ['10.0.0.0/8', '10.0.0.0/40'], policy: 'deny' },
      path: 'access_control.rules[0].networks[1]',
      message: /invalid prefix length/,
    },
    {
      why: 'an unknown network name',
      rule: { domain: 'a.example.com', networks: 'office', policy: 'deny' },
      path: 'access_control.rules[0].networks[0]',
      message: /neither an IP address, a CIDR range nor the name of a network/,
    },
    {
      why: 'a subject without a prefix',
      rule: { domain: 'a.example.com', subject: 'john', policy: 'deny' },
      path: 'access_control.rules[0].subject[0][0]',
      message: /must start with 'user:' or 'group:'/,
    },
    {
      why: 'an OAuth 2.0 client subject (it decides who gets in and cannot be honoured)',
      rule: { domain: 'a.example.com', subject: [['user:john'], ['oauth2:client:my-client']], policy: 'one_factor' },
      path: 'access_control.rules[0].subject[1][0]',
      message: /Gatehouse has no OAuth 2.0 clients.*remove the subject or the rule/,
    },
    {
      why: 'a subject prefix with only spaces after it',
      rule: { domain: 'a.example.com', subject: 'user:  ', policy: 'deny' },
      path: 'access_control.rules[0].subject[0][0]',
      message: /needs a name after 'user:'/,
    },
    {
      why: 'a subject with an unknown prefix in an inner list',
      rule: { domain: 'a.example.com', subject: [['user:john', 'role:admin']], policy: 'deny' },
      path: 'access_control.rules[0].subject[0][1]',
      message: /'role:admin' must start with/,
    },
    {
      why: 'a subject prefix without a name',
      rule: { domain: 'a.example.com', subject: 'group:', policy: 'deny' },
      path: 'access_control.rules[0].subject[0][0]',
      message: /needs a name after 'group:'/,
    },
    {
      why: 'bypass with a subject',
      rule: { domain: 'a.example.com', subject: 'user:john', policy: 'bypass' },
      path: 'access_control.rules[0].policy',
      message: /'bypass' rule cannot depend on who the user is.*'subject'/,
    },
    {
      why: 'bypass with a User regex group',
      rule: { domain_regex: '^(?P<User>\\w+)\\.example\\.com$', policy: 'bypass' },
      path: 'access_control.rules[0].domain_regex[0]',
      message: /'bypass' rule cannot depend on who the user is/,
    },
    {
      why: 'bypass with a Group group in resources',
      rule: { domain: 'a.example.com', resources: '^/(?P<Group>\\w+)/', policy: 'bypass' },
      path: 'access_control.rules[0].resources[0]',
      message: /'bypass' rule cannot depend on who the user is/,
    },
    {
      why: 'present with a value',
      rule: { domain: 'a.example.com', query: [{ operator: 'present', key: 'k', value: 'v' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /the 'present' operator takes no value/,
    },
    {
      why: 'absent with a value',
      rule: {
        domain: 'a.example.com',
        query: [[{ key: 'a' }, { operator: 'absent', key: 'k', value: 'x' }]],
        policy: 'deny',
      },
      path: 'access_control.rules[0].query[0][1].value',
      message: /the 'absent' operator takes no value/,
    },
    {
      why: 'equal without a value',
      rule: { domain: 'a.example.com', query: [{ operator: 'equal', key: 'k' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /the 'equal' operator needs a value/,
    },
    {
      why: 'not equal without a value',
      rule: { domain: 'a.example.com', query: [{ operator: 'not equal', key: 'k' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /the 'not equal' operator needs a value/,
    },
    {
      why: 'pattern without a value',
      rule: { domain: 'a.example.com', query: [{ operator: 'pattern', key: 'k' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /the 'pattern' operator needs a value/,
    },
    {
      why: 'not pattern without a value',
      rule: { domain: 'a.example.com', query: [{ operator: 'not pattern', key: 'k' }], policy: 'deny' },
      path: 'access_control.rules[0].query[0][0].value',
      message: /the 'not pattern' operator needs a value/,
    },
    {
      why: 'an empty list of methods',
      rule: { domain: 'a.example.com', methods: [], policy: 'deny' },
      path: 'access_control.rules[0].methods',
      message: /must not be an empty list/,
    },
    {
      why: 'an empty inner subject list',
      rule: { domain: 'a.example.com', subject: [[]], policy: 'deny' },
      path: 'access_control.rules[0].subject[0]',
      message: /must not be an empty list/,
    },
    {
      why: 'an empty inner query list',
      rule: { domain: 'a.example.com', query: [[]], policy: 'deny' },
      path: 'access_control.rules[0].query[0]',
      message: /must not be an empty list/,
    },
    {
      why: 'a bad address in a named network',
      section: { networks: [{ name: 'lan', networks: ['10.0.0.0/8', '10.0.0.256'] }] },
      path: 'access_control.networks[0].networks[1]',
      message: /'10.0.0.256' is not an IP address/,
    },
    {
      why: 'a bad prefix in a named network',
      section: { networks: [{ name: 'lan', networks: '10.0.0.0/33' }] },
      path: 'access_control.networks[0].networks[0]',
      message: /prefix length: it must be 0 to 32/,
    },
    {
      why: 'a name inside a named network',
      section: {
        networks: [
          { name: 'a', networks: '10.0.0.0/8' },
          { name: 'b', networks: 'a' },
        ],
      },
      path: 'access_control.networks[1].networks[0]',
      message: /not an IP address/,
    },
    {
      why: 'a named network with no networks',
      section: { networks: [{ name: 'lan', networks: [] }] },
      path: 'access_control.networks[0].networks',
      message: /at least one network/,
    },
    {
      why: 'duplicate network names',
      section: {
        networks: [
          { name: 'lan', networks: '10.0.0.0/8' },
          { name: 'lan', networks: '192.168.0.0/16' },
        ],
      },
      path: 'access_control.networks[1].name',
      message: /duplicate network name 'lan'/,
    },
  ];
  for (const { why, rule, section, path, message } of cases) {
    it(`${why} → ${path}`, () => {
      const problems = section ? problemsOf(section) : ruleProblems(rule!);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.path, path);
      assert.match(problems[0]!.message, message);
    });
  }

  it('reports every problem at once, in order, with each rule numbered', () => {
    const problems = problemsOf({
      networks: [{ name: 'lan', networks: 'x' }],
      rules: [
        { domain: 'ok.example.com', policy: 'one_factor' },
        { domain: 'a.*.com', resources: '(', methods: 'BREW', networks: 'wan', subject: 'me', policy: 'deny' },
        { policy: 'bypass', subject: 'user:john' },
      ],
    });
    assert.deepEqual(
      problems.map((problem) => problem.path),
      [
        'access_control.networks[0].networks[0]',
        'access_control.rules[1].domain[0]',
        'access_control.rules[1].resources[0]',
        'access_control.rules[1].methods[0]',
        'access_control.rules[1].networks[0]',
        'access_control.rules[1].subject[0][0]',
        'access_control.rules[2]',
        'access_control.rules[2].policy',
      ],
    );
  });

  it("a network name from definitions.network (Authelia's current form) is accepted in a rule", () => {
    assert.deepEqual(
      problemsOf(
        {
          rules: [{ domain: 'a.example.com', networks: ['office', 'lan'], policy: 'deny' }],
          networks: [{ name: 'lan', networks: '10.0.0.0/8' }],
        },
        { network: { office: ['192.168.1.0/24', '2001:db8::/32'] } },
      ),
      [],
    );
  });

  it('a network defined in both definitions.network and access_control.networks is a problem (as Authelia)', () => {
    const problems = problemsOf(
      { networks: [{ name: 'office', networks: '10.0.0.0/8' }] },
      { network: { office: '192.168.1.0/24' } },
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['access_control.networks[0].name'],
    );
    assert.match(problems[0]!.message, /'office' is also defined in definitions\.network/);
  });

  it('definitions.network entries are checked, with their key path', () => {
    const problems = problemsOf({}, { network: { office: ['192.168.1.0/24', '10.0.0.0/33'], empty: [] } });
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['definitions.network.office[1]', 'definitions.network.empty'],
    );
  });

  it('a network name that is defined is accepted in a rule', () => {
    assert.deepEqual(
      ruleProblems({ domain: 'a.example.com', networks: ['lan'], policy: 'deny' }, [
        { name: 'lan', networks: '10.0.0.0/8' },
      ]),
      [],
    );
  });
});
