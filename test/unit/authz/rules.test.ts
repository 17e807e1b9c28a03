import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { compileAccessControl, policyLevel } from '../../../src/authz/rules.js';
import { MAY, MISS, type AccessDecision, type AccessRequest } from '../../../src/authz/rules-request.js';
import { ConfigError } from '../../../src/config/problems.js';
import { configSchema, type AccessControlConfig, type RawConfig } from '../../../src/config/schema.js';

type RawAccessControl = NonNullable<RawConfig['access_control']>;
type RawRule = NonNullable<RawAccessControl['rules']>[number];

/** Through the real schema, so the shorthand forms (a string for a list, a flat subject list) are covered too. */
const accessControl = (raw: RawAccessControl): AccessControlConfig =>
  configSchema.parse({ access_control: raw }).access_control;

interface Who {
  method?: string;
  ip?: string;
  user?: string;
  groups?: string[];
}

const request = (url: string, who: Who = {}): AccessRequest => ({
  url: new URL(url),
  method: who.method ?? 'GET',
  ip: who.ip,
  subject: who.user === undefined ? undefined : { username: who.user, groups: who.groups ?? [] },
});

type Outcome = 'match' | 'skip' | 'sign-in';

const outcomeOf = (decision: AccessDecision): Outcome =>
  decision.rule === 0 ? 'skip' : decision.subjectRequired ? 'sign-in' : 'match';

/** One rule (policy one_factor unless given) under `default_policy: deny`: does it decide the request? */
function outcome(
  rule: Omit<RawRule, 'policy'> & { policy?: RawRule['policy'] },
  url: string,
  who: Who = {},
  networks?: RawAccessControl['networks'],
): Outcome {
  const access = compileAccessControl(
    accessControl({ default_policy: 'deny', networks, rules: [{ policy: 'one_factor', ...rule }] }),
  );
  return outcomeOf(access.evaluate(request(url, who)));
}

type Case = { why: string; url: string; who?: Who; expect: Outcome };

function table(rule: Parameters<typeof outcome>[0], cases: Case[], networks?: RawAccessControl['networks']): void {
  for (const { why, url, who, expect } of cases) {
    it(`${expect}: ${why}`, () => assert.equal(outcome(rule, url, who, networks), expect));
  }
}

const john = { user: 'john', groups: ['admins', 'dev'] };
const fred = { user: 'fred', groups: ['users'] };

describe('evaluation order and the default policy', () => {
  const access = compileAccessControl(
    accessControl({
      default_policy: 'two_factor',
      rules: [
        { domain: '*.example.com', resources: '^/public', policy: 'bypass' },
        { domain: 'app.example.com', policy: 'one_factor' },
        { domain: 'app.example.com', resources: '^/public', policy: 'deny' },
        { domain: 'secure.example.com', policy: 'deny' },
      ],
    }),
  );

  it('the first rule whose every criterion matches decides, even when a later one is more specific', () => {
    assert.deepEqual(access.evaluate(request('https://app.example.com/public/x')), {
      policy: 'bypass',
      rule: 1,
      subjectRequired: false,
    });
  });

  it('a rule with a missing criterion is passed over for the next', () => {
    assert.deepEqual(access.evaluate(request('https://app.example.com/private')), {
      policy: 'one_factor',
      rule: 2,
      subjectRequired: false,
    });
    assert.deepEqual(access.evaluate(request('https://secure.example.com/')), {
      policy: 'deny',
      rule: 4,
      subjectRequired: false,
    });
  });

  it('default_policy applies, as rule 0, when no rule matches', () => {
    assert.deepEqual(access.evaluate(request('https://other.example.org/')), {
      policy: 'two_factor',
      rule: 0,
      subjectRequired: false,
    });
  });

  it('with no rules at all, default_policy decides (deny unless configured)', () => {
    const empty = compileAccessControl(accessControl({}));
    assert.equal(empty.ruleCount, 0);
    assert.deepEqual(empty.evaluate(request('https://example.com/')), {
      policy: 'deny',
      rule: 0,
      subjectRequired: false,
    });
  });

  it('counts the rules', () => assert.equal(access.ruleCount, 4));

  it('hands out the same frozen decision each time (nothing is allocated per evaluation)', () => {
    const first = access.evaluate(request('https://app.example.com/private'));
    assert.equal(access.evaluate(request('https://app.example.com/other', john)), first);
    assert.ok(Object.isFrozen(first));
  });

  it('policyLevel gives the level each policy needs', () => {
    assert.deepEqual((['bypass', 'one_factor', 'two_factor', 'deny'] as const).map(policyLevel), [0, 1, 2, 'deny']);
  });

  it('refuses to compile an invalid configuration, listing every problem', () => {
    assert.throws(
      () =>
        compileAccessControl(
          accessControl({ rules: [{ policy: 'one_factor' }, { domain: 'a.*.example.com', policy: 'deny' }] }),
        ),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 2,
    );
  });
});

