// SPEC §6 black-box: the recorded authenticator responses of test/fixtures/webauthn-vectors posted to a running
// Gatehouse's finish endpoints. They were made for other relying parties and challenges, so each must be refused
// with a 4xx (never a 5xx), store no key and raise no level, on both storage/session back ends, including when the
// response names a credential Gatehouse knows (so the verification itself runs and refuses).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type StartOptions, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { loadVectors } from '../../unit/webauthn/recorded-vectors.js';
import type { SoftCredential } from '../../helpers/soft-authenticator.js';
import { api, elevatedSession, enrol, RP_ID, secondFactor, state, storedKeys, testUsers } from './support.js';

const backends: Array<{ name: string; options: StartOptions }> = [
  { name: 'Redis + PostgreSQL', options: { sessions: 'redis', storage: 'postgres' } },
  { name: 'memory + embedded', options: { sessions: 'memory', storage: 'embedded' } },
];

const vectors = loadVectors();

/** The reply must refuse without side effects on the session: a 4xx KO and no new cookie. */
function assertRefused(
  res: { status: number; body: { status?: string }; headers: Record<string, unknown> },
  what: string,
): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.status, 'KO', what);
  assert.equal(sessionCookieFrom(res), undefined, `${what}: no session issued`);
}

for (const backend of backends) {
  describe(`recorded vectors against the running service (${backend.name})`, () => {
    let t: TestGatehouse;
    let elevated: string;
    let realKey: SoftCredential;
    const username = 'user01';

    beforeAll(async () => {
      t = await startGatehouse({
        ...backend.options,
        users: testUsers(2),
        config: { webauthn: { enable_passkey_login: true } },
      });
      elevated = await elevatedSession(t, username);
      realKey = await enrol(t, elevated, 'Real key');
    });
    afterAll(async () => t.close());

    for (const vector of vectors.filter((v) => v.kind === 'registration')) {
      it(`${vector.id}: registration refused, no key stored`, async () => {
        await api(t, 'post', '/api/webauthn/registration/options', elevated);
        const res = await api(t, 'post', '/api/webauthn/registration', elevated, {
          description: vector.id,
          response: vector.response,
        });
        assertRefused(res, vector.id);
        assert.equal(
          await t.gatehouse.adapters.storage.findWebAuthnCredentialByKid((vector.response as { id: string }).id),
          undefined,
        );
        assert.deepEqual(
          (await storedKeys(t, username)).map((k) => k.description),
          ['Real key'],
        );
      });
    }

    for (const vector of vectors.filter((v) => v.kind === 'authentication')) {
      const response = vector.response as { id: string };

      it(`${vector.id}: second factor refused, level stays 1`, async () => {
        const cookie = await signIn(t, username);
        await api(t, 'post', '/api/webauthn/authentication/options', cookie);
        assertRefused(await api(t, 'post', '/api/webauthn/authentication', cookie, { response }), vector.id);
        assert.equal((await state(t, cookie)).authentication_level, 1);
      });

      it(`${vector.id}: refused even when its credential is one of the user's keys`, async () => {
        const storage = t.gatehouse.adapters.storage;
        const stored = vector.storedCredential!;
        if ((await storage.findWebAuthnCredentialByKid(stored.id)) === undefined) {
          const saved = await storage.saveWebAuthnCredential({
            createdAt: new Date(),
            rpid: RP_ID,
            username,
            description: vector.id,
            kid: stored.id,
            aaguid: null,
            attestationType: 'none',
            attachment: '',
            transports: [],
            signCount: stored.counter,
            discoverable: true,
            present: true,
            verified: true,
            backupEligible: false,
            backupState: false,
            publicKey: Buffer.from(stored.publicKey, 'base64url'),
            attestation: null,
            legacyU2fAppid: null,
          });
          assert.ok(saved.saved);
        }
        const cookie = await signIn(t, username);
        await api(t, 'post', '/api/webauthn/authentication/options', cookie);
        assertRefused(await api(t, 'post', '/api/webauthn/authentication', cookie, { response }), vector.id);
        assert.equal((await state(t, cookie)).authentication_level, 1);

        const anonymous = await api(t, 'post', '/api/webauthn/passkey/options');
        const visitor = sessionCookieFrom(anonymous)!;
        assertRefused(
          await api(t, 'post', '/api/webauthn/passkey', visitor, { response }),
          `${vector.id} as a passkey`,
        );
        assert.equal((await state(t, visitor)).authentication_level, 0);
      });

      it(`${vector.id}: passkey sign-in refused, no level`, async () => {
        const anonymous = await api(t, 'post', '/api/webauthn/passkey/options');
        const visitor = sessionCookieFrom(anonymous)!;
        assertRefused(await api(t, 'post', '/api/webauthn/passkey', visitor, { response }), vector.id);
        assert.equal((await state(t, visitor)).authentication_level, 0);
      });
    }

    it('still has the real key, which still passes the second factor', async () => {
      assert.equal((await storedKeys(t, username)).filter((k) => k.description === 'Real key').length, 1);
      const res = await secondFactor(t, await signIn(t, username), realKey);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  });
}
