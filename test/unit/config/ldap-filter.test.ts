// LDAP filters as Authelia writes them: RFC 4515 escaping of every value, the placeholders, and the presets.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  escapeFilterValue,
  fillAttributes,
  fillValues,
  filterProblems,
  GROUPS_FILTER_VALUES,
  USERS_FILTER_VALUES,
} from '../../../src/config/ldap-filter.js';
import { LDAP_PRESETS, resolveLdapSettings } from '../../../src/config/ldap-presets.js';
import { configSchema } from '../../../src/config/schema.js';

const ATTRIBUTES = {
  username: 'uid',
  mail: 'mail',
  display_name: 'displayName',
  member_of: 'memberOf',
  group_name: 'cn',
  distinguished_name: '',
};

describe('RFC 4515 escaping of filter values', () => {
  it('escapes the five special characters as \\XX and leaves everything else', () => {
    assert.equal(escapeFilterValue('a*b(c)d\\e\0f'), 'a\\2ab\\28c\\29d\\5ce\\00f');
    assert.equal(escapeFilterValue('alice'), 'alice');
  });

  it('leaves non-ASCII as UTF-8 (RFC 4515 allows it unescaped)', () => {
    assert.equal(escapeFilterValue('José Ñúñez 山田'), 'José Ñúñez 山田');
  });

  it('turns the usual injection strings into literal values that cannot change the filter', () => {
    const filter = fillAttributes('(&({username_attribute}={input})(objectClass=person))', ATTRIBUTES);
    const cases: Record<string, string> = {
      '*': '(&(uid=\\2a)(objectClass=person))',
      '*)(uid=*': '(&(uid=\\2a\\29\\28uid=\\2a)(objectClass=person))',
      'admin)(|(a=*': '(&(uid=admin\\29\\28|\\28a=\\2a)(objectClass=person))',
      'alice\0': '(&(uid=alice\\00)(objectClass=person))',
      '\\2a': '(&(uid=\\5c2a)(objectClass=person))',
    };
    for (const [input, expected] of Object.entries(cases)) assert.equal(fillValues(filter, { input }), expected, input);
  });
});

describe('placeholders', () => {
  it('fills attribute names once and values per search (input, username, dn all escaped)', () => {
    const groups = fillAttributes('(&(member={dn})(|({username_attribute}={username})(x={input})))', ATTRIBUTES);
    assert.equal(groups, '(&(member={dn})(|(uid={username})(x={input})))');
    assert.equal(
      fillValues(groups, { dn: 'uid=a\\,b,ou=people,dc=example,dc=com', username: 'a*', input: 'A' }),
      '(&(member=uid=a\\5c,b,ou=people,dc=example,dc=com)(|(uid=a\\2a)(x=A)))',
    );
  });

  it('fills the date-time placeholders for the given instant', () => {
    const now = new Date('2026-11-27T18:00:05Z');
    assert.equal(fillValues('(t>={date-time:generalized})', {}, now), '(t>=20261127180005Z)');
    assert.equal(fillValues('(t>={date-time:unix})', {}, now), `(t>=${Math.floor(now.getTime() / 1000)})`);
    // (unix seconds + 11644473600) x 10^7: 100 ns intervals since 1601.
    assert.equal(fillValues('(t>={date-time:microsoft-nt})', {}, now), '(t>=134402760050000000)');
  });

  it('never searches a missing value as a wildcard', () => {
    assert.throws(() => fillValues('(member={dn})', {}), /\{dn\} has no value/);
  });

  it('reports unknown placeholders, missing parentheses and unbalanced ones', () => {
    assert.deepEqual(filterProblems('(uid={input})', USERS_FILTER_VALUES), []);
    assert.match(filterProblems('(uid={inptu})', USERS_FILTER_VALUES).join(), /unknown placeholder \{inptu\}/);
    assert.match(filterProblems('(member={dn})', USERS_FILTER_VALUES).join(), /unknown placeholder \{dn\}/);
    assert.deepEqual(filterProblems('(member={dn})', GROUPS_FILTER_VALUES), []);
    assert.match(filterProblems('uid={input}', USERS_FILTER_VALUES).join(), /enclosed in parentheses/);
    assert.match(filterProblems('(&(uid={input})', USERS_FILTER_VALUES).join(), /unbalanced/);
  });
});

