// A whole Gatehouse (real Redis, real PostgreSQL) with its users in a real OpenLDAP: sign-in -> security key ->
// authz, group rules from the directory's groups, a directory outage (sign-in 503, sessions go on), a user locked in
// the directory losing access within refresh_interval, and a restarted Gatehouse reading session users back.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Attribute, Change } from 'ldapts';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, firstFactor, sessionCookieFrom } from '../../helpers/flows.js';
import { BASE_DN, LDAP_USERS, startLdapServer, type LdapServer } from '../../helpers/ldap-server.js';
import { elevate, enrol, secondFactor } from '../webauthn/support.js';

let ldap: LdapServer;
let t: TestGatehouse;

async function signInAs(username: keyof typeof LDAP_USERS): Promise<string> {
  const res = await firstFactor(t, { username, password: LDAP_USERS[username].password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const cookie = sessionCookieFrom(res);
  assert.ok(cookie);
  return cookie;
}

function ldapGatehouse(over: { redis?: TestGatehouse['redis']; postgres?: TestGatehouse['postgres'] } = {}) {
  return startGatehouse({
    sessions: 'redis',
    storage: 'postgres',
    ...over,
    config: { authentication_backend: { ldap: ldap.backendConfig({ timeout: '1s' }), refresh_interval: '1s' } },
  });
}

async function setLocked(dn: string, locked: boolean): Promise<void> {
  await ldap.asAdmin((client) =>
    client.modify(
      dn,
      new Change({
        operation: locked ? 'add' : 'delete',
        modification: new Attribute({ type: 'pwdAccountLockedTime', values: locked ? ['000001010000Z'] : [] }),
      }),
    ),
  );
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  ldap = await startLdapServer();
  t = await ldapGatehouse();
});

afterAll(async () => {
  await t?.close();
  await ldap?.close();
});

describe('sign-in -> security key -> authz against the directory', () => {
  it('alice signs in with her directory password, enrols a key, passes the second factor and is let through', async () => {
    const first = await signInAs('alice');
    // Level 1 is not enough for a two_factor rule.
    assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie: first })).status, 401);
    const credential = await enrol(t, await elevate(t, first, 'alice'), 'YubiKey');
    const cookie = await signInAs('alice');
    const second = await secondFactor(t, cookie, credential);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const twoFactor = sessionCookieFrom(second) ?? cookie;
    const res = await authRequest(t, 'https://secure.example.com/', { cookie: twoFactor });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'alice');
    assert.equal(res.headers['remote-name'], 'Alice Liddell');
    assert.equal(res.headers['remote-email'], 'alice@example.com');
    assert.equal(res.headers['remote-groups'], 'admins,dev');
  });

  it("group rules use the directory's groups (nested OUs): alice is an admin, bob is not", async () => {
    const alice = await signInAs('alice');
    const bob = await signInAs('bob');
    assert.equal((await authRequest(t, 'https://admin.example.com/', { cookie: alice })).status, 200);
    assert.equal((await authRequest(t, 'https://admin.example.com/', { cookie: bob })).status, 403);
  });

  it('non-ASCII display names travel through', async () => {
    const jose = await signInAs('jose');
    const res = await authRequest(t, 'https://app.example.com/', { cookie: jose });
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.headers['remote-name'] as string, 'latin1').toString('utf8'), 'José Ñúñez 山田');
  });

  it('wrong password, locked user and injection strings are refused alike (401)', async () => {
    for (const [username, password] of [
      ['alice', 'wrong'],
      ['carol', LDAP_USERS.carol.password],
      ['*', LDAP_USERS.alice.password],
      ['*)(uid=*', LDAP_USERS.alice.password],
      ['admin)(|(a=*', LDAP_USERS.alice.password],
    ]) {
      const res = await firstFactor(t, { username, password });
      assert.equal(res.status, 401, `${username}: ${res.status}`);
    }
  });

  it('regulation bans a directory user after max_retries failures; the right password is then refused too', async () => {
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await firstFactor(t, { username: 'jose', password: `wrong ${i}` })).status, 401);
    }
    const banned = await firstFactor(t, { username: 'jose', password: LDAP_USERS.jose.password });
    assert.equal(banned.status, 401);
  });

  it('Basic credentials are checked against the directory too', async () => {
    const ok = await authRequest(t, 'https://app.example.com/', {
      headers: { Authorization: basic('bob', LDAP_USERS.bob.password) },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['remote-user'], 'bob');
    const wrong = await authRequest(t, 'https://app.example.com/', {
      headers: { Authorization: basic('bob', 'wrong') },
    });
    assert.equal(wrong.status, 401);
  });
});

