// The LDAP backend against a real OpenLDAP (slapd on loopback): lookup, bind, groups in nested OUs, a locked user,
// non-ASCII names, injection strings, a directory that goes down, StartTLS and ldaps with a self-signed certificate.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Attribute, Change } from 'ldapts';
import { configSchema, type LdapConfig } from '../../../src/config/schema.js';
import { LdapUserProvider, type RefreshInterval } from '../../../src/users/ldap-provider.js';
import { UserDirectoryUnavailableError } from '../../../src/observability/backend-errors.js';
import { BASE_DN, LDAP_USERS, startLdapServer, type LdapServer } from '../../helpers/ldap-server.js';

let ldap: LdapServer;
const providers: LdapUserProvider[] = [];

function ldapConfig(over: Record<string, unknown> = {}): LdapConfig {
  const parsed = configSchema.parse({ authentication_backend: { ldap: ldap.backendConfig(over) } });
  return parsed.authentication_backend.ldap!;
}

function provider(over: Record<string, unknown> = {}, refreshInterval: RefreshInterval = 300): LdapUserProvider {
  const created = new LdapUserProvider({ config: ldapConfig(over), refreshInterval });
  providers.push(created);
  return created;
}

beforeAll(async () => {
  ldap = await startLdapServer();
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await ldap?.close();
});

describe('LDAP sign-in: the user is found by users_filter and their password checked by a bind as them', () => {
  it('accepts the right password and reads display name, email and groups (nested OUs)', async () => {
    const users = provider();
    const alice = await users.checkPassword('alice', LDAP_USERS.alice.password);
    assert.deepEqual(alice, {
      username: 'alice',
      displayName: 'Alice Liddell',
      emails: ['alice@example.com'],
      groups: ['admins', 'dev'],
      disabled: false,
    });
    const bob = await users.checkPassword('bob', LDAP_USERS.bob.password);
    assert.deepEqual(bob?.groups, ['dev']);
    // Held in memory after sign-in: authz reads it without asking the directory.
    assert.deepEqual(users.get('alice'), alice);
  });

  it('reads non-ASCII passwords, names and group names as UTF-8', async () => {
    const jose = await provider().checkPassword('jose', LDAP_USERS.jose.password);
    assert.equal(jose?.displayName, 'José Ñúñez 山田');
    assert.deepEqual(jose?.groups, ['Développeurs']);
  });

  it('refuses a wrong password, an empty password, an unknown user', async () => {
    const users = provider();
    assert.equal(await users.checkPassword('alice', 'wrong'), undefined);
    assert.equal(await users.checkPassword('alice', ''), undefined);
    assert.equal(await users.checkPassword('nobody', 'whatever'), undefined);
    assert.equal(users.get('alice'), undefined);
  });

  it('accepts only the exact username: other spellings the directory would match are refused (regulation subjects)', async () => {
    const users = provider();
    for (const spelling of ['ALICE', 'Alice', ' alice', 'alice ']) {
      assert.equal(await users.checkPassword(spelling, LDAP_USERS.alice.password), undefined, spelling);
    }
  });

  it('refuses a user the filter excludes as locked (ppolicy pwdAccountLockedTime), even with the right password', async () => {
    assert.equal(await provider().checkPassword('carol', LDAP_USERS.carol.password), undefined);
  });

  it('LDAP-injection strings in the username match nobody (every value is escaped, RFC 4515)', async () => {
    const users = provider();
    for (const attack of [
      '*',
      '*)(uid=*',
      'alice)(|(uid=*',
      'admin)(|(a=*',
      '*)(|(objectClass=*))(uid=*',
      'alice\0',
      'al*',
      '\\2a',
      ')(',
    ]) {
      assert.equal(await users.checkPassword(attack, LDAP_USERS.alice.password), undefined, attack);
      assert.equal(await users.lookup(attack), undefined, attack);
    }
  });

  it('a sign-in by email (a filter that allows it) gives the directory username', async () => {
    const users = provider({
      users_filter: '(&(|({username_attribute}={input})({mail_attribute}={input}))(objectClass=inetOrgPerson))',
    });
    const bob = await users.checkPassword('bob@example.com', LDAP_USERS.bob.password);
    assert.equal(bob?.username, 'bob');
    // A session names the username; a lookup by username finds the same user.
    assert.equal((await users.lookup('bob'))?.username, 'bob');
  });
});

