// SPEC §5: which page a session gets on the portal once security keys exist (GET /, /settings,
// /webauthn/register), and the browser library served from Gatehouse itself; real Redis + PostgreSQL.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor, PORTAL, sessionAtLevel, signIn } from '../../helpers/flows.js';
import { PASSWORD } from '../../helpers/gatehouse.js';
import { join } from 'node:path';
import { lastIdentityToken } from '../../helpers/mail.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqb2huIn0.c2lnbmF0dXJl';
const SECURE = 'https://secure.example.com/page?x=1';
const APP = 'https://app.example.com/';

describe('security-key pages', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis', storage: 'postgres' });
    // harry has a key; john has none.
    await t.gatehouse.adapters.storage.saveWebAuthnCredential({
      createdAt: new Date('2025-01-02T03:04:05Z'),
      rpid: 'auth.example.com',
      username: 'harry',
      description: 'Harry <b>key</b>',
      kid: 'aGFycnkta2V5',
      aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
      attestationType: 'packed',
      attachment: 'cross-platform',
      transports: ['usb'],
      signCount: 0,
      discoverable: false,
      present: true,
      verified: true,
      backupEligible: false,
      backupState: false,
      publicKey: new Uint8Array([1]),
      attestation: null,
      legacyU2fAppid: null,
    });
    // A discoverable one: a passkey, which this Gatehouse (enable_passkey_login off) does not sign in with.
    await t.gatehouse.adapters.storage.saveWebAuthnCredential({
      createdAt: new Date('2025-01-02T03:04:05Z'),
      rpid: 'auth.example.com',
      username: 'harry',
      description: 'Harry laptop',
      kid: 'aGFycnktcGFzc2tleQ',
      aaguid: null,
      attestationType: 'none',
      attachment: 'platform',
      transports: ['internal'],
      signCount: 0,
      discoverable: true,
      present: true,
      verified: true,
      backupEligible: false,
      backupState: false,
      publicKey: new Uint8Array([2]),
      attestation: null,
      legacyU2fAppid: null,
    });
  });
  afterAll(async () => t.close());

  const get = (path: string, cookie?: string) => {
    const req = request(t.url).get(path).set('Host', 'auth.example.com');
    return cookie ? req.set('Cookie', cookie) : req;
  };
  const withTarget = (target: string) => `/?rd=${encodeURIComponent(target)}`;

  describe('GET / after the password (level 1)', () => {
    const cases: Array<{ name: string; user: string; path: string; expect: RegExp | { redirect: string } }> = [
      {
        name: 'a target that needs a key, user without one: "Register a security key"',
        user: 'john',
        path: withTarget(SECURE),
        expect: /id="request-registration" class="button primary"/,
      },
      {
        name: 'a target that needs a key, user with one: "Use your security key"',
        user: 'harry',
        path: withTarget(SECURE),
        expect: /Use your security key/,
      },
      {
        name: 'no target, user with a key: the second-factor page all the same',
        user: 'harry',
        path: '/',
        expect: /Use your security key/,
      },
      {
        name: 'no target, user without a key: the signed-in page, with "Security keys"',
        user: 'john',
        path: '/',
        expect: /href="\/settings"/,
      },
      {
        name: 'a one-factor target: straight there, key or not',
        user: 'harry',
        path: withTarget(APP),
        expect: { redirect: APP },
      },
      {
        name: 'a portal page as target (the emailed link): straight there',
        user: 'john',
        path: withTarget(`${PORTAL}/webauthn/register?token=${TOKEN}`),
        expect: { redirect: `${PORTAL}/webauthn/register?token=${TOKEN}` },
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const res = await get(c.path, await signIn(t, c.user));
        if (c.expect instanceof RegExp) {
          assert.equal(res.status, 200);
          assert.match(res.text, c.expect);
        } else {
          assert.equal(res.status, 302);
          assert.equal(res.headers.location, c.expect.redirect);
        }
      });
    }

    it('a password sign-in for a one-factor app by a user with a key answers with the redirect, as Authelia does (level 1)', async () => {
      const res = await firstFactor(t, { username: 'harry', password: PASSWORD, targetURL: APP });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'OK', data: { redirect: APP } });
      const two = await firstFactor(t, { username: 'harry', password: PASSWORD, targetURL: SECURE });
      assert.equal(two.body.data?.redirect, undefined, 'a two-factor target: no redirect, the portal asks for the key');
    });

    it('the second-factor page carries the target and method to its script', async () => {
      const res = await get(`${withTarget(SECURE)}&rm=post`, await signIn(t, 'harry'));
      assert.match(res.text, /<input type="hidden" name="rd" value="https:\/\/secure.example.com\/page\?x=1">/);
      assert.match(res.text, /<input type="hidden" name="rm" value="POST">/);
    });

    it('after a passkey, a two-factor target asks for the password (not the key again)', async () => {
      const cookie = t.loaded.cookies.find((c) => c.domain === 'example.com')!;
      const user = t.gatehouse.adapters.users.get('harry')!;
      const session = await t.gatehouse.services.sessions.create(
        {
          username: 'harry',
          displayName: user.displayName,
          emails: user.emails,
          groups: user.groups,
          level: 1,
          rememberMe: false,
          firstFactor: 'passkey',
        },
        cookie,
      );
      const res = await get(withTarget(SECURE), `${cookie.name}=${session.id}`);
      assert.equal(res.status, 200);
      assert.match(res.text, /<input[^>]+name="password"/);
      assert.match(res.text, /also needs your password/);
      assert.doesNotMatch(res.text, /Use your security key/);
    });

    it('"Access denied" offers "Sign in as someone else" (back through sign-in to the target) and a way back', async () => {
      const target = 'https://app.example.com/forbidden';
      const res = await get(withTarget(target), await signIn(t, 'john'));
      assert.equal(res.status, 403);
      assert.match(res.text, /Access denied/);
      assert.ok(
        res.text.includes(
          `<a class="button primary" href="/logout?rd=${encodeURIComponent(target)}">Sign in as someone else</a>`,
        ),
        res.text,
      );
      assert.match(res.text, /<a class="button secondary" href="https:\/\/www.example.com\/?">Go back<\/a>/);
    });

    it('at level 2 a two-factor target is reached directly', async () => {
      const res = await get(withTarget(SECURE), await sessionAtLevel(t, 'harry', 2));
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, SECURE);
    });
  });

  describe('GET /settings', () => {
    it('sends an anonymous visitor to sign in, coming back to the settings page', async () => {
      const res = await get('/settings');
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, `/?rd=${encodeURIComponent(`${PORTAL}/settings`)}`);
    });

    it("lists the user's keys by name and model, escaped", async () => {
      const res = await get('/settings', await signIn(t, 'harry'));
      assert.equal(res.status, 200);
      assert.match(res.text, /<span class="key-name" id="key-\d+-name">Harry &lt;b&gt;key&lt;\/b&gt;<\/span>/);
      assert.match(res.text, /YubiKey 5 Series/);
      assert.match(res.text, /<script type="module" src="\/static\/settings.js"><\/script>/);
    });

    it('marks no key as a passkey while passkey sign-in is off; says what a key is without an AAGUID', async () => {
      const res = await get('/settings', await signIn(t, 'harry'));
      assert.match(res.text, /Harry laptop/);
      assert.doesNotMatch(res.text, /class="tag">Passkey/);
      assert.match(res.text, /Built into a device/);
    });

    it("shows nobody else's keys", async () => {
      const res = await get('/settings', await signIn(t, 'john'));
      assert.doesNotMatch(res.text, /Harry/);
      assert.match(res.text, /<p class="empty" id="no-keys">/);
    });
  });

  describe('GET /webauthn/register (the emailed link)', () => {
    it('sends an anonymous visitor to sign in with rd = the same link, token included', async () => {
      const res = await get(`/webauthn/register?token=${TOKEN}`);
      assert.equal(res.status, 302);
      const rd = new URL(res.headers.location!, PORTAL).searchParams.get('rd');
      assert.equal(rd, `${PORTAL}/webauthn/register?token=${TOKEN}`);
    });

    it('shows "Confirm your identity" with the token and a Register button when signed in', async () => {
      const cookie = await signIn(t, 'john');
      const started = await request(t.url)
        .post('/api/identity/start')
        .set('Host', 'auth.example.com')
        .set('Origin', PORTAL)
        .set('Cookie', cookie)
        .set('Content-Type', 'application/json')
        .send('{"action":"register_webauthn"}');
      assert.equal(started.status, 200);
      const token = lastIdentityToken(join(t.dir, 'notification.txt'));
      const res = await get(`/webauthn/register?token=${token}`, cookie);
      assert.equal(res.status, 200);
      assert.match(res.text, /<h1 id="register-heading">Confirm your identity<\/h1>/);
      assert.match(res.text, new RegExp(`<input type="hidden" name="token" value="${token}">`));
      assert.match(res.text, /Register<\/button>/);
    });

    it('a well-formed token Gatehouse never signed: "not valid" as the page opens, with "Email me a new link"', async () => {
      const res = await get(`/webauthn/register?token=${TOKEN}`, await signIn(t, 'john'));
      assert.equal(res.status, 400);
      assert.match(res.text, /<h1>This link is not valid<\/h1>/);
      assert.match(res.text, /Email me a new link/);
    });

    for (const token of ['', 'not-a-jwt', 'a.b', 'a.b.c.d', '"><script>.a.b', `${'a'.repeat(3000)}.b.c`]) {
      it(`refuses a malformed token ${JSON.stringify(token.slice(0, 20))} with 400 and a way on`, async () => {
        const res = await get(`/webauthn/register?token=${encodeURIComponent(token)}`, await signIn(t, 'john'));
        assert.equal(res.status, 400);
        assert.match(res.text, /This link is not valid/);
        assert.doesNotMatch(res.text, /<script>\./);
      });
    }
  });

  describe('the browser library, served by Gatehouse (no CDN)', () => {
    it('is at /static/vendor/simplewebauthn/ as JavaScript, with its relative imports resolvable', async () => {
      for (const path of ['index.js', 'methods/startAuthentication.js', 'helpers/webAuthnAbortService.js']) {
        const res = await request(t.url).get(`/static/vendor/simplewebauthn/${path}`);
        assert.equal(res.status, 200, path);
        assert.match(res.headers['content-type'] ?? '', /^text\/javascript/);
        assert.match(res.headers['content-security-policy'] ?? '', /script-src 'self'/);
      }
    });

    it('refuses paths out of the directory and answers 404 for what is not there', async () => {
      const res = await request(t.url).get('/static/vendor/simplewebauthn/../../../package.json');
      assert.ok([403, 404].includes(res.status), String(res.status));
      assert.doesNotMatch(res.text, /"dependencies"/);
      assert.equal((await request(t.url).get('/static/vendor/simplewebauthn/nothing.js')).status, 404);
    });
  });
});
