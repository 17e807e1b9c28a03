// SPEC §6: Gatehouse's WebAuthn verification with the software authenticator: each attestation format and
// algorithm is accepted when everything matches, and each thing a relying party checks is refused when it does not.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import {
  counterAdvanced,
  verifyAssertion,
  verifyRegistration,
  type Expected,
  type StoredKey,
} from '../../../src/webauthn/verify.js';
import {
  createCredential,
  getAssertion,
  legacyU2fCredential,
  type Algorithm,
  type AttestationFormat,
  type CreateOptions,
  type GetOptions,
  type SoftCredential,
} from '../../helpers/soft-authenticator.js';

const RP_ID = 'auth.example.com';
const ORIGIN = 'https://auth.example.com';
const CHALLENGE = Buffer.from('a challenge of thirty-two bytes!').toString('base64url');

const creationOptions: PublicKeyCredentialCreationOptionsJSON = {
  challenge: CHALLENGE,
  rp: { id: RP_ID, name: 'Gatehouse' },
  user: { id: Buffer.from('user-handle-0123456789').toString('base64url'), name: 'john', displayName: 'John Doe' },
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
};
const requestOptions: PublicKeyCredentialRequestOptionsJSON = { challenge: CHALLENGE, rpId: RP_ID };
const expected: Expected = { challenge: CHALLENGE, origin: ORIGIN, rpId: RP_ID, requireUserVerification: false };

function stored(credential: SoftCredential, counter = 0, legacyU2fAppid: string | null = null): StoredKey {
  return { id: credential.kid, publicKey: credential.cosePublicKey, counter, legacyU2fAppid };
}

function enrolled(options: CreateOptions = {}): SoftCredential {
  return createCredential(creationOptions, options).credential;
}

describe('registration verification (SPEC §6)', () => {
  const accepted: [AttestationFormat, Algorithm][] = [
    ['none', 'ES256'],
    ['none', 'EdDSA'],
    ['none', 'RS256'],
    ['packed', 'ES256'],
    ['packed', 'EdDSA'],
    ['packed', 'RS256'],
    ['fido-u2f', 'ES256'],
  ];
  for (const [format, algorithm] of accepted) {
    it(`accepts ${format} attestation with ${algorithm} and extracts the key's facts`, async () => {
      const aaguid = format === 'fido-u2f' ? undefined : 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
      const { credential, response } = createCredential(creationOptions, {
        format,
        algorithm,
        aaguid,
        discoverable: true,
        transports: ['usb', 'nfc'],
        flags: { be: true, bs: true },
      });
      const verdict = await verifyRegistration(response, expected);
      assert.ok(verdict.verified, verdict.verified ? '' : verdict.reason);
      assert.equal(verdict.value.credentialId, credential.kid);
      assert.equal(verdict.value.format, format);
      assert.equal(verdict.value.aaguid, aaguid ?? '00000000-0000-0000-0000-000000000000');
      assert.deepEqual(Buffer.from(verdict.value.publicKey), credential.cosePublicKey);
      assert.deepEqual(verdict.value.transports, ['usb', 'nfc']);
      assert.equal(verdict.value.discoverable, true);
      assert.equal(verdict.value.backupEligible, true);
      assert.equal(verdict.value.backupState, true);
      assert.equal(verdict.value.userVerified, true);
    });
  }

  const refused: [string, CreateOptions, Partial<Expected>?][] = [
    ['a wrong origin', { origin: 'https://evil.example.net' }],
    ['the origin of another portal', { origin: 'https://login.example.org' }],
    ['a wrong RP ID', { rpId: 'evil.example.net' }],
    ['the parent domain as RP ID', { rpId: 'example.com' }],
    ['another challenge', { challenge: Buffer.from('another').toString('base64url') }],
    ['no user presence', { flags: { up: false } }],
    ['no user verification when it is required', { flags: { uv: false } }, { requireUserVerification: true }],
  ];
  for (const [what, options, expectation] of refused) {
    it(`refuses ${what}`, async () => {
      const { response } = createCredential(creationOptions, { format: 'packed', ...options });
      const verdict = await verifyRegistration(response, { ...expected, ...expectation });
      assert.equal(verdict.verified, false);
    });
  }

  it('refuses a response whose id is not the credential it carries', async () => {
    const { response } = createCredential(creationOptions);
    const other = enrolled();
    const verdict = await verifyRegistration({ ...response, id: other.kid, rawId: other.kid }, expected);
    assert.equal(verdict.verified, false);
  });

  it('reads an absent credProps as "not discoverable"', async () => {
    const { response } = createCredential(creationOptions);
    const verdict = await verifyRegistration(response, expected);
    assert.ok(verdict.verified);
    assert.equal(verdict.value.discoverable, false);
  });
});

