// The cases of Authelia's authorizer tests (internal/authorization/authorizer_test.go), taken as facts: the same
// rules, the same requests, the same expected policy. Gatehouse must agree with every one of them.
// Left out, each for a reason that fails closed: rules without a domain and bypass rules with a subject (Authelia's
// validator refuses them too), and `oauth2:client:` subjects (Gatehouse refuses them: it has no OAuth 2.0 clients).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { compileAccessControl } from '../../../src/authz/rules.js';
import type { AccessSubject } from '../../../src/authz/rules-request.js';
import { canonicalResource } from '../../../src/authz/resource-path.js';
import { configSchema, type Policy, type RawConfig } from '../../../src/config/schema.js';

type RawAccessControl = NonNullable<RawConfig['access_control']>;
type RawRule = NonNullable<RawAccessControl['rules']>[number];

interface Who {
  subject?: AccessSubject;
  ip: string;
}

// Authelia's test subjects.
const Anonymous: Who = { ip: '127.0.0.1' };
const John: Who = { subject: { username: 'john', groups: ['dev', 'admins'] }, ip: '10.0.0.8' };
const Bob: Who = { subject: { username: 'bob', groups: [] }, ip: '10.0.0.7' };
const Sam: Who = { subject: { username: 'sam', groups: [] }, ip: 'fec0::1' };
const Sally: Who = { subject: { username: 'sam', groups: ['dev', 'admins'] }, ip: 'fec0::2' };

type Check = [who: Who, url: string, method: string, expected: Policy];

function suite(name: string, defaultPolicy: Policy | undefined, rules: RawRule[], checks: Check[]): void {
  describe(`Authelia authorizer: ${name}`, () => {
    const config = configSchema.parse({ access_control: { default_policy: defaultPolicy, rules } });
    const access = compileAccessControl(config.access_control, config.definitions);
    for (const [who, url, method, expected] of checks) {
      const label = who.subject
        ? `${who.subject.username}${who.subject.groups.length ? `[${who.subject.groups}]` : ''}`
        : 'anonymous';
      it(`${label} ${method} ${url} → ${expected}`, () => {
        const resource = canonicalResource(url);
        assert.equal(typeof resource, 'string', `the path of ${url} is accepted`);
        const decision = access.evaluate({
          url: new URL(url),
          resource: resource as string,
          method,
          ip: who.ip,
          subject: who.subject,
        });
        assert.equal(decision.policy, expected);
      });
    }
  });
}

suite(
  'default bypass',
  'bypass',
  [],
  [
    [Anonymous, 'https://public.example.com/', 'GET', 'bypass'],
    [John, 'https://public.example.com/', 'GET', 'bypass'],
    [Bob, 'https://public.example.com/', 'GET', 'bypass'],
    [Bob, 'https://public.example.com/elsewhere', 'GET', 'bypass'],
  ],
);

suite(
  'default deny',
  'deny',
  [],
  [
    [Anonymous, 'https://public.example.com/', 'GET', 'deny'],
    [John, 'https://public.example.com/', 'GET', 'deny'],
    [Bob, 'https://public.example.com/', 'GET', 'deny'],
    [Bob, 'https://public.example.com/elsewhere', 'GET', 'deny'],
  ],
);

suite(
  'multi-domain rule',
  'deny',
  [{ domain: ['*.example.com'], policy: 'bypass' }],
  [
    [John, 'https://public.example.com/', 'GET', 'bypass'],
    [John, 'https://private.example.com/', 'GET', 'bypass'],
    [John, 'https://public.example.com/elsewhere', 'GET', 'bypass'],
    [John, 'https://example.com/', 'GET', 'deny'],
    [John, 'https://public.example.com.c/', 'GET', 'deny'],
    [John, 'https://public.example.co/', 'GET', 'deny'],
  ],
);

suite(
  'dynamic domain rules',
  'deny',
  [
    { domain: ['{user}.example.com'], policy: 'one_factor' },
    { domain: ['{group}.example.com'], policy: 'one_factor' },
  ],
  [
    [John, 'https://john.example.com/', 'GET', 'one_factor'],
    [John, 'https://dev.example.com/', 'GET', 'one_factor'],
    [John, 'https://admins.example.com/', 'GET', 'one_factor'],
    [John, 'https://othergroup.example.com/', 'GET', 'deny'],
  ],
);