describe('implementation presets (Authelia defaults) and the schema', () => {
  const base = { implementation: 'custom' as const, base_dn: 'dc=example,dc=com', attributes: {} };

  it('lldap: ou=people / ou=groups, username or email, groupOfUniqueNames, cn as display name', () => {
    const settings = resolveLdapSettings({ ...base, implementation: 'lldap' });
    assert.equal(settings.usersBaseDn, 'ou=people,dc=example,dc=com');
    assert.equal(settings.groupsBaseDn, 'ou=groups,dc=example,dc=com');
    assert.equal(settings.usersFilter, '(&(|(uid={input})(mail={input}))(objectClass=person))');
    assert.equal(settings.groupsFilter, '(&(member={dn})(objectClass=groupOfUniqueNames))');
    assert.equal(settings.attributes.display_name, 'cn');
  });

  it('activedirectory: sAMAccountName, disabled and expired accounts excluded by the filter', () => {
    const settings = resolveLdapSettings({ ...base, implementation: 'activedirectory' });
    assert.equal(settings.attributes.username, 'sAMAccountName');
    assert.match(settings.usersFilter, /userAccountControl:1\.2\.840\.113556\.1\.4\.803:=2/);
    assert.match(settings.usersFilter, /\{date-time:microsoft-nt\}/);
  });

  it('written keys win over the preset', () => {
    const settings = resolveLdapSettings({
      ...base,
      implementation: 'lldap',
      additional_users_dn: 'ou=staff',
      attributes: { username: 'cn' },
    });
    assert.equal(settings.usersBaseDn, 'ou=staff,dc=example,dc=com');
    assert.match(settings.usersFilter, /\(cn=\{input\}\)/);
  });

  it('every preset has filters the schema accepts', () => {
    for (const [name, preset] of Object.entries(LDAP_PRESETS)) {
      if (name === 'custom') continue;
      assert.deepEqual(filterProblems(preset.users_filter!, USERS_FILTER_VALUES), [], name);
      assert.deepEqual(filterProblems(preset.groups_filter!, GROUPS_FILTER_VALUES), [], name);
    }
  });

  const parse = (ldap: Record<string, unknown>) =>
    configSchema.safeParse({
      authentication_backend: {
        ldap: {
          address: 'ldap://ldap.example.com',
          base_dn: 'dc=example,dc=com',
          user: 'cn=svc',
          password: 'pw',
          ...ldap,
        },
      },
    });
  const messages = (ldap: Record<string, unknown>) => {
    const result = parse(ldap);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('custom needs both filters; a users filter without {input} is refused', () => {
    assert.match(messages({}).join('\n'), /users_filter: is required with implementation custom/);
    assert.match(
      messages({ users_filter: '(uid=alice)', groups_filter: '(member={dn})' }).join(),
      /must contain \{input\}/,
    );
    assert.deepEqual(messages({ users_filter: '(uid={input})', groups_filter: '(member={dn})' }), []);
  });

  it('addresses: ldap:// and ldaps:// with default ports; others refused', () => {
    const address = (value: string) => {
      const result = parse({ implementation: 'lldap', address: value });
      return result.success ? result.data.authentication_backend.ldap?.address : undefined;
    };
    assert.deepEqual(address('ldaps://ldap.example.com'), {
      scheme: 'ldaps',
      host: 'ldap.example.com',
      port: 636,
      url: 'ldaps://ldap.example.com:636',
    });
    assert.equal(address('ldap://10.0.0.1:3890')?.url, 'ldap://10.0.0.1:3890');
    assert.equal(address('ldap://[::1]')?.url, 'ldap://[::1]:389');
    for (const bad of [
      'ldapi:///var/run/slapd.sock',
      'http://ldap.example.com',
      'ldap://ldap.example.com/dc=x',
      'nope',
    ])
      assert.equal(address(bad), undefined, bad);
  });

  it('the service password is required unless permit_unauthenticated_bind, and refused with it', () => {
    assert.match(messages({ implementation: 'lldap', password: undefined }).join(), /password: is required/);
    assert.match(
      messages({ implementation: 'lldap', permit_unauthenticated_bind: true }).join(),
      /must not be set with permit_unauthenticated_bind/,
    );
  });

  it('group_search_mode memberof is refused (filter only)', () => {
    assert.match(messages({ implementation: 'lldap', group_search_mode: 'memberof' }).join(), /group_search_mode/);
  });
});