describe('domain', () => {
  table({ domain: 'app.example.com' }, [
    { why: 'the exact host', url: 'https://app.example.com/', expect: 'match' },
    { why: 'case does not matter in the request', url: 'https://APP.Example.COM/', expect: 'match' },
    { why: 'the port does not matter', url: 'https://app.example.com:8443/', expect: 'match' },
    { why: 'a subdomain is another host', url: 'https://x.app.example.com/', expect: 'skip' },
    { why: 'the parent domain is another host', url: 'https://example.com/', expect: 'skip' },
    { why: 'a longer host ending the same way', url: 'https://myapp.example.com/', expect: 'skip' },
  ]);
  table({ domain: 'App.EXAMPLE.com' }, [
    { why: 'case does not matter in the rule', url: 'https://app.example.com/', expect: 'match' },
  ]);
  table({ domain: '*.example.com' }, [
    { why: 'a wildcard matches a subdomain', url: 'https://app.example.com/', expect: 'match' },
    { why: 'a wildcard matches deeper subdomains', url: 'https://a.b.example.com/', expect: 'match' },
    { why: 'a wildcard does not match the bare domain', url: 'https://example.com/', expect: 'skip' },
    { why: 'a wildcard does not match a host merely ending like it', url: 'https://evilexample.com/', expect: 'skip' },
    { why: 'a wildcard does not match another domain', url: 'https://app.example.org/', expect: 'skip' },
  ]);
  table({ domain: ['a.example.com', 'b.example.com'] }, [
    { why: 'any domain of the list (OR)', url: 'https://b.example.com/', expect: 'match' },
    { why: 'none of the list', url: 'https://c.example.com/', expect: 'skip' },
  ]);
  table({ domain: 'bücher.example.com' }, [
    {
      why: 'an internationalised domain matches its punycode form',
      url: 'https://xn--bcher-kva.example.com/',
      expect: 'match',
    },
    {
      why: 'an internationalised domain matches when written in Unicode',
      url: 'https://BÜCHER.example.com/',
      expect: 'match',
    },
  ]);
  table({ domain: 'a.example.com', domain_regex: '^(img|data)\\.example\\.com$' }, [
    { why: 'domain and domain_regex are alternatives: the domain', url: 'https://a.example.com/', expect: 'match' },
    { why: 'domain and domain_regex are alternatives: the regex', url: 'https://data.example.com/', expect: 'match' },
    { why: 'neither', url: 'https://b.example.com/', expect: 'skip' },
  ]);
});

