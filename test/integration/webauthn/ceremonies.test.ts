// SPEC §5, §6, §8: security keys through the real app, real Redis and PostgreSQL, with the software authenticator:
// enrolment behind the emailed identity check, the second factor, passkey sign-in, and the user's keys. Every
// refusal is also checked for what it must not do: raise a level, or store a key.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, sessionCookieFrom, signIn, firstFactor } from '../../helpers/flows.js';
import request from 'supertest';
import {
  createCredential,
  getAssertion,
  legacyU2fCredential,
  makeCredential,
  type SoftCredential,
} from '../../helpers/soft-authenticator.js';
import {
  api,
  authenticationOptions,
  changeSession,
  elevatedSession,
  enrol,
  messagesTo,
  ORIGIN,
  passkeyOptions,
  passkeySignIn,
  register,
  registrationOptions,
  RP_ID,
  secondFactor,
  startKeysGatehouse,
  state,
  storedKeys,
  storedSession,
  storeKey,
  userPool,
  userWithKey,
} from './support.js';

const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

describe('security keys (Redis + PostgreSQL)', () => {
  let t: TestGatehouse;
  const nextUser = userPool();
  beforeAll(async () => {
    t = await startKeysGatehouse();
  });
  afterAll(async () => t.close());

  describe('enrolment (SPEC §5 "Registering a key", §6 registration rows)', () => {
    it('needs a signed-in session elevated through the emailed link', async () => {
      const username = nextUser();
      assert.equal((await api(t, 'post', '/api/webauthn/registration/options')).status, 401);
      const cookie = await signIn(t, username);
      const refused = await api(t, 'post', '/api/webauthn/registration/options', cookie);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.status, 'KO');
      const { response } = createCredential(await registrationOptionsAfterElevation(username), { origin: ORIGIN });
      const notElevated = await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'Key', response });
      assert.equal(notElevated.status, 403);
      assert.equal((await storedKeys(t, username)).length, 0);
    });

    async function registrationOptionsAfterElevation(username: string) {
      return registrationOptions(t, await elevatedSession(t, username));
    }

    it('offers options from the configuration: RP name and ID, random user handle, attestation, user verification, timeout', async () => {
      const username = nextUser();
      const options = await registrationOptionsAfterElevation(username);
      assert.deepEqual(options.rp, { name: 'Gatehouse', id: RP_ID });
      assert.equal(options.user.name, username);
      assert.equal(options.user.displayName, `User ${Number(username.slice(4))}`);
      const handle = await t.gatehouse.adapters.storage.getOrCreateWebAuthnUserHandle(RP_ID, username);
      assert.equal(options.user.id, handle);
      assert.ok(Buffer.from(options.user.id, 'base64url').length >= 16);
      assert.ok(!Buffer.from(options.user.id, 'base64url').toString('utf8').includes(username));
      assert.equal(options.attestation, 'indirect');
      assert.equal(options.timeout, 60_000);
      assert.deepEqual(options.authenticatorSelection, {
        residentKey: 'preferred',
        userVerification: 'preferred',
        requireResidentKey: false,
      });
      assert.deepEqual(options.excludeCredentials, []);
      assert.deepEqual(
        options.pubKeyCredParams.map((p) => p.alg),
        [-8, -7, -257],
      );
      assert.ok(Buffer.from(options.challenge, 'base64url').length >= 16);
    });

    it('stores the key with its facts, answers 201, and emails the user', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const before = new Date();
      const { res, credential } = await register(t, cookie, '  Blue key ', {
        format: 'packed',
        aaguid: YUBIKEY_5,
        discoverable: true,
        transports: ['usb', 'nfc'],
        counter: 3,
        flags: { be: true, bs: false },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.data.description, 'Blue key');
      assert.equal(res.body.data.model, 'YubiKey 5 Series');
      const [key] = await storedKeys(t, username);
      assert.ok(key);
      assert.equal(key.kid, credential.kid);
      assert.equal(key.rpid, RP_ID);
      assert.equal(key.description, 'Blue key');
      assert.deepEqual(Buffer.from(key.publicKey), credential.cosePublicKey);
      assert.equal(key.signCount, 3);
      assert.equal(key.aaguid, YUBIKEY_5);
      assert.equal(key.attestationType, 'packed');
      assert.deepEqual(key.transports, ['usb', 'nfc']);
      assert.equal(key.discoverable, true);
      assert.equal(key.backupEligible, true);
      assert.equal(key.backupState, false);
      assert.equal(key.verified, true);
      assert.equal(key.cloneWarning, false);
      assert.equal(key.lastUsedAt, null);
      assert.ok(key.createdAt.getTime() >= before.getTime() - 1000);
      const mail = messagesTo(t, username).at(-1)!;
      assert.equal(mail.subject, '[Gatehouse] A security key was added');
      assert.match(mail.body, /Blue key/);
    });

    it('enrols several keys of each attestation format and algorithm, and excludes them from the next options', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const keys = [
        await enrol(t, cookie, 'None EdDSA', { format: 'none', algorithm: 'EdDSA' }),
        await enrol(t, cookie, 'U2F', { format: 'fido-u2f' }),
        await enrol(t, cookie, 'Packed RS256', { format: 'packed', algorithm: 'RS256' }),
      ];
      const stored = await storedKeys(t, username);
      assert.deepEqual(
        stored.map((k) => k.attestationType),
        ['none', 'fido-u2f', 'packed'],
      );
      const options = await registrationOptions(t, cookie);
      assert.deepEqual(
        options.excludeCredentials?.map((c) => c.id),
        keys.map((k) => k.kid),
      );
      assert.deepEqual(options.excludeCredentials?.[0]?.transports, ['usb']);
    });

    it('refuses a key that is already registered (a browser ignoring excludeCredentials) with 409', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const existing = await enrol(t, cookie, 'Original');
      const { res } = await register(t, cookie, 'Again', { existing });
      assert.equal(res.status, 409);
      assert.match(res.body.message, /already registered/);
      assert.equal((await storedKeys(t, username)).length, 1);
    });

    it('answers 409 to a name the user already uses, and keeps the challenge for a second try with another name', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      await enrol(t, cookie, 'Blue');
      const options = await registrationOptions(t, cookie);
      const { response } = createCredential(options, { origin: ORIGIN });
      const taken = await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'Blue', response });
      assert.equal(taken.status, 409);
      assert.match(taken.body.message, /name/);
      const renamed = await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'Green', response });
      assert.equal(renamed.status, 201, JSON.stringify(renamed.body));
      assert.deepEqual(
        (await storedKeys(t, username)).map((k) => k.description),
        ['Blue', 'Green'],
      );
    });

    it('lets another user use the same name', async () => {
      const [a, b] = [nextUser(), nextUser()];
      await enrol(t, await elevatedSession(t, a), 'Laptop');
      await enrol(t, await elevatedSession(t, b), 'Laptop');
    });

    it('uses a challenge once: a second response to it is refused, even after a failed attempt', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const options = await registrationOptions(t, cookie);
      const first = createCredential(options, { origin: ORIGIN });
      assert.equal(
        (await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'One', response: first.response }))
          .status,
        201,
      );
      const second = createCredential(options, { origin: ORIGIN });
      const replay = await api(t, 'post', '/api/webauthn/registration', cookie, {
        description: 'Two',
        response: second.response,
      });
      assert.equal(replay.status, 400);

      const fresh = await registrationOptions(t, cookie);
      const forged = createCredential(fresh, { origin: 'https://evil.example.net' });
      assert.equal(
        (
          await api(t, 'post', '/api/webauthn/registration', cookie, {
            description: 'Three',
            response: forged.response,
          })
        ).status,
        400,
      );
      const honest = createCredential(fresh, { origin: ORIGIN });
      assert.equal(
        (await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'Four', response: honest.response }))
          .status,
        400,
      );
      assert.deepEqual(
        (await storedKeys(t, username)).map((k) => k.description),
        ['One'],
      );
    });

    it('refuses a challenge past webauthn.timeout', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const options = await registrationOptions(t, cookie);
      await changeSession(t, cookie, (s) => {
        s.data.pending!.registration!.expiresAt = Date.now() - 1;
      });
      const { response } = createCredential(options, { origin: ORIGIN });
      const res = await api(t, 'post', '/api/webauthn/registration', cookie, { description: 'Late', response });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /expired|Start again/);
      assert.equal((await storedKeys(t, username)).length, 0);
      assert.equal(
        (await storedSession(t, cookie))?.data.pending?.registration,
        undefined,
        'the expired challenge is removed',
      );
    });

    it('binds a challenge to the session that asked for it', async () => {
      const username = nextUser();
      const first = await elevatedSession(t, username);
      const options = await registrationOptions(t, first);
      // A second elevated session of the same user (elevated directly: the identity email is limited to one per 10 s).
      const second = await signIn(t, username);
      await changeSession(t, second, (s) => {
        s.data.elevatedUntil = Date.now() + 60_000;
      });
      const { response } = createCredential(options, { origin: ORIGIN });
      assert.equal(
        (await api(t, 'post', '/api/webauthn/registration', second, { description: 'Other session', response })).status,
        400,
      );
      await registrationOptions(t, second); // the second session's own challenge does not match either
      assert.equal(
        (await api(t, 'post', '/api/webauthn/registration', second, { description: 'Other session', response })).status,
        400,
      );
      assert.equal((await storedKeys(t, username)).length, 0);
    });

    const forgeries: [string, Parameters<typeof createCredential>[1]][] = [
      ['a wrong origin', { origin: 'https://evil.example.net' }],
      ['the origin of another portal', { origin: 'https://login.example.org' }],
      ['a wrong RP ID', { rpId: 'evil.example.net' }],
      ['the cookie domain as RP ID', { rpId: 'example.com' }],
      ['no user presence', { flags: { up: false } }],
    ];
    for (const [what, options] of forgeries) {
      it(`refuses a response with ${what} (400, nothing stored)`, async () => {
        const username = nextUser();
        const cookie = await elevatedSession(t, username);
        const { res } = await register(t, cookie, 'Forged', options);
        assert.equal(res.status, 400);
        assert.equal(res.body.status, 'KO');
        assert.equal((await storedKeys(t, username)).length, 0);
      });
    }
  });

  describe('second factor (SPEC §5, §6 authentication rows, §8)', () => {
    it('needs level 1, and a key, for options', async () => {
      assert.equal((await api(t, 'post', '/api/webauthn/authentication/options')).status, 401);
      const noKey = await api(t, 'post', '/api/webauthn/authentication/options', await signIn(t, nextUser()));
      assert.equal(noKey.status, 400);
      assert.match(noKey.body.message, /No security key/);
    });

    it("offers the user's keys with their transports, and the configured user verification", async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username);
      const options = await authenticationOptions(t, cookie);
      assert.equal(options.rpId, RP_ID);
      assert.deepEqual(options.allowCredentials, [{ id: credential.kid, type: 'public-key', transports: ['usb'] }]);
      assert.equal(options.userVerification, 'preferred');
      assert.equal(options.extensions, undefined);
    });

    it('brings the session to level 2 under a new ID, kills the old one, updates the key, and redirects to a safe target', async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username);
      assert.equal(
        (await authRequest(t, 'https://secure.example.com/', { cookie })).status,
        401,
        'two_factor is not met at level 1',
      );
      const res = await secondFactor(t, cookie, credential, {}, { targetURL: 'https://secure.example.com/page' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data, { redirect: 'https://secure.example.com/page' });
      const next = sessionCookieFrom(res);
      assert.ok(next && next !== cookie);
      assert.deepEqual(await state(t, next), { username, authentication_level: 2, elevated: false });
      assert.equal((await state(t, cookie)).authentication_level, 0, 'the level-1 session ID is dead');
      assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie: next })).status, 200);
      const session = await storedSession(t, next);
      assert.ok(session?.data.secondFactorAt && Date.now() - session.data.secondFactorAt < 5_000);
      const [key] = await storedKeys(t, username);
      assert.equal(key?.signCount, credential.counter);
      assert.ok(key?.lastUsedAt);
    });

    it('gives no redirect to an unsafe target, and the default URL without one', async () => {
      const { cookie, credential } = await userWithKey(t, nextUser());
      const unsafe = await secondFactor(t, cookie, credential, {}, { targetURL: 'https://evil.example.net/' });
      assert.equal(unsafe.status, 200);
      assert.deepEqual(unsafe.body.data, {});
      const none = await secondFactor(t, sessionCookieFrom(unsafe)!, credential);
      assert.deepEqual(none.body.data, { redirect: 'https://www.example.com/' });
    });

    it('keeps "remember me" across the second factor', async () => {
      const username = nextUser();
      const { credential } = await userWithKey(t, username);
      const cookie = await signIn(t, username, { keepMeLoggedIn: true });
      const res = await secondFactor(t, cookie, credential);
      const header = ([] as string[])
        .concat(res.headers['set-cookie'] ?? [])
        .find((c) => c.startsWith('gatehouse_session='));
      assert.match(header ?? '', /Max-Age=\d+/);
    });

    it('refuses an unknown credential (401, level unchanged)', async () => {
      const { cookie } = await userWithKey(t, nextUser());
      const res = await secondFactor(t, cookie, makeCredential(RP_ID));
      assert.equal(res.status, 401);
      assert.equal(sessionCookieFrom(res), undefined);
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });

    it("refuses another user's key (401, level unchanged)", async () => {
      const { credential: theirs } = await userWithKey(t, nextUser());
      const { cookie } = await userWithKey(t, nextUser());
      const res = await secondFactor(t, cookie, theirs);
      assert.equal(res.status, 401);
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });

    const forgeries: [string, Parameters<typeof getAssertion>[2]][] = [
      ['a wrong origin', { origin: 'https://evil.example.net' }],
      ['a wrong RP ID', { rpId: 'evil.example.net' }],
      ['no user presence', { flags: { up: false } }],
      ['another challenge', { challenge: Buffer.from('another challenge').toString('base64url') }],
    ];
    for (const [what, options] of forgeries) {
      it(`refuses an assertion with ${what} (401, level unchanged)`, async () => {
        const { cookie, credential } = await userWithKey(t, nextUser());
        const res = await secondFactor(t, cookie, credential, options);
        assert.equal(res.status, 401);
        assert.equal((await state(t, cookie)).authentication_level, 1);
      });
    }

    it('uses a challenge once, even after a failed attempt; and only in its own session', async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username);
      const options = await authenticationOptions(t, cookie);
      const forged = getAssertion(credential, options, { origin: 'https://evil.example.net' });
      assert.equal((await api(t, 'post', '/api/webauthn/authentication', cookie, { response: forged })).status, 401);
      const honest = getAssertion(credential, options, { origin: ORIGIN });
      assert.equal((await api(t, 'post', '/api/webauthn/authentication', cookie, { response: honest })).status, 400);

      const other = await signIn(t, username);
      const mine = await authenticationOptions(t, cookie);
      const elsewhere = await api(t, 'post', '/api/webauthn/authentication', other, {
        response: getAssertion(credential, mine, { origin: ORIGIN }),
      });
      assert.equal(elsewhere.status, 400);
      assert.equal((await state(t, other)).authentication_level, 1);
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });

    it('refuses a challenge past webauthn.timeout', async () => {
      const { cookie, credential } = await userWithKey(t, nextUser());
      const options = await authenticationOptions(t, cookie);
      await changeSession(t, cookie, (s) => {
        s.data.pending!.authentication!.expiresAt = Date.now() - 1;
      });
      const res = await api(t, 'post', '/api/webauthn/authentication', cookie, {
        response: getAssertion(credential, options, { origin: ORIGIN }),
      });
      assert.equal(res.status, 400);
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });

    it('refuses a sign counter that did not increase and flags the key as possibly cloned, for good', async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username, { counter: 10 });
      const res = await secondFactor(t, cookie, credential, { counter: 10 });
      assert.equal(res.status, 401);
      assert.match(res.body.message, /copied/);
      assert.equal((await state(t, cookie)).authentication_level, 1);
      const [key] = await storedKeys(t, username);
      assert.equal(key?.cloneWarning, true);
      assert.equal(key?.signCount, 10);
      const list = await api(t, 'get', '/api/webauthn/credentials', cookie);
      assert.equal(list.body.data[0].clone_warning, true);
      const later = await secondFactor(t, cookie, credential, { counter: 50 });
      assert.equal(later.status, 401, 'a flagged key stays refused');
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });

    it('accepts a key whose counters are both zero (an authenticator without a counter)', async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username, { counter: 0 });
      const first = await secondFactor(t, cookie, credential, { counter: 0 });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const second = await secondFactor(t, sessionCookieFrom(first)!, credential, { counter: 0 });
      assert.equal(second.status, 200);
      assert.equal((await storedKeys(t, username))[0]?.cloneWarning, false);
    });

    it('signs in with a key enrolled through FIDO U2F under the portal URL as AppID', async () => {
      const username = nextUser();
      const cookie = await signIn(t, username);
      const legacy = legacyU2fCredential(ORIGIN, RP_ID);
      await storeKey(t, username, legacy, { attestationType: 'fido-u2f', legacyU2fAppid: ORIGIN, discoverable: false });
      const options = await authenticationOptions(t, cookie);
      assert.deepEqual(options.extensions, { appid: ORIGIN });
      const response = getAssertion(legacy, options, { origin: ORIGIN });
      assert.deepEqual(response.clientExtensionResults, { appid: true });
      const res = await api(t, 'post', '/api/webauthn/authentication', cookie, { response });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await state(t, sessionCookieFrom(res)!)).authentication_level, 2);
      const list = await api(t, 'get', '/api/webauthn/credentials', sessionCookieFrom(res)!);
      assert.equal(list.body.data[0].legacy_u2f, true);
    });

    it('refuses the AppID path for a key enrolled through WebAuthn', async () => {
      const { cookie, credential } = await userWithKey(t, nextUser());
      const res = await secondFactor(t, cookie, credential, { useAppid: true, rpId: ORIGIN });
      assert.equal(res.status, 401);
      assert.equal((await state(t, cookie)).authentication_level, 1);
    });
  });

  describe('passkey sign-in (SPEC §5, §6 passkey rows)', () => {
    /** A user with a discoverable key enrolled through the API (its user handle is the one Gatehouse stored). */
    async function passkeyUser(): Promise<{ username: string; credential: SoftCredential }> {
      const username = nextUser();
      const credential = await enrol(t, await elevatedSession(t, username), 'Passkey', {
        discoverable: true,
        flags: { be: true, bs: true },
      });
      return { username, credential };
    }

    it('gives an anonymous visitor options in a level-0 session of its own', async () => {
      const { options, cookie } = await passkeyOptions(t);
      assert.ok(cookie);
      assert.deepEqual(options.allowCredentials, []);
      assert.equal(options.rpId, RP_ID);
      assert.equal(options.userVerification, 'preferred');
      assert.deepEqual(await state(t, cookie), { username: '', authentication_level: 0, elevated: false });
    });

    it('signs in at level 1 under a new session ID, and redirects to a target reachable at level 1', async () => {
      const { username, credential } = await passkeyUser();
      const { res, cookie } = await passkeySignIn(t, credential, {}, { targetURL: 'https://app.example.com/' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data, { redirect: 'https://app.example.com/' });
      const next = sessionCookieFrom(res)!;
      assert.notEqual(next, cookie);
      assert.deepEqual(await state(t, next), { username, authentication_level: 1, elevated: false });
      assert.equal(await storedSession(t, cookie), undefined, 'the level-0 session is gone');
      const attempts = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
        username,
        since: new Date(Date.now() - 60_000),
        limit: 5,
      });
      assert.equal(attempts[0]?.authType, 'PASSKEY');
      assert.equal(attempts[0]?.successful, true);
    });

    it('does not redirect to a target that needs two factors, and stays at level 1 even with user verification', async () => {
      const { credential } = await passkeyUser();
      const { res } = await passkeySignIn(
        t,
        credential,
        { flags: { uv: true } },
        { targetURL: 'https://secure.example.com/' },
      );
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, {});
      assert.equal((await state(t, sessionCookieFrom(res)!)).authentication_level, 1);
    });

    it('after a passkey, the password is the second step: level 2 under a new ID; the key cannot count twice', async () => {
      const { username, credential } = await passkeyUser();
      const { res } = await passkeySignIn(t, credential, {}, { targetURL: 'https://secure.example.com/' });
      const afterPasskey = sessionCookieFrom(res)!;
      assert.equal((await state(t, afterPasskey)).authentication_level, 1);
      const again = await api(t, 'post', '/api/webauthn/authentication/options', afterPasskey, {});
      assert.equal(again.status, 400, 'the same key is not a second factor');
      const password = await firstFactor(
        t,
        { username, password: PASSWORD, targetURL: 'https://secure.example.com/' },
        { cookie: afterPasskey },
      );
      assert.equal(password.status, 200);
      assert.deepEqual(password.body.data, { redirect: 'https://secure.example.com/' });
      const twoFactors = sessionCookieFrom(password)!;
      assert.notEqual(twoFactors, afterPasskey);
      assert.equal((await state(t, twoFactors)).authentication_level, 2);
      assert.equal((await state(t, afterPasskey)).authentication_level, 0, 'the level-1 session is gone');
    });

    it("a password after another user's passkey session starts over at level 1", async () => {
      const { credential } = await passkeyUser();
      const other = nextUser();
      const { res } = await passkeySignIn(t, credential);
      const password = await firstFactor(
        t,
        { username: other, password: PASSWORD },
        { cookie: sessionCookieFrom(res)! },
      );
      assert.equal((await state(t, sessionCookieFrom(password)!)).authentication_level, 1);
    });

    it("refuses a user handle that is not the key owner's, or none (401, no session)", async () => {
      const { credential } = await passkeyUser();
      const { credential: other } = await passkeyUser();
      for (const userHandle of [other.userHandle!, false] as const) {
        const { res, cookie } = await passkeySignIn(t, credential, { userHandle });
        assert.equal(res.status, 401);
        assert.equal(sessionCookieFrom(res), undefined);
        assert.equal((await state(t, cookie)).authentication_level, 0);
      }
    });

    it('refuses an unknown credential and a forged origin (401)', async () => {
      const { credential } = await passkeyUser();
      assert.equal((await passkeySignIn(t, makeCredential(RP_ID))).res.status, 401);
      assert.equal((await passkeySignIn(t, credential, { origin: 'https://evil.example.net' })).res.status, 401);
    });

    it("refuses a disabled user's passkey", async () => {
      const credential = makeCredential(RP_ID);
      await storeKey(t, 'bob', credential);
      const { res, cookie } = await passkeySignIn(t, credential);
      assert.equal(res.status, 401);
      assert.equal((await state(t, cookie)).authentication_level, 0);
    });

    it('refuses a banned user silently, and logs the attempt as banned', async () => {
      const { username, credential } = await passkeyUser();
      for (let i = 0; i < 3; i += 1) assert.equal((await firstFactor(t, { username, password: 'wrong' })).status, 401);
      const { res } = await passkeySignIn(t, credential);
      assert.equal(res.status, 401);
      assert.match(res.body.message, /passkey failed/);
      const [attempt] = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
        username,
        since: new Date(Date.now() - 60_000),
        limit: 1,
      });
      assert.equal(attempt?.authType, 'PASSKEY');
      assert.equal(attempt?.banned, true);
    });

    it('needs the challenge of its own session', async () => {
      const { credential } = await passkeyUser();
      const { options } = await passkeyOptions(t);
      const { cookie: other } = await passkeyOptions(t);
      const res = await api(t, 'post', '/api/webauthn/passkey', other, {
        response: getAssertion(credential, options, { origin: ORIGIN }),
      });
      assert.equal(res.status, 401);
      const noSession = await api(t, 'post', '/api/webauthn/passkey', undefined, {
        response: getAssertion(credential, options, { origin: ORIGIN }),
      });
      assert.equal(noSession.status, 400);
    });
  });

  describe("the user's keys (SPEC §5 settings, §6 credentials rows)", () => {
    it('lists the keys with name, dates, AAGUID and model, and only to their owner', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      await enrol(t, cookie, 'YubiKey', { aaguid: YUBIKEY_5 });
      await enrol(t, cookie, 'Unknown model', { aaguid: '12345678-1234-1234-1234-123456789abc' });
      const res = await api(t, 'get', '/api/webauthn/credentials', cookie);
      assert.equal(res.status, 200);
      const [first, second] = res.body.data;
      assert.equal(first.description, 'YubiKey');
      assert.equal(first.model, 'YubiKey 5 Series');
      assert.equal(first.aaguid, YUBIKEY_5);
      assert.equal(first.last_used_at, null);
      assert.ok(!Number.isNaN(Date.parse(first.created_at)));
      assert.equal(second.model, null);
      assert.equal((await api(t, 'get', '/api/webauthn/credentials', await signIn(t, nextUser()))).body.data.length, 0);
      assert.equal((await api(t, 'get', '/api/webauthn/credentials')).status, 401);
    });

    it('renames and deletes only with elevation or a recent second factor', async () => {
      const username = nextUser();
      const { cookie, credential } = await userWithKey(t, username);
      const [key] = await storedKeys(t, username);
      const path = `/api/webauthn/credentials/${key!.id}`;
      assert.equal((await api(t, 'put', path, cookie, { description: 'New' })).status, 403);
      assert.equal((await api(t, 'delete', path, cookie)).status, 403);

      const twoFactor = sessionCookieFrom(await secondFactor(t, cookie, credential))!;
      const renamed = await api(t, 'put', path, twoFactor, { description: 'Renamed' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.data.description, 'Renamed');

      await changeSession(t, twoFactor, (s) => {
        s.data.secondFactorAt = Date.now() - 11 * 60_000;
      });
      assert.equal((await api(t, 'put', path, twoFactor, { description: 'Too late' })).status, 403);
      assert.equal((await api(t, 'delete', path, twoFactor)).status, 403);
      assert.equal((await storedKeys(t, username))[0]?.description, 'Renamed');
    });

    it('renames: 409 for a name in use, 400 for a bad name, 404 for a key that is not theirs', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      await enrol(t, cookie, 'One');
      await enrol(t, cookie, 'Two');
      const [one] = await storedKeys(t, username);
      const { credential: theirs } = await userWithKey(t, nextUser());
      const theirKey = (await t.gatehouse.adapters.storage.findWebAuthnCredentialByKid(theirs.kid))!;
      assert.equal(
        (await api(t, 'put', `/api/webauthn/credentials/${one!.id}`, cookie, { description: 'Two' })).status,
        409,
      );
      assert.equal(
        (await api(t, 'put', `/api/webauthn/credentials/${one!.id}`, cookie, { description: '' })).status,
        400,
      );
      assert.equal(
        (await api(t, 'put', `/api/webauthn/credentials/${one!.id}`, cookie, { description: 'x'.repeat(65) })).status,
        400,
      );
      assert.equal(
        (await api(t, 'put', `/api/webauthn/credentials/${theirKey.id}`, cookie, { description: 'Mine now' })).status,
        404,
      );
      assert.equal((await api(t, 'put', '/api/webauthn/credentials/abc', cookie, { description: 'X' })).status, 404);
      assert.equal(
        (await t.gatehouse.adapters.storage.findWebAuthnCredentialByKid(theirs.kid))?.description,
        'First key',
      );
    });

    it('deletes a key, emails the user, and the key no longer signs in', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      const credential = await enrol(t, cookie, 'Doomed');
      const survivor = await enrol(t, cookie, 'Survivor');
      const [key] = await storedKeys(t, username);
      const res = await api(t, 'delete', `/api/webauthn/credentials/${key!.id}`, cookie);
      assert.equal(res.status, 200);
      assert.deepEqual(
        (await storedKeys(t, username)).map((k) => k.description),
        ['Survivor'],
      );
      const mail = messagesTo(t, username).at(-1)!;
      assert.equal(mail.subject, '[Gatehouse] A security key was removed');
      assert.match(mail.body, /Doomed/);
      assert.equal((await api(t, 'delete', `/api/webauthn/credentials/${key!.id}`, cookie)).status, 404);
      const level1 = await signIn(t, username);
      const options = await authenticationOptions(t, level1);
      assert.deepEqual(
        options.allowCredentials?.map((c) => c.id),
        [survivor.kid],
      );
      const stale = await api(t, 'post', '/api/webauthn/authentication', level1, {
        response: getAssertion(credential, options, { origin: ORIGIN }),
      });
      assert.equal(stale.status, 401);
      assert.equal((await state(t, level1)).authentication_level, 1);
    });

    it("cannot delete another user's key", async () => {
      const { credential: theirs } = await userWithKey(t, nextUser());
      const cookie = await elevatedSession(t, nextUser());
      const theirKey = (await t.gatehouse.adapters.storage.findWebAuthnCredentialByKid(theirs.kid))!;
      assert.equal((await api(t, 'delete', `/api/webauthn/credentials/${theirKey.id}`, cookie)).status, 404);
      assert.ok(await t.gatehouse.adapters.storage.findWebAuthnCredentialByKid(theirs.kid));
    });
  });

  describe('hostile input (SPEC §6: 4xx, never 5xx)', () => {
    const bodies: [string, unknown][] = [
      ['an empty object', {}],
      ['a response that is a string', { description: 'K', response: 'x' }],
      ['a response that is a list', { description: 'K', response: [] }],
      [
        'a response with a numeric id',
        { description: 'K', response: { id: 1, rawId: 1, type: 'public-key', response: {} } },
      ],
      [
        'a response with non-base64url data',
        {
          description: 'K',
          response: {
            id: 'AA',
            rawId: 'AA',
            type: 'public-key',
            response: { clientDataJSON: '{"a":1}', attestationObject: '%%%', authenticatorData: '!!', signature: '??' },
          },
        },
      ],
      [
        'garbage base64url data',
        {
          description: 'K',
          response: {
            id: 'AA',
            rawId: 'AA',
            type: 'public-key',
            response: {
              clientDataJSON: 'AAAA',
              attestationObject: 'AAAA',
              authenticatorData: 'AAAA',
              signature: 'AAAA',
            },
            clientExtensionResults: {},
          },
        },
      ],
      [
        'clientDataJSON that is JSON but not client data',
        {
          description: 'K',
          response: {
            id: 'AA',
            rawId: 'AA',
            type: 'public-key',
            response: {
              clientDataJSON: Buffer.from('[1,2]').toString('base64url'),
              attestationObject: 'oA',
              authenticatorData: 'AA',
              signature: 'AA',
            },
            clientExtensionResults: {},
          },
        },
      ],
      [
        'a huge id',
        {
          description: 'K',
          response: { id: 'A'.repeat(5000), rawId: 'A'.repeat(5000), type: 'public-key', response: {} },
        },
      ],
      ['a JSON list body', [1, 2]],
      ['a JSON string body', 'just a string'],
    ];
    const endpoints = ['/api/webauthn/registration', '/api/webauthn/authentication', '/api/webauthn/passkey'];

    it('answers every malformed body at every finish endpoint with a 4xx KO and changes nothing', async () => {
      const username = nextUser();
      const cookie = await elevatedSession(t, username);
      await enrol(t, cookie, 'Key');
      for (const path of endpoints) {
        for (const [what, body] of bodies) {
          // A live challenge, so the body is what gets judged.
          const options = path.includes('registration')
            ? '/api/webauthn/registration/options'
            : path.includes('passkey')
              ? '/api/webauthn/passkey/options'
              : '/api/webauthn/authentication/options';
          await api(t, 'post', options, cookie);
          const res = await api(t, 'post', path, cookie, typeof body === 'string' ? JSON.stringify(body) : body);
          assert.ok(
            res.status >= 400 && res.status < 500,
            `${path} with ${what}: ${res.status} ${JSON.stringify(res.body)}`,
          );
          assert.equal(res.body.status, 'KO', `${path} with ${what}`);
          assert.equal(sessionCookieFrom(res), undefined, `${path} with ${what}: no new session`);
        }
      }
      const after = await state(t, cookie);
      assert.equal(after.authentication_level, 1);
      assert.equal((await storedKeys(t, username)).length, 1);
    });

    it('refuses a body that is not JSON (415) and one too large (413)', async () => {
      const cookie = await elevatedSession(t, nextUser());
      const form = await request(t.url)
        .post('/api/webauthn/registration')
        .set('Host', 'auth.example.com')
        .set('Origin', ORIGIN)
        .set('Cookie', cookie)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('a=b');
      assert.equal(form.status, 415);
      const huge = await api(t, 'post', '/api/webauthn/registration', cookie, {
        description: 'K',
        response: { id: 'A'.repeat(20_000) },
      });
      assert.equal(huge.status, 413);
    });

    it('refuses a cross-origin request (403)', async () => {
      const cookie = await elevatedSession(t, nextUser());
      const res = await request(t.url)
        .post('/api/webauthn/registration/options')
        .set('Host', 'auth.example.com')
        .set('Origin', 'https://evil.example.net')
        .set('Cookie', cookie)
        .set('Content-Type', 'application/json')
        .send('{}');
      assert.equal(res.status, 403);
    });
  });
});