describe('a user locked or removed in the directory loses access within refresh_interval', () => {
  it("bob's session ends at his first request after the refresh that no longer finds him", async () => {
    const bob = await signInAs('bob');
    assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: bob })).status, 200);
    const dn = `uid=bob,ou=engineering,ou=people,${BASE_DN}`;
    await setLocked(dn, true);
    try {
      await eventually(
        'bob refused',
        async () => (await authRequest(t, 'https://app.example.com/', { cookie: bob })).status === 401,
      );
      // The session is gone, not merely refused once.
      await setLocked(dn, false);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: bob })).status, 401);
    } finally {
      await setLocked(dn, false).catch(() => undefined);
    }
  });
});

describe('the directory down: sign-in fails closed, sessions go on', () => {
  it('answers sign-in 503 with a clear message while existing sessions keep passing authz', async () => {
    const alice = await signInAs('alice');
    await ldap.stop();
    try {
      const signIn = await firstFactor(t, { username: 'bob', password: LDAP_USERS.bob.password });
      assert.equal(signIn.status, 503);
      assert.match(JSON.stringify(signIn.body), /cannot reach the user directory/);
      const wrong = await firstFactor(t, { username: 'bob', password: 'wrong' });
      assert.equal(wrong.status, 503, 'never "wrong password" while the directory cannot say');
      // Past a refresh: alice is still held and still let through.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: alice })).status, 200);
      const basicWhileDown = await authRequest(t, 'https://app.example.com/', {
        headers: { Authorization: basic('bob', LDAP_USERS.bob.password) },
      });
      assert.equal(basicWhileDown.status, 503);
      const page = await request(t.url).get('/api/state').set('Host', 'auth.example.com').set('Cookie', alice);
      assert.equal(page.status, 200);
    } finally {
      await ldap.start();
    }
    assert.equal((await firstFactor(t, { username: 'bob', password: LDAP_USERS.bob.password })).status, 200);
  });

  it('Gatehouse does not start while the directory cannot be reached (as Authelia), naming it', async () => {
    await ldap.stop();
    try {
      await assert.rejects(
        startGatehouse({ config: { authentication_backend: { ldap: ldap.backendConfig({ timeout: '1s' }) } } }),
        (error: Error) => error.name === 'UserDirectoryUnavailableError' && error.message.includes(ldap.url),
      );
    } finally {
      await ldap.start();
    }
  });

  it('a restarted Gatehouse reads a session user back from the directory; with the directory down it answers 503, not a sign-out', async () => {
    const alice = await signInAs('alice');
    const restarted = await ldapGatehouse({ redis: t.redis, postgres: t.postgres });
    try {
      await ldap.stop();
      try {
        const down = await authRequest(restarted, 'https://app.example.com/', { cookie: alice });
        assert.equal(down.status, 503);
        const portal = await request(restarted.url)
          .get('/api/state')
          .set('Host', 'auth.example.com')
          .set('Cookie', alice);
        assert.equal(portal.status, 503);
        assert.match(JSON.stringify(portal.body), /cannot reach the user directory/);
      } finally {
        await ldap.start();
      }
      const res = await authRequest(restarted, 'https://app.example.com/', { cookie: alice });
      assert.equal(res.status, 200);
      assert.equal(res.headers['remote-groups'], 'admins,dev');
    } finally {
      await restarted.close();
    }
  });
});