describe('domain templates {user} and {group}', () => {
  table({ domain: '{user}.home.example.com' }, [
    { why: 'the first label is the username', url: 'https://john.home.example.com/', who: john, expect: 'match' },
    {
      why: 'compared case-insensitively',
      url: 'https://john.home.example.com/',
      who: { user: 'John' },
      expect: 'match',
    },
    { why: "another user's domain", url: 'https://john.home.example.com/', who: fred, expect: 'skip' },
    { why: 'the username must be the whole label', url: 'https://johnny.home.example.com/', who: john, expect: 'skip' },
    {
      why: 'a username with a dot: john.doe at john.doe.home.example.com',
      url: 'https://john.doe.home.example.com/',
      who: { user: 'john.doe' },
      expect: 'match',
    },
    {
      why: 'anonymous, a two-label prefix: sign in first',
      url: 'https://john.doe.home.example.com/',
      expect: 'sign-in',
    },
    {
      why: 'the username must be the only label before the suffix',
      url: 'https://x.john.home.example.com/',
      who: john,
      expect: 'skip',
    },
    { why: 'the bare suffix', url: 'https://home.example.com/', who: john, expect: 'skip' },
    {
      why: 'anonymous, on a host of the right shape: sign in first',
      url: 'https://john.home.example.com/',
      expect: 'sign-in',
    },
    { why: 'anonymous, on a host of the wrong shape', url: 'https://john.work.example.com/', expect: 'skip' },
  ]);
  table({ domain: '{group}.example.com' }, [
    { why: 'the first label is one of the groups', url: 'https://dev.example.com/', who: john, expect: 'match' },
    { why: 'a group the user is not in', url: 'https://dev.example.com/', who: fred, expect: 'skip' },
    { why: 'the username is not a group', url: 'https://john.example.com/', who: john, expect: 'skip' },
    { why: 'anonymous: sign in first', url: 'https://dev.example.com/', expect: 'sign-in' },
  ]);
  table({ domain: '{user}-app.example.com' }, [
    {
      why: '{user} followed by the rest of the label: the username then the suffix',
      url: 'https://john-app.example.com/',
      who: john,
      expect: 'match',
    },
    {
      why: '{user}-app: case-insensitive',
      url: 'https://JOHN-app.example.com/',
      who: { user: 'John' },
      expect: 'match',
    },
    { why: "{user}-app: another user's host", url: 'https://fred-app.example.com/', who: john, expect: 'skip' },
    { why: '{user}-app: the bare suffix', url: 'https://-app.example.com/', who: john, expect: 'skip' },
    {
      why: '{user}-app: anonymous on a host ending with the suffix',
      url: 'https://x-app.example.com/',
      expect: 'sign-in',
    },
    { why: '{user}-app: anonymous on the bare suffix', url: 'https://-app.example.com/', expect: 'skip' },
  ]);
  table({ domain: '{group}-app.example.com' }, [
    {
      why: '{group} + more of the label: anonymous requests sign in first (as Authelia)',
      url: 'https://dev-app.example.com/',
      expect: 'sign-in',
    },
    {
      why: '{group} + more of the label never matches a signed-in user (as Authelia: the first label must be the group)',
      url: 'https://dev-app.example.com/',
      who: john,
      expect: 'skip',
    },
  ]);
  table({ domain: '{group}.example.com' }, [
    {
      why: '{group}: a group of the user, deeper than one label, is not its first label',
      url: 'https://x.dev.example.com/',
      who: john,
      expect: 'skip',
    },
  ]);
  table({ domain: ['static.example.com', '{user}.example.com'] }, [
    {
      why: 'anonymous, on a domain of the list that needs no user',
      url: 'https://static.example.com/',
      expect: 'match',
    },
  ]);
});

describe('domain_regex, and its User / Group groups', () => {
  table({ domain_regex: '^(pub|img)-data\\.example\\.com$' }, [
    { why: 'the regex matches the host', url: 'https://img-data.example.com/', expect: 'match' },
    { why: 'the regex does not match the host', url: 'https://doc-data.example.com/', expect: 'skip' },
  ]);
  table({ domain_regex: '^Admin\\.Example\\.com$' }, [
    { why: 'host names compare case-insensitively', url: 'https://admin.example.com/', expect: 'match' },
  ]);
  table({ domain_regex: '^user-(?P<User>\\w+)\\.example\\.com$' }, [
    { why: 'User binds to the username', url: 'https://user-john.example.com/', who: john, expect: 'match' },
    {
      why: 'User compares case-insensitively',
      url: 'https://user-john.example.com/',
      who: { user: 'JOHN' },
      expect: 'match',
    },
    { why: "User is someone else's name", url: 'https://user-fred.example.com/', who: john, expect: 'skip' },
    { why: 'anonymous, regex matches: sign in first', url: 'https://user-fred.example.com/', expect: 'sign-in' },
    { why: 'anonymous, regex does not match', url: 'https://group-x.example.com/', expect: 'skip' },
  ]);
  table({ domain_regex: ['^user-(?P<User>\\w+)\\.example\\.com$', '^group-(?P<Group>\\w+)\\.example\\.com$'] }, [
    { why: 'Group binds to one of the groups', url: 'https://group-admins.example.com/', who: john, expect: 'match' },
    { why: 'a group the user is not in', url: 'https://group-users.example.com/', who: john, expect: 'skip' },
  ]);
  table({ domain_regex: '^(?P<User>\\w+)-(?P<Group>\\w+)\\.example\\.com$' }, [
    { why: 'both groups must bind', url: 'https://john-dev.example.com/', who: john, expect: 'match' },
    { why: 'the user binds but not the group', url: 'https://john-users.example.com/', who: john, expect: 'skip' },
  ]);
  table({ domain_regex: '^(?:u-(?P<User>\\w+)|open)\\.example\\.com$' }, [
    {
      why: 'a User group that took no part in the match binds nobody',
      url: 'https://open.example.com/',
      who: john,
      expect: 'skip',
    },
  ]);
  table({ domain_regex: '^(?P<Other>\\w+)\\.example\\.com$' }, [
    { why: 'other named groups bind nothing and need no user', url: 'https://x.example.com/', expect: 'match' },
  ]);
});