suite(
  'multiple domains in a rule',
  'deny',
  [{ domain: ['*.example.com', 'other.com'], policy: 'bypass' }],
  [
    [John, 'https://public.example.com/', 'GET', 'bypass'],
    [John, 'https://private.example.com/', 'GET', 'bypass'],
    [John, 'https://public.example.com/elsewhere', 'GET', 'bypass'],
    [John, 'https://example.com/', 'GET', 'deny'],
    [John, 'https://public.example.com.c/', 'GET', 'deny'],
    [John, 'https://public.example.co/', 'GET', 'deny'],
    [John, 'https://other.com/', 'GET', 'bypass'],
    [John, 'https://other.com/elsewhere', 'GET', 'bypass'],
    [John, 'https://private.other.com/', 'GET', 'deny'],
  ],
);

suite(
  'wildcard precedence is case-insensitive',
  'deny',
  [
    { domain: ['*.admin.example5.com'], policy: 'two_factor' },
    { domain: ['*.example5.com'], policy: 'bypass' },
  ],
  [
    [John, 'https://secure.admin.example5.com/', 'GET', 'two_factor'],
    [John, 'https://secure.ADMIN.example5.com/', 'GET', 'two_factor'],
    [John, 'https://secure.Admin.example5.com/', 'GET', 'two_factor'],
    [John, 'https://SECURE.ADMIN.EXAMPLE5.COM/', 'GET', 'two_factor'],
    [John, 'https://public.example5.com/', 'GET', 'bypass'],
    [John, 'https://public.EXAMPLE5.com/', 'GET', 'bypass'],
  ],
);

suite(
  'factors policy',
  'deny',
  [
    { domain: ['single.example.com'], policy: 'one_factor' },
    { domain: ['protected.example.com'], policy: 'two_factor' },
    { domain: ['public.example.com'], policy: 'bypass' },
  ],
  [
    [John, 'https://public.example.com/', 'GET', 'bypass'],
    [John, 'https://protected.example.com/', 'GET', 'two_factor'],
    [John, 'https://single.example.com/', 'GET', 'one_factor'],
    [John, 'https://example.com/', 'GET', 'deny'],
  ],
);

suite(
  'query policy',
  'deny',
  [
    {
      domain: ['one.example.com'],
      query: [
        [
          { operator: 'equal', key: 'test', value: 'two' },
          { operator: 'absent', key: 'admin' },
        ],
        [{ operator: 'present', key: 'public' }],
      ],
      policy: 'one_factor',
    },
    {
      domain: ['two.example.com'],
      query: [[{ operator: 'equal', key: 'test', value: 'one' }], [{ operator: 'equal', key: 'test', value: 'two' }]],
      policy: 'two_factor',
    },
    {
      domain: ['three.example.com'],
      query: [
        [
          { operator: 'not equal', key: 'test', value: 'one' },
          { operator: 'not equal', key: 'test', value: 'two' },
        ],
      ],
      policy: 'two_factor',
    },
    {
      domain: ['four.example.com'],
      query: [[{ operator: 'pattern', key: 'test', value: '^(one|two|three)$' }]],
      policy: 'two_factor',
    },
    {
      domain: ['five.example.com'],
      query: [[{ operator: 'not pattern', key: 'test', value: '^(one|two|three)$' }]],
      policy: 'two_factor',
    },
  ],
  [
    [John, 'https://one.example.com/?admin=true', 'GET', 'deny'],
    [John, 'https://one.example.com/?public=true', 'GET', 'one_factor'],
    [John, 'https://one.example.com/?test=two', 'GET', 'one_factor'],
    [John, 'https://one.example.com/?test=two&admin=true', 'GET', 'deny'],
    [John, 'https://two.example.com/?test=one&admin=true', 'GET', 'two_factor'],
    [John, 'https://two.example.com/?test=two&admin=true', 'GET', 'two_factor'],
    [John, 'https://two.example.com/?test=three&admin=true', 'GET', 'deny'],
    [John, 'https://three.example.com/?test=one', 'GET', 'deny'],
    [John, 'https://three.example.com/?test=two', 'GET', 'deny'],
    [John, 'https://three.example.com/?test=three', 'GET', 'two_factor'],
    [John, 'https://four.example.com/?test=one', 'GET', 'two_factor'],
    [John, 'https://four.example.com/?test=two', 'GET', 'two_factor'],
    [John, 'https://four.example.com/?test=three', 'GET', 'two_factor'],
    [John, 'https://four.example.com/?test=five', 'GET', 'deny'],
    [John, 'https://five.example.com/?test=five', 'GET', 'two_factor'],
    [John, 'https://five.example.com/?test=one', 'GET', 'deny'],
    [John, 'https://five.example.com/?test=two', 'GET', 'deny'],
    [John, 'https://five.example.com/?test=three', 'GET', 'deny'],
  ],
);

