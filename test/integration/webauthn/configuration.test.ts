// SPEC §3 `webauthn`, §5, §6: what the configuration changes, on the embedded back end (in-memory sessions,
// embedded storage): RP name, attestation, user verification (required), timeout, AAGUID filtering, passkeys
// counting as two factors, passkey login off, and WebAuthn off altogether.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn, authRequest } from '../../helpers/flows.js';
import {
  api,
  authenticationOptions,
  elevatedSession,
  enrol,
  passkeySignIn,
  register,
  registrationOptions,
  secondFactor,
  state,
  storedKeys,
  storedSession,
  testUsers,
  userPool,
  userWithKey,
} from './support.js';

const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const TITAN = '42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3';

/** `webauthn.filtering` (SPEC §3): each AAGUID registers (201) or is refused (403, nothing stored). */
function filteringCases(
  gatehouse: () => TestGatehouse,
  nextUser: () => string,
  cases: [string, string | undefined, number][],
): void {
  for (const [what, aaguid, status] of cases) {
    it(`filters AAGUIDs: ${what} is ${status}`, async () => {
      const t = gatehouse();
      const username = nextUser();
      const { res } = await register(t, await elevatedSession(t, username), 'Filtered', { aaguid });
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal((await storedKeys(t, username)).length, status === 201 ? 1 : 0);
    });
  }
}

describe('webauthn configuration: strict deployment (memory + embedded)', () => {
  let t: TestGatehouse;
  const nextUser = userPool();
  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'memory',
      storage: 'embedded',
      users: testUsers(),
      config: {
        webauthn: {
          display_name: 'Example SSO',
          attestation_conveyance_preference: 'direct',
          user_verification: 'required',
          timeout: '30s',
          enable_passkey_login: true,
          experimental_enable_passkey_uv_two_factors: true,
          filtering: { permitted_aaguids: [YUBIKEY_5.toUpperCase()] },
        },
      },
    });
  });
  afterAll(async () => t.close());

  it('puts the configured RP name, attestation, user verification and timeout in the options', async () => {
    const username = nextUser();
    const cookie = await elevatedSession(t, username);
    const creation = await registrationOptions(t, cookie);
    assert.equal(creation.rp.name, 'Example SSO');
    assert.equal(creation.attestation, 'direct');
    assert.equal(creation.authenticatorSelection?.userVerification, 'required');
    assert.equal(creation.timeout, 30_000);
    await enrol(t, cookie, 'Key', { aaguid: YUBIKEY_5 });
    const request = await authenticationOptions(t, cookie);
    assert.equal(request.userVerification, 'required');
    assert.equal(request.timeout, 30_000);
  });

  filteringCases(() => t, nextUser, [
    ['a permitted AAGUID (listed in upper case)', YUBIKEY_5, 201],
    ['an AAGUID outside the permitted list', TITAN, 403],
    ['the all-zero AAGUID', undefined, 403],
  ]);

  it('refuses a registration without user verification when it is required', async () => {
    const username = nextUser();
    const { res } = await register(t, await elevatedSession(t, username), 'No UV', {
      aaguid: YUBIKEY_5,
      flags: { uv: false },
    });
    assert.equal(res.status, 400);
    assert.equal((await storedKeys(t, username)).length, 0);
  });

  it('refuses a second factor without user verification when it is required, and accepts it with', async () => {
    const { cookie, credential } = await userWithKey(t, nextUser(), { aaguid: YUBIKEY_5 });
    const without = await secondFactor(t, cookie, credential, { flags: { uv: false } });
    assert.equal(without.status, 401);
    assert.equal((await state(t, cookie)).authentication_level, 1);
    const withUv = await secondFactor(t, cookie, credential);
    assert.equal(withUv.status, 200);
    assert.equal((await state(t, sessionCookieFrom(withUv)!)).authentication_level, 2);
  });

  it('counts a passkey that verified the user as two factors (experimental switch), under a new session ID', async () => {
    const username = nextUser();
    const credential = await enrol(t, await elevatedSession(t, username), 'Passkey', {
      aaguid: YUBIKEY_5,
      discoverable: true,
    });
    const { res, cookie } = await passkeySignIn(t, credential, {}, { targetURL: 'https://secure.example.com/' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, { redirect: 'https://secure.example.com/' });
    const next = sessionCookieFrom(res)!;
    assert.notEqual(next, cookie);
    assert.equal((await state(t, next)).authentication_level, 2);
    assert.ok((await storedSession(t, next))?.data.secondFactorAt);
    assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie: next })).status, 200);
  });

  it('refuses a passkey without user verification when it is required', async () => {
    const username = nextUser();
    const credential = await enrol(t, await elevatedSession(t, username), 'Passkey', {
      aaguid: YUBIKEY_5,
      discoverable: true,
    });
    const { res, cookie } = await passkeySignIn(t, credential, { flags: { uv: false } });
    assert.equal(res.status, 401);
    assert.equal((await state(t, cookie)).authentication_level, 0);
  });
});