describe('resources', () => {
  table({ domain: 'app.example.com', resources: '^/api([/?].*)?$' }, [
    { why: 'the path', url: 'https://app.example.com/api', expect: 'match' },
    { why: 'a sub-path', url: 'https://app.example.com/api/users', expect: 'match' },
    { why: 'the path with a query', url: 'https://app.example.com/api?x=1', expect: 'match' },
    { why: 'another path', url: 'https://app.example.com/apix', expect: 'skip' },
    { why: 'another domain', url: 'https://other.example.com/api', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', resources: ['^/a$', '^/b$'] }, [
    { why: 'any of the list (OR)', url: 'https://app.example.com/b', expect: 'match' },
  ]);
  table({ domain: 'app.example.com', resources: '^/share\\?token=abc$' }, [
    {
      why: 'the query string is part of what is matched',
      url: 'https://app.example.com/share?token=abc',
      expect: 'match',
    },
    { why: 'a different query', url: 'https://app.example.com/share?token=abd', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', resources: '^/admin' }, [
    {
      why: 'percent-encoded letters are the same URL (/%61dmin)',
      url: 'https://app.example.com/%61dmin',
      expect: 'match',
    },
    {
      why: 'several, in either case of hex digits (/%61%64%6Din, /%61%64%6din)',
      url: 'https://app.example.com/%61%64%6Din',
      expect: 'match',
    },
    { why: 'lower-case hex digits', url: 'https://app.example.com/%61%64%6din', expect: 'match' },
    { why: 'dot segments are resolved first', url: 'https://app.example.com/public/../admin', expect: 'match' },
    {
      why: 'encoded dot segments are resolved first',
      url: 'https://app.example.com/public/%2e%2E/admin',
      expect: 'match',
    },
    { why: 'case matters in paths', url: 'https://app.example.com/Admin', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', resources: '^/a/b$' }, [
    {
      why: 'an encoded slash is decoded, as Authelia does (resource-path.ts)',
      url: 'https://app.example.com/a%2Fb',
      expect: 'match',
    },
  ]);
  table({ domain: 'app.example.com', resources: '(?i)^/Admin' }, [
    { why: 'Go syntax: (?i)', url: 'https://app.example.com/ADMIN/x', expect: 'match' },
  ]);
  table({ domain: 'app.example.com', resources: '^/users/(?P<User>\\w+)/' }, [
    { why: 'User binds in resources too', url: 'https://app.example.com/users/john/x', who: john, expect: 'match' },
    { why: "another user's path", url: 'https://app.example.com/users/fred/x', who: john, expect: 'skip' },
    { why: 'anonymous: sign in first', url: 'https://app.example.com/users/fred/x', expect: 'sign-in' },
  ]);
});

describe('methods', () => {
  table({ domain: 'app.example.com', methods: ['GET', 'HEAD'] }, [
    { why: 'a listed method', url: 'https://app.example.com/', who: { method: 'HEAD' }, expect: 'match' },
    {
      why: 'the request method in lower case',
      url: 'https://app.example.com/',
      who: { method: 'get' },
      expect: 'match',
    },
    { why: 'a method not listed', url: 'https://app.example.com/', who: { method: 'POST' }, expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', methods: 'OPTIONS' }, [
    { why: 'a single method', url: 'https://app.example.com/', who: { method: 'OPTIONS' }, expect: 'match' },
  ]);
});

describe('networks', () => {
  const named = [
    { name: 'internal', networks: ['10.0.0.0/8', '192.168.0.0/16'] },
    { name: 'vpn', networks: 'fd00::/8' },
  ];
  table({ domain: 'app.example.com', networks: ['10.0.0.0/8', '172.16.0.5', '2001:db8::/32', '::1'] }, [
    { why: 'an IPv4 address in a range', url: 'https://app.example.com/', who: { ip: '10.20.30.40' }, expect: 'match' },
    { why: 'a single IPv4 address', url: 'https://app.example.com/', who: { ip: '172.16.0.5' }, expect: 'match' },
    { why: 'the next IPv4 address', url: 'https://app.example.com/', who: { ip: '172.16.0.6' }, expect: 'skip' },
    {
      why: 'an IPv6 address in a range',
      url: 'https://app.example.com/',
      who: { ip: '2001:db8:5::1' },
      expect: 'match',
    },
    { why: 'a single IPv6 address', url: 'https://app.example.com/', who: { ip: '::1' }, expect: 'match' },
    { why: 'an IPv6 address outside', url: 'https://app.example.com/', who: { ip: '2001:db9::1' }, expect: 'skip' },
    {
      why: 'an IPv4-mapped IPv6 address counts as the IPv4 address',
      url: 'https://app.example.com/',
      who: { ip: '::ffff:10.1.1.1' },
      expect: 'match',
    },
    {
      why: 'an IPv4-mapped IPv6 address outside',
      url: 'https://app.example.com/',
      who: { ip: '::ffff:11.1.1.1' },
      expect: 'skip',
    },
    { why: 'an IPv4 address outside', url: 'https://app.example.com/', who: { ip: '8.8.8.8' }, expect: 'skip' },
    { why: 'no client address', url: 'https://app.example.com/', expect: 'skip' },
    {
      why: 'a malformed client address',
      url: 'https://app.example.com/',
      who: { ip: '10.0.0.1, 8.8.8.8' },
      expect: 'skip',
    },
  ]);
  table(
    { domain: 'app.example.com', networks: ['internal', 'vpn', '203.0.113.9'] },
    [
      {
        why: 'an address of a named network',
        url: 'https://app.example.com/',
        who: { ip: '192.168.4.4' },
        expect: 'match',
      },
      {
        why: 'an address of a named IPv6 network',
        url: 'https://app.example.com/',
        who: { ip: 'fd12::1' },
        expect: 'match',
      },
      { why: 'a literal next to names', url: 'https://app.example.com/', who: { ip: '203.0.113.9' }, expect: 'match' },
      { why: 'an address in none', url: 'https://app.example.com/', who: { ip: '203.0.113.10' }, expect: 'skip' },
    ],
    named,
  );
});

describe('subject', () => {
  table({ domain: 'app.example.com', subject: 'user:john' }, [
    { why: 'the user', url: 'https://app.example.com/', who: john, expect: 'match' },
    { why: 'the user, whatever the case', url: 'https://app.example.com/', who: { user: 'JoHn' }, expect: 'match' },
    { why: 'another user', url: 'https://app.example.com/', who: fred, expect: 'skip' },
    { why: 'anonymous: sign in, then evaluate again', url: 'https://app.example.com/', expect: 'sign-in' },
  ]);
  table({ domain: 'app.example.com', subject: 'group:admins' }, [
    { why: 'a member', url: 'https://app.example.com/', who: john, expect: 'match' },
    {
      why: 'a member, whatever the case',
      url: 'https://app.example.com/',
      who: { user: 'x', groups: ['ADMINS'] },
      expect: 'match',
    },
    { why: 'not a member', url: 'https://app.example.com/', who: fred, expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', subject: [['group:admins', 'group:dev']] }, [
    { why: 'an inner list needs all of its terms (AND)', url: 'https://app.example.com/', who: john, expect: 'match' },
    {
      why: 'only one of the inner terms',
      url: 'https://app.example.com/',
      who: { user: 'x', groups: ['admins'] },
      expect: 'skip',
    },
  ]);
  table({ domain: 'app.example.com', subject: ['user:fred', ['group:admins', 'user:john']] }, [
    {
      why: 'the outer list needs any inner list (OR): first',
      url: 'https://app.example.com/',
      who: fred,
      expect: 'match',
    },
    {
      why: 'the outer list needs any inner list (OR): second',
      url: 'https://app.example.com/',
      who: john,
      expect: 'match',
    },
    {
      why: 'a user and group mismatch',
      url: 'https://app.example.com/',
      who: { user: 'mary', groups: ['admins'] },
      expect: 'skip',
    },
  ]);
  table({ domain: 'app.example.com', subject: ['group: admins', 'user:  fred '] }, [
    {
      why: "spaces after the prefix are trimmed, as Authelia: 'group: admins'",
      url: 'https://app.example.com/',
      who: john,
      expect: 'match',
    },
    { why: "and around a user name: 'user:  fred '", url: 'https://app.example.com/', who: fred, expect: 'match' },
    {
      why: 'and the rule still needs the right user',
      url: 'https://app.example.com/',
      who: { user: 'mary', groups: ['users'] },
      expect: 'skip',
    },
  ]);
  table({ domain: 'app.example.com', subject: 'group: contractors', policy: 'deny' }, [
    {
      why: "a deny rule for 'group: contractors' denies the contractors",
      url: 'https://app.example.com/',
      who: { user: 'c', groups: ['contractors'] },
      expect: 'match',
    },
  ]);
});

describe('anonymous requests and rules that need a user', () => {
  const rules: RawRule[] = [
    { domain: 'open.example.com', policy: 'bypass' },
    { domain: '*.example.com', subject: 'group:admins', policy: 'two_factor' },
    { domain: 'wiki.example.com', policy: 'bypass' },
    { domain: 'vault.example.com', subject: 'user:john', policy: 'deny' },
  ];
  const access = compileAccessControl(accessControl({ default_policy: 'one_factor', rules }));

  it('a rule before the subject rule decides without a user', () => {
    assert.deepEqual(access.evaluate(request('https://open.example.com/')), {
      policy: 'bypass',
      rule: 1,
      subjectRequired: false,
    });
  });

  it('evaluation stops at the subject rule: sign in, with that rule and its policy reported', () => {
    assert.deepEqual(access.evaluate(request('https://wiki.example.com/')), {
      policy: 'two_factor',
      rule: 2,
      subjectRequired: true,
    });
  });

  it('after signing in, a user the subject rule does not match goes on to the next rule', () => {
    assert.deepEqual(access.evaluate(request('https://wiki.example.com/', fred)), {
      policy: 'bypass',
      rule: 3,
      subjectRequired: false,
    });
    assert.deepEqual(access.evaluate(request('https://wiki.example.com/', john)), {
      policy: 'two_factor',
      rule: 2,
      subjectRequired: false,
    });
  });

  it('a subject rule whose other criteria miss is skipped, with no sign-in', () => {
    assert.deepEqual(access.evaluate(request('https://example.org/')), {
      policy: 'one_factor',
      rule: 0,
      subjectRequired: false,
    });
  });

  it('a deny rule with a subject also asks an anonymous request to sign in (it may not apply to them)', () => {
    const deny = compileAccessControl(
      accessControl({ rules: [{ domain: 'vault.example.com', subject: 'user:john', policy: 'deny' }] }),
    );
    assert.deepEqual(deny.evaluate(request('https://vault.example.com/')), {
      policy: 'deny',
      rule: 1,
      subjectRequired: true,
    });
    assert.deepEqual(deny.evaluate(request('https://vault.example.com/', fred)), {
      policy: 'deny',
      rule: 0,
      subjectRequired: false,
    });
  });

  it('a known user never gets subjectRequired', () => {
    for (const url of ['https://wiki.example.com/', 'https://vault.example.com/', 'https://x.example.com/']) {
      assert.equal(access.evaluate(request(url, fred)).subjectRequired, false);
    }
  });
});

describe('query', () => {
  table({ domain: 'app.example.com', query: [{ key: 'token', value: 'abc' }] }, [
    {
      why: 'a value given, the operator defaults to equal',
      url: 'https://app.example.com/?token=abc',
      expect: 'match',
    },
    { why: 'equal: another value', url: 'https://app.example.com/?token=abd', expect: 'skip' },
    { why: 'equal: absent', url: 'https://app.example.com/', expect: 'skip' },
    {
      why: 'equal: every occurrence has the value',
      url: 'https://app.example.com/?token=abc&token=abc',
      expect: 'match',
    },
    {
      why: 'equal: the first occurrence counts, as in Authelia (Go Query().Get)',
      url: 'https://app.example.com/?token=abc&token=x',
      expect: 'match',
    },
    { why: 'equal: a later occurrence does not', url: 'https://app.example.com/?token=x&token=abc', expect: 'skip' },
    {
      why: "equal: a pair holding ';' is dropped, as Go drops it",
      url: 'https://app.example.com/?token=abc;x=1',
      expect: 'skip',
    },
    {
      why: 'equal: a pair with a malformed escape is dropped, as Go drops it',
      url: 'https://app.example.com/?token=abc%zz',
      expect: 'skip',
    },
    {
      why: 'equal: a dropped pair does not hide a later good one',
      url: 'https://app.example.com/?token=%zz&token=abc',
      expect: 'match',
    },
    { why: 'equal: values are decoded (%61)', url: 'https://app.example.com/?token=%61bc', expect: 'match' },
  ]);
  table({ domain: 'app.example.com', query: [{ key: 'q', value: 'a b' }] }, [
    { why: 'equal: + is a space', url: 'https://app.example.com/?q=a+b', expect: 'match' },
    { why: 'equal: %20 is a space', url: 'https://app.example.com/?q=a%20b', expect: 'match' },
  ]);
  table({ domain: 'app.example.com', query: [{ key: 'secure' }] }, [
    { why: 'no value, the operator defaults to present', url: 'https://app.example.com/?secure', expect: 'match' },
    { why: 'present with an empty value', url: 'https://app.example.com/?secure=', expect: 'match' },
    { why: 'present: absent', url: 'https://app.example.com/?insecure=1', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'absent', key: 'debug' }] }, [
    { why: 'absent', url: 'https://app.example.com/?x=1', expect: 'match' },
    { why: 'absent: present', url: 'https://app.example.com/?debug=0', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'not equal', key: 'mode', value: 'admin' }] }, [
    { why: 'not equal: another value', url: 'https://app.example.com/?mode=view', expect: 'match' },
    { why: 'not equal: absent counts as not equal', url: 'https://app.example.com/', expect: 'match' },
    { why: 'not equal: the value', url: 'https://app.example.com/?mode=admin', expect: 'skip' },
    {
      why: 'not equal: the first occurrence counts, as in Authelia',
      url: 'https://app.example.com/?mode=view&mode=admin',
      expect: 'match',
    },
    { why: 'not equal: the value first', url: 'https://app.example.com/?mode=admin&mode=view', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'pattern', key: 'token', value: '^(abc123|zyx789)$' }] }, [
    { why: 'pattern matches', url: 'https://app.example.com/?token=zyx789', expect: 'match' },
    { why: 'pattern does not match', url: 'https://app.example.com/?token=zyx788', expect: 'skip' },
    { why: "pattern: absent (matched against '', as Authelia)", url: 'https://app.example.com/', expect: 'skip' },
    {
      why: 'pattern: the first occurrence counts',
      url: 'https://app.example.com/?token=abc123&token=nope',
      expect: 'match',
    },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'not pattern', key: 'random', value: '^(1|2)$' }] }, [
    { why: 'not pattern: another value', url: 'https://app.example.com/?random=3', expect: 'match' },
    { why: 'not pattern: absent', url: 'https://app.example.com/', expect: 'match' },
    { why: 'not pattern: a matching value', url: 'https://app.example.com/?random=2', expect: 'skip' },
    {
      why: 'not pattern: the first occurrence counts',
      url: 'https://app.example.com/?random=3&random=1',
      expect: 'match',
    },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'pattern', key: 'page', value: '^[0-9]*$' }] }, [
    {
      why: "pattern on an absent key is matched against '' (Authelia): '^[0-9]*$' matches",
      url: 'https://app.example.com/',
      expect: 'match',
    },
    { why: 'pattern: a value that does not match', url: 'https://app.example.com/?page=x', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'not pattern', key: 'page', value: '^$' }] }, [
    {
      why: "not pattern on an absent key: '' matches '^$', so not pattern fails",
      url: 'https://app.example.com/',
      expect: 'skip',
    },
    { why: 'not pattern: a non-empty value', url: 'https://app.example.com/?page=1', expect: 'match' },
  ]);
  table({ domain: 'app.example.com', query: [{ key: 'secure', value: '' }] }, [
    {
      why: "{ key, value: '' } means present, as in Authelia",
      url: 'https://app.example.com/?secure=yes',
      expect: 'match',
    },
    { why: "{ key, value: '' }: absent", url: 'https://app.example.com/', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'present', key: 'secure', value: '' }] }, [
    {
      why: "present with value: '' is accepted and means present",
      url: 'https://app.example.com/?secure',
      expect: 'match',
    },
    { why: "present with value: '': absent", url: 'https://app.example.com/', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'absent', key: 'debug', value: '' }] }, [
    { why: "absent with value: '' is accepted", url: 'https://app.example.com/', expect: 'match' },
    { why: "absent with value: '': present", url: 'https://app.example.com/?debug', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'equal', key: 'mode', value: '' }] }, [
    {
      why: "equal '' matches an absent key (its value is '', as Authelia)",
      url: 'https://app.example.com/',
      expect: 'match',
    },
    { why: "equal '' matches an empty value", url: 'https://app.example.com/?mode=', expect: 'match' },
    { why: "equal '': a value", url: 'https://app.example.com/?mode=x', expect: 'skip' },
  ]);
  table({ domain: 'app.example.com', query: [{ operator: 'pattern', key: 'id', value: '(?i)^\\Qa.b\\E$' }] }, [
    { why: 'Go syntax in patterns', url: 'https://app.example.com/?id=A.B', expect: 'match' },
  ]);
  table(
    {
      domain: 'app.example.com',
      query: [
        [
          { operator: 'present', key: 'secure' },
          { operator: 'absent', key: 'insecure' },
        ],
        [{ operator: 'pattern', key: 'token', value: '^t' }],
      ],
    },
    [
      { why: 'an inner list needs all matchers (AND)', url: 'https://app.example.com/?secure=1', expect: 'match' },
      {
        why: 'only one matcher of the inner list',
        url: 'https://app.example.com/?secure=1&insecure=1',
        expect: 'skip',
      },
      {
        why: 'the outer list needs any inner list (OR)',
        url: 'https://app.example.com/?insecure=1&token=tt',
        expect: 'match',
      },
    ],
  );
});

