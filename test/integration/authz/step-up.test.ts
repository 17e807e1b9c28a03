// Step-up (issue 11 item 2): a rule's max_auth_age. Every authz flavour answers a second factor used too long ago
// exactly as a missing one; the portal asks such a user for the key only (never the password), and touching it
// sends the browser back to the target. Real Redis + PostgreSQL, and the embedded defaults.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DEFAULT_ACCESS_CONTROL, PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, firstFactor, forwardAuth, sessionCookieFrom } from '../../helpers/flows.js';
import {
  api,
  changeSession,
  elevatedSession,
  enrol,
  HOST,
  passkeySignIn,
  portalCookie,
  secondFactor,
  state,
  storedSession,
  testUsers,
  userPool,
  userWithKey,
} from '../webauthn/support.js';

const VAULT = 'https://vault.example.com/secrets?id=1';
const MAX_AGE_SECONDS = 600;
const ACCESS_CONTROL = {
  ...DEFAULT_ACCESS_CONTROL,
  rules: [{ domain: 'vault.example.com', policy: 'two_factor', max_auth_age: '10m' }, ...DEFAULT_ACCESS_CONTROL.rules],
};
const STEP_UP_NOTICE = 'This page needs a recent security-key check';

const BACKENDS = [
  { name: 'Redis + PostgreSQL', sessions: 'redis', storage: 'postgres' },
  { name: 'memory + embedded', sessions: 'memory', storage: 'embedded' },
] as const;

/** A session made through the session service, its second factor used `age` ms ago (undefined: never recorded). */
async function sessionWithKeyUse(
  t: TestGatehouse,
  username: string,
  level: 1 | 2,
  age: number | undefined,
): Promise<string> {
  const cookie = portalCookie(t);
  const user = t.gatehouse.adapters.users.get(username)!;
  const session = await t.gatehouse.services.sessions.create(
    {
      username,
      displayName: user.displayName,
      emails: user.emails,
      groups: user.groups,
      level,
      rememberMe: false,
      ...(age === undefined ? {} : { secondFactorAt: Date.now() - age }),
    },
    cookie,
  );
  return `${cookie.name}=${session.id}`;
}

const tooOld = (MAX_AGE_SECONDS + 60) * 1000;
const recent = 60 * 1000;

/** The portal's page for a visitor who arrives with `rd`. */
function portalPage(t: TestGatehouse, cookie: string, rd: string) {
  return request(t.url)
    .get(`/?rd=${encodeURIComponent(rd)}&rm=GET`)
    .set('Host', HOST)
    .set('Cookie', cookie);
}

for (const backend of BACKENDS) {
  describe(`step-up: max_auth_age at the authz endpoints (${backend.name})`, () => {
    let t: TestGatehouse;
    const signInLocation = `https://auth.example.com/?rd=${encodeURIComponent(VAULT)}&rm=GET`;

    beforeAll(async () => {
      t = await startGatehouse({
        sessions: backend.sessions,
        storage: backend.storage,
        config: { access_control: ACCESS_CONTROL },
      });
    });
    afterAll(async () => t.close());

    const flavours = [
      {
        name: 'auth-request (nginx)',
        ask: (cookie: string) => authRequest(t, VAULT, { cookie }),
        missing: { status: 401, location: signInLocation },
      },
      {
        name: 'forward-auth (Traefik, Caddy)',
        ask: (cookie: string) => forwardAuth(t, VAULT, { cookie }),
        missing: { status: 302, location: signInLocation },
      },
      {
        name: '/api/verify (legacy)',
        ask: (cookie: string) =>
          request(t.url)
            .get('/api/verify?rd=https%3A%2F%2Fauth.example.com%2F')
            .set('X-Original-URL', VAULT)
            .set('Accept', 'text/html')
            .set('Cookie', cookie),
        missing: { status: 302, location: signInLocation },
      },
    ];

    for (const flavour of flavours) {
      describe(flavour.name, () => {
        it('a key used within the max age passes, with the identity headers', async () => {
          const res = await flavour.ask(await sessionWithKeyUse(t, 'john', 2, recent));
          assert.equal(res.status, 200);
          assert.equal(res.headers['remote-user'], 'john');
        });

        it('a key used longer ago is answered exactly as a missing second factor', async () => {
          const stale = await flavour.ask(await sessionWithKeyUse(t, 'john', 2, tooOld));
          const missing = await flavour.ask(await sessionWithKeyUse(t, 'john', 1, undefined));
          assert.equal(missing.status, flavour.missing.status);
          assert.equal(missing.headers.location, flavour.missing.location);
          assert.equal(stale.status, missing.status);
          assert.equal(stale.headers.location, missing.headers.location);
          assert.equal(stale.text, missing.text);
          assert.equal(stale.headers['remote-user'], undefined);
        });

        it('a level-2 session with no recorded key use is too old (fail closed)', async () => {
          const res = await flavour.ask(await sessionWithKeyUse(t, 'john', 2, undefined));
          assert.equal(res.status, flavour.missing.status);
          assert.equal(res.headers.location, flavour.missing.location);
        });

        it('a two_factor rule without max_auth_age still passes an old key use', async () => {
          const cookie = await sessionWithKeyUse(t, 'john', 2, tooOld);
          const res =
            flavour.name === 'auth-request (nginx)'
              ? await authRequest(t, 'https://secure.example.com/', { cookie })
              : await forwardAuth(t, 'https://secure.example.com/', { cookie });
          assert.equal(res.status, 200);
        });
      });
    }

    it('the session is not ended by a stale key: it stays level 2 for the other apps', async () => {
      const cookie = await sessionWithKeyUse(t, 'john', 2, tooOld);
      assert.equal((await authRequest(t, VAULT, { cookie })).status, 401);
      assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie })).status, 200);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 200);
    });
  });
}