describe('webauthn configuration: passkeys off, prohibited AAGUIDs (memory + embedded)', () => {
  let t: TestGatehouse;
  const nextUser = userPool();
  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'memory',
      storage: 'embedded',
      users: testUsers(),
      config: {
        webauthn: {
          attestation_conveyance_preference: 'none',
          user_verification: 'discouraged',
          filtering: { prohibited_aaguids: [TITAN] },
        },
      },
    });
    for (let i = 0; i < 2; i += 1) nextUser(); // user01 and user02 are taken by name below
  });
  afterAll(async () => t.close());

  filteringCases(() => t, nextUser, [
    ['a prohibited AAGUID', TITAN, 403],
    ['another AAGUID', YUBIKEY_5, 201],
    ['the all-zero AAGUID', undefined, 201],
  ]);

  it('has no passkey rows (404) while the other rows work', async () => {
    assert.equal((await api(t, 'post', '/api/webauthn/passkey/options')).status, 404);
    assert.equal((await api(t, 'post', '/api/webauthn/passkey', undefined, { response: {} })).status, 404);
    const cookie = await elevatedSession(t, 'user01');
    const creation = await registrationOptions(t, cookie);
    assert.equal(creation.attestation, 'none');
    assert.equal(creation.authenticatorSelection?.userVerification, 'discouraged');
  });

  it('enrols and passes the second factor without user verification when it is discouraged', async () => {
    const { cookie, credential } = await userWithKey(t, 'user02', { flags: { uv: false } });
    const res = await secondFactor(t, cookie, credential, { flags: { uv: false } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await state(t, sessionCookieFrom(res)!)).authentication_level, 2);
  });
});

describe('webauthn configuration: disabled (memory + embedded)', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'memory',
      storage: 'embedded',
      users: testUsers(2),
      config: { webauthn: { disable: true, enable_passkey_login: true } },
    });
  });
  afterAll(async () => t.close());

  const rows: ['get' | 'post' | 'put' | 'delete', string][] = [
    ['post', '/api/webauthn/registration/options'],
    ['post', '/api/webauthn/registration'],
    ['post', '/api/webauthn/authentication/options'],
    ['post', '/api/webauthn/authentication'],
    ['post', '/api/webauthn/passkey/options'],
    ['post', '/api/webauthn/passkey'],
    ['get', '/api/webauthn/credentials'],
    ['put', '/api/webauthn/credentials/1'],
    ['delete', '/api/webauthn/credentials/1'],
  ];
  for (const [method, path] of rows) {
    it(`${method.toUpperCase()} ${path} is 404 KO`, async () => {
      const cookie = await signIn(t, 'user01');
      const res = await api(t, method, path, cookie, method === 'put' ? { description: 'x' } : undefined);
      assert.equal(res.status, 404);
      assert.equal(res.body.status, 'KO');
    });
  }
});