describe('all criteria together', () => {
  const rule: RawRule = {
    domain: '*.example.com',
    resources: '^/api/',
    methods: ['GET'],
    networks: '10.0.0.0/8',
    subject: 'group:dev',
    query: [{ key: 'v', value: '2' }],
    policy: 'two_factor',
  };
  const url = 'https://app.example.com/api/x?v=2';
  const good = { ...john, ip: '10.1.1.1', method: 'GET' };
  table(rule, [
    { why: 'every criterion matches', url, who: good, expect: 'match' },
    { why: 'all but the domain', url: 'https://app.example.org/api/x?v=2', who: good, expect: 'skip' },
    { why: 'all but the resource', url: 'https://app.example.com/web?v=2', who: good, expect: 'skip' },
    { why: 'all but the method', url, who: { ...good, method: 'PUT' }, expect: 'skip' },
    { why: 'all but the network', url, who: { ...good, ip: '11.1.1.1' }, expect: 'skip' },
    { why: 'all but the subject', url, who: { ...fred, ip: '10.1.1.1' }, expect: 'skip' },
    { why: 'all but the query', url: 'https://app.example.com/api/x?v=3', who: good, expect: 'skip' },
    { why: 'anonymous, every other criterion matches', url, who: { ip: '10.1.1.1' }, expect: 'sign-in' },
    { why: 'anonymous, another criterion misses', url, who: { ip: '11.1.1.1' }, expect: 'skip' },
  ]);
});

