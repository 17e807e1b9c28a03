// Authelia's authentication_backend.ldap sections, as its reference and its lldap guide write them, load unchanged.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { loadContent, problemAt, problemsOf, withMinimal } from './config-files.js';

const REFERENCE_EXAMPLE = {
  address: 'ldap://127.0.0.1',
  implementation: 'custom',
  timeout: '5s',
  start_tls: false,
  tls: { server_name: 'ldap.example.com', skip_verify: false, minimum_version: 'TLS1.2', maximum_version: 'TLS1.3' },
  pooling: { enable: false, count: 5, retries: 2, timeout: '10 seconds' },
  base_dn: 'DC=example,DC=com',
  additional_users_dn: 'OU=users',
  users_filter: '(&({username_attribute}={input})(objectClass=person))',
  additional_groups_dn: 'OU=groups',
  groups_filter: '(&(member={dn})(objectClass=groupOfNames))',
  group_search_mode: 'filter',
  permit_referrals: false,
  permit_unauthenticated_bind: false,
  permit_feature_detection_failure: false,
  user: 'CN=admin,DC=example,DC=com',
  password: 'password',
  attributes: {
    distinguished_name: 'distinguishedName',
    username: 'uid',
    display_name: 'displayName',
    mail: 'mail',
    member_of: 'memberOf',
    group_name: 'cn',
  },
};

describe("Authelia's LDAP configuration starts Gatehouse unchanged", () => {
  it('the reference example (OpenLDAP-style custom implementation) loads with no problem and no LDAP warning', () => {
    const { config, warnings } = loadContent(
      withMinimal({ authentication_backend: { refresh_interval: '5m', ldap: REFERENCE_EXAMPLE } }),
    );
    const ldap = config.authentication_backend.ldap!;
    assert.equal(ldap.address.url, 'ldap://127.0.0.1:389');
    assert.equal(ldap.pooling.timeout, 10);
    assert.equal(config.authentication_backend.refresh_interval, 300);
    assert.deepEqual(
      warnings.filter((warning) => warning.includes('ldap')),
      [],
    );
  });

  it("the lldap guide's section (preset, service user in ou=people) loads", () => {
    const { config } = loadContent(
      withMinimal({
        authentication_backend: {
          ldap: {
            address: 'ldap://lldap:3890',
            implementation: 'lldap',
            timeout: '5s',
            start_tls: false,
            base_dn: 'dc=example,dc=com',
            user: 'uid=authelia,ou=people,dc=example,dc=com',
            password: 'password',
          },
        },
      }),
    );
    assert.equal(config.authentication_backend.ldap?.implementation, 'lldap');
    assert.equal(config.authentication_backend.refresh_interval, 300);
  });

  it("older key names (url, username_attribute...) are read under Authelia's current names, with a warning", () => {
    const { address, attributes: _attributes, ...withoutNew } = REFERENCE_EXAMPLE;
    const { config, warnings } = loadContent(
      withMinimal({
        authentication_backend: {
          ldap: { ...withoutNew, url: address, username_attribute: 'sAMAccountName', mail_attribute: 'mail' },
        },
      }),
    );
    assert.equal(config.authentication_backend.ldap?.address.url, 'ldap://127.0.0.1:389');
    assert.equal(config.authentication_backend.ldap?.attributes.username, 'sAMAccountName');
    assert.ok(warnings.some((warning) => warning.includes('authentication_backend.ldap.url')));
  });

  it('refresh_interval takes always and disable', () => {
    for (const value of ['always', 'disable'] as const) {
      const { config } = loadContent(
        withMinimal({ authentication_backend: { refresh_interval: value, ldap: REFERENCE_EXAMPLE } }),
      );
      assert.equal(config.authentication_backend.refresh_interval, value);
    }
  });

  it('a section that cannot work is refused with the key named', () => {
    const { password: _password, ...noPassword } = REFERENCE_EXAMPLE;
    const problems = problemsOf(() => loadContent(withMinimal({ authentication_backend: { ldap: noPassword } })));
    assert.match(problemAt(problems, 'authentication_backend.ldap.password').message, /is required/);
  });
});