describe('LDAP refresh: nothing held longer than refresh_interval', () => {
  it('a user removed from the directory is dropped at the next refresh; a changed one is re-read', async () => {
    const users = provider({}, 1);
    assert.ok(await users.checkPassword('bob', LDAP_USERS.bob.password));
    const dn = `uid=bob,ou=engineering,ou=people,${BASE_DN}`;
    await ldap.asAdmin((client) =>
      client.modify(
        dn,
        new Change({ operation: 'replace', modification: new Attribute({ type: 'displayName', values: ['Bob B.'] }) }),
      ),
    );
    await waitFor(() => users.get('bob')?.displayName === 'Bob B.');
    // Locked in the directory: the filter no longer finds bob, so the held record goes.
    await ldap.asAdmin((client) =>
      client.modify(
        dn,
        new Change({
          operation: 'add',
          modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
        }),
      ),
    );
    await waitFor(() => users.get('bob') === undefined);
    assert.equal(await users.lookup('bob'), undefined);
    await ldap.asAdmin((client) =>
      client.modify(
        dn,
        new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdAccountLockedTime', values: [] }) }),
      ),
    );
    assert.equal((await users.lookup('bob'))?.username, 'bob');
  });

  it('a held user nobody asks for is dropped (bounded memory), refreshes do not count as use', async () => {
    const users = new LdapUserProvider({ config: ldapConfig(), refreshInterval: 1, idleDropMs: 1500 });
    providers.push(users);
    assert.ok(await users.checkPassword('jose', LDAP_USERS.jose.password));
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.equal(users.get('jose'), undefined);
    // Read again on the next request.
    assert.equal((await users.lookup('jose'))?.username, 'jose');
    assert.equal(users.get('jose')?.username, 'jose');
  });

  it('refresh_interval always: the session checks are told to read the directory every time', () => {
    assert.equal(provider({}, 'always').alwaysLookup, true);
    assert.equal(provider({}, 300).alwaysLookup, false);
  });
});

describe('LDAP down: sign-in fails closed, held users stay', () => {
  it('throws UserDirectoryUnavailableError (never "wrong password") and keeps what is held', async () => {
    const users = provider({ timeout: '1s' }, 1);
    assert.ok(await users.checkPassword('alice', LDAP_USERS.alice.password));
    await ldap.stop();
    try {
      await assert.rejects(users.checkPassword('alice', LDAP_USERS.alice.password), UserDirectoryUnavailableError);
      await assert.rejects(users.lookup('bob'), UserDirectoryUnavailableError);
      await assert.rejects(users.check(), UserDirectoryUnavailableError);
      // Refreshes fail while down: alice is still held.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(users.get('alice')?.username, 'alice');
    } finally {
      await ldap.start();
    }
    assert.ok(await users.checkPassword('alice', LDAP_USERS.alice.password));
  });

  it('a wrong service password is an outage (503), not a refusal of the user', async () => {
    await assert.rejects(
      provider({ password: 'not-the-service-password' }).checkPassword('alice', LDAP_USERS.alice.password),
      UserDirectoryUnavailableError,
    );
  });
});

describe('LDAP connection pooling', () => {
  it('serves concurrent sign-ins over a pool of two connections', async () => {
    const users = provider({ pooling: { enable: true, count: 2, retries: 1, timeout: '5s' } });
    const results = await Promise.all(
      ['alice', 'bob', 'jose', 'alice', 'bob'].map((name) =>
        users.checkPassword(name, LDAP_USERS[name as 'alice' | 'bob' | 'jose'].password),
      ),
    );
    assert.deepEqual(
      results.map((user) => user?.username),
      ['alice', 'bob', 'jose', 'alice', 'bob'],
    );
  });

  it('a pooled connection lost when the directory restarts is replaced', async () => {
    const users = provider({ pooling: { enable: true, count: 1, retries: 2, timeout: '5s' } });
    assert.ok(await users.checkPassword('alice', LDAP_USERS.alice.password));
    await ldap.stop();
    await ldap.start();
    assert.equal((await users.checkPassword('alice', LDAP_USERS.alice.password))?.username, 'alice');
  });
});

describe('LDAP over TLS with a self-signed certificate', () => {
  it('ldaps:// refuses the certificate unless Node trusts it (tls.skip_verify false)', async () => {
    await assert.rejects(provider({ address: ldap.tlsUrl }).check(), UserDirectoryUnavailableError);
  });

  it('StartTLS refuses the certificate unless Node trusts it', async () => {
    await assert.rejects(provider({ start_tls: true }).check(), UserDirectoryUnavailableError);
  });

  it('tls.skip_verify true connects over ldaps:// and StartTLS', async () => {
    const overTls = provider({ address: ldap.tlsUrl, tls: { skip_verify: true } });
    assert.equal((await overTls.checkPassword('alice', LDAP_USERS.alice.password))?.username, 'alice');
    const startTls = provider({ start_tls: true, tls: { skip_verify: true } });
    assert.equal((await startTls.checkPassword('bob', LDAP_USERS.bob.password))?.username, 'bob');
  });

  it('a server_name the certificate does not name is refused even when the CA would be trusted', async () => {
    // skip_verify false and a wrong name: refused whether or not the CA is known.
    await assert.rejects(
      provider({ address: ldap.tlsUrl, tls: { server_name: 'ldap.wrong.example' } }).check(),
      UserDirectoryUnavailableError,
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