describe('evaluate agrees with a plain walk over every rule (the host index only skips certain misses)', () => {
  const access = compileAccessControl(
    accessControl({
      default_policy: 'deny',
      rules: [
        { domain: 'a.example.com', resources: '^/admin', policy: 'deny' },
        { domain: '*.example.com', methods: 'OPTIONS', policy: 'bypass' },
        { domain: ['a.example.com', 'b.example.com'], subject: 'group:dev', policy: 'two_factor' },
        { domain_regex: '^(?P<User>\\w+)\\.users\\.example\\.com$', policy: 'one_factor' },
        { domain: 'b.example.com', policy: 'one_factor' },
        { domain: ['c.example.com', '{group}.example.com'], policy: 'two_factor' },
        { domain: 'A.EXAMPLE.COM', policy: 'bypass' },
      ],
    }),
  );
  const hosts = [
    'a.example.com',
    'b.example.com',
    'c.example.com',
    'dev.example.com',
    'john.users.example.com',
    'x.example.org',
  ];
  const people: (Who | undefined)[] = [undefined, john, fred];
  for (const host of hosts) {
    for (const who of people) {
      for (const [path, method] of [
        ['/admin', 'GET'],
        ['/', 'OPTIONS'],
        ['/', 'GET'],
      ] as const) {
        const url = `https://${host}${path}`;
        it(`${method} ${url} as ${who?.user ?? 'anonymous'}`, () => {
          const req = request(url, { ...who, method });
          const first = access.inspect(req).find((rule) => !Object.values(rule.criteria).includes(MISS));
          const expected = first
            ? {
                policy: first.policy,
                rule: first.position,
                subjectRequired: Object.values(first.criteria).includes(MAY),
              }
            : { policy: 'deny', rule: 0, subjectRequired: false };
          assert.deepEqual(access.evaluate(req), expected);
        });
      }
    }
  }
});