describe('assertion verification (SPEC §6)', () => {
  for (const algorithm of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`accepts an ${algorithm} assertion and reports the new counter`, async () => {
      const credential = enrolled({ algorithm });
      const verdict = await verifyAssertion(
        getAssertion(credential, requestOptions, { counter: 7 }),
        expected,
        stored(credential, 6),
      );
      assert.ok(verdict.verified, verdict.verified ? '' : verdict.reason);
      assert.equal(verdict.value.newCounter, 7);
      assert.equal(verdict.value.userVerified, true);
    });
  }

  const refused: [string, GetOptions, Partial<Expected>?][] = [
    ['a wrong origin', { origin: 'https://evil.example.net' }],
    ['a wrong RP ID', { rpId: 'evil.example.net' }],
    ['another challenge', { challenge: Buffer.from('another').toString('base64url') }],
    ['no user presence', { flags: { up: false } }],
    ['no user verification when it is required', { flags: { uv: false } }, { requireUserVerification: true }],
    ['an AppID claim for a key not registered through U2F', { useAppid: true, rpId: ORIGIN }],
  ];
  for (const [what, options, expectation] of refused) {
    it(`refuses ${what}`, async () => {
      const credential = enrolled();
      const verdict = await verifyAssertion(
        getAssertion(credential, requestOptions, options),
        { ...expected, ...expectation },
        stored(credential),
      );
      assert.equal(verdict.verified, false);
      assert.notEqual(verdict.verified === false && verdict.cloned, true);
    });
  }

  it('refuses a signature made by another key', async () => {
    const [credential, other] = [enrolled(), enrolled()];
    const verdict = await verifyAssertion(
      getAssertion(other, requestOptions, { id: credential.kid }),
      expected,
      stored(credential),
    );
    assert.equal(verdict.verified, false);
  });

  it('refuses a response naming another credential than the stored one', async () => {
    const [credential, other] = [enrolled(), enrolled()];
    const verdict = await verifyAssertion(getAssertion(credential, requestOptions), expected, stored(other));
    assert.equal(verdict.verified, false);
  });

  it('marks a counter that went back as a possible clone only when the signature is good', async () => {
    const credential = enrolled();
    const good = await verifyAssertion(
      getAssertion(credential, requestOptions, { counter: 4 }),
      expected,
      stored(credential, 5),
    );
    assert.ok(!good.verified && good.cloned === true);
    const forged = getAssertion(enrolled(), requestOptions, { counter: 4, id: credential.kid });
    const bad = await verifyAssertion(forged, expected, stored(credential, 5));
    assert.ok(!bad.verified && bad.cloned === undefined);
  });

  it('accepts a key enrolled through U2F signing over the AppID hash, and only with the AppID it was registered under', async () => {
    const credential = legacyU2fCredential(ORIGIN, RP_ID);
    const response = getAssertion(credential, requestOptions);
    assert.deepEqual(response.clientExtensionResults, { appid: true });
    const verdict = await verifyAssertion(response, expected, stored(credential, 0, ORIGIN));
    assert.ok(verdict.verified, verdict.verified ? '' : verdict.reason);
    assert.equal(
      (
        await verifyAssertion(
          getAssertion(credential, requestOptions),
          expected,
          stored(credential, 0, 'https://other.example.com'),
        )
      ).verified,
      false,
    );
    // Signed over the AppID but without saying so: the RP ID hash does not match.
    assert.equal(
      (
        await verifyAssertion(
          getAssertion(credential, requestOptions, { useAppid: false, rpId: ORIGIN }),
          expected,
          stored(credential, 0, ORIGIN),
        )
      ).verified,
      false,
    );
  });
});

describe('the sign counter rule (SPEC §6)', () => {
  const cases: [stored: number, received: number, advanced: boolean][] = [
    [0, 0, true],
    [0, 1, true],
    [5, 6, true],
    [5, 1000, true],
    [5, 5, false],
    [5, 4, false],
    [5, 0, false],
    [1, 0, false],
  ];
  for (const [before, received, advanced] of cases) {
    it(`stored ${before}, received ${received}: ${advanced ? 'accepted' : 'refused'}`, () => {
      assert.equal(counterAdvanced(before, received), advanced);
    });
  }
});