// Authelia's table also has two `oauth2:client:` rules here; Gatehouse refuses those subjects at validation.
suite(
  'rule precedence',
  'deny',
  [
    { domain: ['public.example.com'], policy: 'bypass' },
    { domain: ['protected.example.com'], subject: [['user:john']], policy: 'one_factor' },
    { domain: ['*.example.com'], policy: 'two_factor' },
  ],
  [
    [John, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'GET', 'two_factor'],
    [John, 'https://public.example.com/', 'GET', 'bypass'],
    [Bob, 'https://public.example.com/', 'GET', 'bypass'],
    [Anonymous, 'https://public.example.com/', 'GET', 'bypass'],
  ],
);

suite(
  'domain matching',
  undefined,
  [
    { domain: ['public.example.com'], policy: 'bypass' },
    { domain: ['one-factor.example.com'], policy: 'one_factor' },
    { domain: ['two-factor.example.com'], policy: 'two_factor' },
    { domain: ['*.example.com'], subject: [['group:admins']], policy: 'one_factor' },
    { domain: ['*.example.com'], policy: 'two_factor' },
  ],
  [
    [John, 'https://public.example.com', 'GET', 'bypass'],
    [John, 'https://public.example.com:8080/', 'GET', 'bypass'],
    [Bob, 'https://public.example.com', 'GET', 'bypass'],
    [Bob, 'https://public.example.com:8080', 'GET', 'bypass'],
    [Anonymous, 'https://public.example.com', 'GET', 'bypass'],
    [John, 'https://one-factor.example.com', 'GET', 'one_factor'],
    [Bob, 'https://one-factor.example.com', 'GET', 'one_factor'],
    [Anonymous, 'https://one-factor.example.com', 'GET', 'one_factor'],
    [John, 'https://two-factor.example.com', 'GET', 'two_factor'],
    [Bob, 'https://two-factor.example.com', 'GET', 'two_factor'],
    [Anonymous, 'https://two-factor.example.com', 'GET', 'two_factor'],
    [John, 'https://x.example.com', 'GET', 'one_factor'],
    [Bob, 'https://x.example.com', 'GET', 'two_factor'],
    [Anonymous, 'https://x.example.com', 'GET', 'one_factor'],
  ],
);

suite(
  'domain regex matching',
  undefined,
  [
    { domain_regex: ['^.*\\.example.com$'], policy: 'bypass' },
    { domain_regex: ['^.*\\.example2.com$'], policy: 'one_factor' },
    { domain_regex: ['^(?P<User>[a-zA-Z0-9]+)\\.regex.com$'], policy: 'one_factor' },
    { domain_regex: ['^group-(?P<Group>[a-zA-Z0-9]+)\\.regex.com$'], policy: 'two_factor' },
    { domain_regex: ['^.*\\.(one|two).com$'], policy: 'two_factor' },
  ],
  [
    [John, 'https://john.regex.com', 'GET', 'one_factor'],
    [Bob, 'https://john.regex.com', 'GET', 'deny'],
    [Bob, 'https://public.example.com', 'GET', 'bypass'],
    [Anonymous, 'https://public.example2.com', 'GET', 'one_factor'],
    [John, 'https://group-dev.regex.com', 'GET', 'two_factor'],
    [Bob, 'https://group-dev.regex.com', 'GET', 'deny'],
  ],
);