describe('step-up at the portal (Redis + PostgreSQL)', () => {
  let t: TestGatehouse;
  const nextUser = userPool(20);

  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      users: testUsers(20),
      config: { access_control: ACCESS_CONTROL, webauthn: { enable_passkey_login: true } },
    });
  });
  afterAll(async () => t.close());

  /** A user with a key, at level 2 through password + key, whose key use is then made `age` ms old. */
  async function twoFactorUser(age: number) {
    const username = nextUser();
    const { cookie, credential } = await userWithKey(t, username);
    const passed = await secondFactor(t, cookie, credential);
    assert.equal(passed.status, 200, JSON.stringify(passed.body));
    const level2 = sessionCookieFrom(passed)!;
    await changeSession(t, level2, (s) => {
      s.data.secondFactorAt = Date.now() - age;
    });
    return { username, cookie: level2, credential };
  }

  it('a recent key use is sent straight on to the target', async () => {
    const { cookie } = await twoFactorUser(recent);
    const res = await portalPage(t, cookie, VAULT);
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, VAULT);
  });

  it('a stale key use is asked for the key only, with the reason, instead of being bounced back (a loop)', async () => {
    const { cookie } = await twoFactorUser(tooOld);
    const res = await portalPage(t, cookie, VAULT);
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(STEP_UP_NOTICE));
    assert.match(res.text, /id="second-factor"/);
    assert.match(res.text, /id="use-security-key"/);
    assert.doesNotMatch(res.text, /type="password"/, 'never the password');
    assert.match(res.text, new RegExp(`name="rd" value="${VAULT.replace(/[?.]/g, '\\$&')}"`));
  });

  it('the same stale session is sent on to a target whose rule has no max age', async () => {
    const { cookie } = await twoFactorUser(tooOld);
    const res = await portalPage(t, cookie, 'https://secure.example.com/');
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, 'https://secure.example.com/');
  });

  it('an unsafe rd is still dropped: no step-up page, no redirect', async () => {
    const { cookie } = await twoFactorUser(tooOld);
    const res = await portalPage(t, cookie, 'https://evil.example.net/');
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.text, new RegExp(STEP_UP_NOTICE));
    assert.doesNotMatch(res.text, /evil\.example\.net/);
  });

  it('touching the key again renews the key use under a new session ID and returns to the target', async () => {
    const { username, cookie, credential } = await twoFactorUser(tooOld);
    assert.equal((await authRequest(t, VAULT, { cookie })).status, 401);
    const res = await secondFactor(t, cookie, credential, {}, { targetURL: VAULT, requestMethod: 'GET' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, { redirect: VAULT });
    const renewed = sessionCookieFrom(res)!;
    assert.notEqual(renewed, cookie);
    assert.deepEqual(await state(t, renewed), { username, authentication_level: 2, elevated: false });
    assert.equal((await state(t, cookie)).authentication_level, 0, 'the old session ID is dead');
    const session = await storedSession(t, renewed);
    assert.ok(session?.data.secondFactorAt && Date.now() - session.data.secondFactorAt < 60_000);
    const pass = await authRequest(t, VAULT, { cookie: renewed });
    assert.equal(pass.status, 200);
    assert.equal(pass.headers['remote-user'], username);
  });

  it('after a passkey sign-in and the password, a stale session may touch the key again (and only then)', async () => {
    const username = nextUser();
    const credential = await enrol(t, await elevatedSession(t, username), 'Passkey', {
      discoverable: true,
      flags: { be: true, bs: true },
    });
    const { res: passkey } = await passkeySignIn(t, credential);
    const afterPasskey = sessionCookieFrom(passkey)!;
    const refused = await api(t, 'post', '/api/webauthn/authentication/options', afterPasskey, {});
    assert.equal(refused.status, 400, 'at level 1 the passkey cannot count twice');
    const password = await firstFactor(t, { username, password: PASSWORD }, { cookie: afterPasskey });
    assert.equal(password.status, 200);
    const level2 = sessionCookieFrom(password)!;
    await changeSession(t, level2, (s) => {
      s.data.secondFactorAt = Date.now() - tooOld;
    });
    const page = await portalPage(t, level2, VAULT);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(STEP_UP_NOTICE));
    assert.doesNotMatch(page.text, /type="password"/);
    const stepUp = await secondFactor(t, level2, credential, {}, { targetURL: VAULT, requestMethod: 'GET' });
    assert.equal(stepUp.status, 200, JSON.stringify(stepUp.body));
    assert.deepEqual(stepUp.body.data, { redirect: VAULT });
    assert.equal((await authRequest(t, VAULT, { cookie: sessionCookieFrom(stepUp)! })).status, 200);
  });
});