describe('operator regexes cannot stall the gate (RE2, linear time)', () => {
  // Each would take a backtracking engine longer than the age of the universe on these 5,000-character inputs.
  const long = 'a'.repeat(5000);
  table({ domain: 'app.example.com', resources: '^/api/(a+)+$', policy: 'deny' }, [
    {
      why: 'resources ^/api/(a+)+$ on a long path that fails at the end',
      url: `https://app.example.com/api/${long}!`,
      expect: 'skip',
    },
    {
      why: 'resources ^/api/(a+)+$ on a long path that matches',
      url: `https://app.example.com/api/${long}`,
      expect: 'match',
    },
  ]);
  table({ domain_regex: '^(a|aa)+\\.example\\.com$', policy: 'deny' }, [
    {
      why: 'domain_regex ^(a|aa)+ on a long host',
      url: `https://${'a'.repeat(60)}.${'a'.repeat(60)}x.example.com/`,
      expect: 'skip',
    },
  ]);
  table(
    { domain: 'app.example.com', query: [{ operator: 'pattern', key: 'q', value: '^(a|a?)+b$' }], policy: 'deny' },
    [{ why: 'query pattern ^(a|a?)+b$ on a long value', url: `https://app.example.com/?q=${long}`, expect: 'skip' }],
  );
});