suite(
  'resource subject matching',
  undefined,
  [
    {
      domain: ['id.example.com'],
      resources: ['^/(?P<User>[a-zA-Z0-9]+)/personal(/|/.*)?$', '^/(?P<Group>[a-zA-Z0-9]+)/group(/|/.*)?$'],
      policy: 'one_factor',
    },
    {
      domain: ['id.example.com'],
      resources: ['^/([a-zA-Z0-9]+)/personal(/|/.*)?$', '^/([a-zA-Z0-9]+)/group(/|/.*)?$'],
      policy: 'deny',
    },
    { domain: ['id.example.com'], policy: 'bypass' },
  ],
  [
    [John, 'https://id.example.com', 'GET', 'bypass'],
    [Bob, 'https://id.example.com', 'GET', 'bypass'],
    [Anonymous, 'https://id.example.com', 'GET', 'bypass'],
    [John, 'https://id.example.com/john/personal', 'GET', 'one_factor'],
    [John, 'https://id.example.com/John/personal', 'GET', 'one_factor'],
    [Bob, 'https://id.example.com/bob/personal', 'GET', 'one_factor'],
    [Bob, 'https://id.example.com/Bob/personal', 'GET', 'one_factor'],
    [John, 'https://id.example.com/invaliduser/personal', 'GET', 'deny'],
    [Bob, 'https://id.example.com/invaliduser/personal', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/invaliduser/personal', 'GET', 'one_factor'],
    [John, 'https://id.example.com/bob/personal', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/bob/personal', 'GET', 'one_factor'],
    [John, 'https://id.example.com/Bob/personal', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/Bob/personal', 'GET', 'one_factor'],
    [Bob, 'https://id.example.com/john/personal', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/john/personal', 'GET', 'one_factor'],
    [Bob, 'https://id.example.com/John/personal', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/John/personal', 'GET', 'one_factor'],
    [John, 'https://id.example.com/dev/group', 'GET', 'one_factor'],
    [John, 'https://id.example.com/admins/group', 'GET', 'one_factor'],
    [Bob, 'https://id.example.com/dev/group', 'GET', 'deny'],
    [Bob, 'https://id.example.com/admins/group', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/dev/group', 'GET', 'one_factor'],
    [Anonymous, 'https://id.example.com/admins/group', 'GET', 'one_factor'],
    [John, 'https://id.example.com/invalidgroup/group', 'GET', 'deny'],
    [Bob, 'https://id.example.com/invalidgroup/group', 'GET', 'deny'],
    [Anonymous, 'https://id.example.com/invalidgroup/group', 'GET', 'one_factor'],
  ],
);

suite(
  'user matching',
  'deny',
  [{ domain: ['protected.example.com'], subject: [['user:john']], policy: 'one_factor' }],
  [
    [John, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'GET', 'deny'],
  ],
);

suite(
  'group matching',
  'deny',
  [{ domain: ['protected.example.com'], subject: [['group:admins']], policy: 'one_factor' }],
  [
    [John, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'GET', 'deny'],
  ],
);

suite(
  'subjects matching',
  'deny',
  [{ domain: ['protected.example.com'], subject: [['group:admins'], ['user:bob']], policy: 'one_factor' }],
  [
    [John, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Sam, 'https://protected.example.com/', 'GET', 'deny'],
    [Anonymous, 'https://protected.example.com/', 'GET', 'one_factor'],
  ],
);

suite(
  'multiple subjects matching',
  'deny',
  [
    {
      domain: ['protected.example.com'],
      subject: [
        ['group:admins', 'user:bob'],
        ['group:admins', 'group:dev'],
      ],
      policy: 'one_factor',
    },
  ],
  [
    [John, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'GET', 'deny'],
    [Anonymous, 'https://protected.example.com/', 'GET', 'one_factor'],
  ],
);

suite(
  'IP matching',
  'deny',
  [
    { domain: ['protected.example.com'], networks: ['192.168.1.8', '10.0.0.8'], policy: 'bypass' },
    { domain: ['protected.example.com'], networks: ['10.0.0.7'], policy: 'one_factor' },
    { domain: ['net.example.com'], networks: ['10.0.0.0/8'], policy: 'two_factor' },
    { domain: ['ipv6.example.com'], networks: ['fec0::1/64'], policy: 'two_factor' },
    { domain: ['ipv6-alt.example.com'], networks: ['fec0::1'], policy: 'two_factor' },
  ],
  [
    [John, 'https://protected.example.com/', 'GET', 'bypass'],
    [Bob, 'https://protected.example.com/', 'GET', 'one_factor'],
    [Anonymous, 'https://protected.example.com/', 'GET', 'deny'],
    [John, 'https://net.example.com/', 'GET', 'two_factor'],
    [Bob, 'https://net.example.com/', 'GET', 'two_factor'],
    [Anonymous, 'https://net.example.com/', 'GET', 'deny'],
    [Sally, 'https://ipv6-alt.example.com/', 'GET', 'deny'],
    [Sam, 'https://ipv6-alt.example.com/', 'GET', 'two_factor'],
    [Sally, 'https://ipv6.example.com/', 'GET', 'two_factor'],
    [Sam, 'https://ipv6.example.com/', 'GET', 'two_factor'],
  ],
);

suite(
  'method matching',
  'deny',
  [
    { domain: ['protected.example.com'], methods: ['OPTIONS', 'HEAD', 'GET', 'CONNECT', 'TRACE'], policy: 'bypass' },
    { domain: ['protected.example.com'], methods: ['PUT', 'PATCH', 'POST'], policy: 'one_factor' },
    { domain: ['protected.example.com'], methods: ['DELETE'], policy: 'two_factor' },
  ],
  [
    [John, 'https://protected.example.com/', 'GET', 'bypass'],
    [Bob, 'https://protected.example.com/', 'OPTIONS', 'bypass'],
    [Anonymous, 'https://protected.example.com/', 'HEAD', 'bypass'],
    [John, 'https://protected.example.com/', 'CONNECT', 'bypass'],
    [Bob, 'https://protected.example.com/', 'TRACE', 'bypass'],
    [John, 'https://protected.example.com/', 'PUT', 'one_factor'],
    [Bob, 'https://protected.example.com/', 'PATCH', 'one_factor'],
    [Anonymous, 'https://protected.example.com/', 'POST', 'one_factor'],
    [Anonymous, 'https://protected.example.com/', 'DELETE', 'two_factor'],
  ],
);

const r = 'https://resource.example.com';
suite(
  'resource matching',
  'deny',
  [
    { domain: ['resource.example.com'], resources: ['^/case/[a-z]+$', '^/$'], policy: 'bypass' },
    { domain: ['resource.example.com'], resources: ['^/bypass/.*$', '^/$', 'embedded'], policy: 'bypass' },
    { domain: ['resource.example.com'], resources: ['^/one_factor/.*$'], policy: 'one_factor' },
    { domain: ['resource.example.com'], resources: ['^/a/longer/rule/.*$'], policy: 'two_factor' },
    { domain: ['resource.example.com'], resources: ['^/an/exact/path/$'], policy: 'two_factor' },
  ],
  [
    [John, `${r}/`, 'GET', 'bypass'],
    [John, `${r}/bypass/abc`, 'GET', 'bypass'],
    [John, `${r}/bypass/`, 'GET', 'bypass'],
    [John, `${r}/one_factor/abc`, 'GET', 'one_factor'],
    [John, `${r}/xyz/embedded/abc`, 'GET', 'bypass'],
    [John, `${r}/a/longer/rule/abc`, 'GET', 'two_factor'],
    [John, `${r}/case/abc`, 'GET', 'bypass'],
    [John, `${r}/case/ABC`, 'GET', 'deny'],
    [John, `${r}/an/exact/path/`, 'GET', 'two_factor'],
    ...['..', '..%2f', '..%2F', '%2e%2e', '%2e%2e%2f', '%2e%2e%2F', '%2E%2E', '%2E%2E%2f', '%2E%2E%2F'].flatMap(
      (up): Check[] => [
        [John, `${r}/bypass/${up}/a/longer/rule/abc`, 'GET', 'two_factor'],
        up.endsWith('f') || up.endsWith('F')
          ? [John, `${r}/bypass/${up}a/longer/rule/abc`, 'GET', 'two_factor']
          : [John, `${r}/bypass/${up}//a/longer/rule/abc`, 'GET', 'two_factor'],
      ],
    ),
    [John, `${r}/bypass/%2E%2E%2Fan/exact/path/`, 'GET', 'two_factor'],
  ],
);

// Authelia's public2.example.com rules pair a subject with bypass, which its validator (and Gatehouse's) refuses.
suite(
  'resources with subject rules',
  'deny',
  [
    { domain: ['public.example.com'], resources: ['^/admin/.*$'], subject: [['group:admins']], policy: 'one_factor' },
    { domain: ['public.example.com'], resources: ['^/admin/.*$'], policy: 'deny' },
    { domain: ['public.example.com'], policy: 'bypass' },
    { domain: ['private.example.com'], subject: [['group:admins']], policy: 'two_factor' },
  ],
  [
    [John, 'https://public.example.com', 'GET', 'bypass'],
    [Bob, 'https://public.example.com', 'GET', 'bypass'],
    [Anonymous, 'https://public.example.com', 'GET', 'bypass'],
    [John, 'https://public.example.com/admin/index.html', 'GET', 'one_factor'],
    [Bob, 'https://public.example.com/admin/index.html', 'GET', 'deny'],
    [Anonymous, 'https://public.example.com/admin/index.html', 'GET', 'one_factor'],
    [John, 'https://private.example.com', 'GET', 'two_factor'],
    [Bob, 'https://private.example.com', 'GET', 'deny'],
    [Anonymous, 'https://private.example.com', 'GET', 'two_factor'],
  ],
);

// internal/authorization/access_control_domain_test.go, as rules: a template followed by more of the first label.
// For an anonymous request, "matches" is Authelia's potential match: the request is sent to sign in first.
describe('Authelia domain matcher: templates and wildcards', () => {
  const cases: [domain: string, host: string, matches: boolean][] = [
    ['{user}-user.domain.com', 'a-user.domain.com', true],
    ['{user}-user.domain.com', 'A-User.Domain.COM', true],
    ['{group}-group.domain.com', 'a-group.domain.com', true],
    ['{group}-group.domain.com', 'A-Group.Domain.COM', true],
    ['{user}-user.domain.com', '-user.domain.com', false],
    ['{user}-user.domain.com', '-User.Domain.COM', false],
    ['{group}-group.domain.com', '-Group.Domain.COM', false],
    ['*.user.domain.com', 'abc.user.domain.com', true],
    ['*.user.domain.com', 'ABC.User.Domain.COM', true],
    ['*.user.domain.com', 'abc.user.example.com', false],
  ];
  for (const [domain, host, matches] of cases) {
    it(`${domain} ${matches ? 'matches' : 'does not match'} ${host} (anonymous)`, () => {
      const config = configSchema.parse({
        access_control: { default_policy: 'deny', rules: [{ domain, policy: 'one_factor' }] },
      });
      const decision = compileAccessControl(config.access_control).evaluate({
        url: new URL(`https://${host}/`),
        method: 'GET',
        ip: '127.0.0.1',
      });
      assert.equal(decision.rule, matches ? 1 : 0);
    });
  }

  it('a User regex group does not match another host (regexp_test.go)', () => {
    const config = configSchema.parse({
      access_control: { rules: [{ domain_regex: '^(?P<User>[a-zA-Z0-9]+)\\.regex.com$', policy: 'one_factor' }] },
    });
    const decision = compileAccessControl(config.access_control).evaluate({
      url: new URL('https://example.com/'),
      method: 'GET',
      ip: '127.0.0.1',
      subject: { username: 'a-user', groups: [] },
    });
    assert.equal(decision.rule, 0);
  });
});
