// SPEC §6: the WebAuthn API's bodies are checked before any WebAuthn code sees them; hostile shapes are a 400's
// PortalError, never an exception from deeper down. Also the small pure pieces: challenges, AAGUID names.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { PortalError } from '../../../src/web/errors.js';
import {
  readCredentialId,
  readDescription,
  readRegistrationBody,
  readRegistrationResponse,
  readSignInBody,
} from '../../../src/webauthn/input.js';
import { putChallenge, takeChallenge } from '../../../src/webauthn/challenges.js';
import { authenticatorModel } from '../../../src/webauthn/aaguids.js';
import type { Session } from '../../../src/session/model.js';
import { testSessionData } from '../../helpers/session-cookie.js';

const registration = () => ({
  id: 'AAEC',
  rawId: 'AAEC',
  type: 'public-key',
  response: { clientDataJSON: 'eyJ9', attestationObject: 'o2Nm', transports: ['usb'] },
  clientExtensionResults: {},
});
const assertion = () => ({
  id: 'AAEC',
  rawId: 'AAEC',
  type: 'public-key',
  response: { clientDataJSON: 'eyJ9', authenticatorData: 'AAAA', signature: 'MEUC', userHandle: 'dXNlcg' },
  clientExtensionResults: {},
});

type Mutate = (r: Record<string, any>) => unknown;

describe('reading a registration response', () => {
  const bad: [string, Mutate][] = [
    ['a string', () => 'response'],
    ['an array', () => []],
    ['null', () => null],
    ['no id', (r) => ({ ...r, id: undefined })],
    ['an id that is not base64url', (r) => ({ ...r, id: 'a+b/c', rawId: 'a+b/c' })],
    ['an id longer than WebAuthn allows', (r) => ({ ...r, id: 'A'.repeat(1400), rawId: 'A'.repeat(1400) })],
    ['id and rawId that differ', (r) => ({ ...r, rawId: 'AAED' })],
    ['another type', (r) => ({ ...r, type: 'password' })],
    ['no inner response', (r) => ({ ...r, response: undefined })],
    ['an inner response that is a string', (r) => ({ ...r, response: 'x' })],
    ['a numeric clientDataJSON', (r) => ({ ...r, response: { ...r.response, clientDataJSON: 12 } })],
    ['an empty clientDataJSON', (r) => ({ ...r, response: { ...r.response, clientDataJSON: '' } })],
    ['a huge clientDataJSON', (r) => ({ ...r, response: { ...r.response, clientDataJSON: 'A'.repeat(9000) } })],
    ['an attestationObject object', (r) => ({ ...r, response: { ...r.response, attestationObject: { a: 1 } } })],
    ['transports that are not a list', (r) => ({ ...r, response: { ...r.response, transports: 'usb' } })],
    ['transports with a number', (r) => ({ ...r, response: { ...r.response, transports: ['usb', 3] } })],
    ['too many transports', (r) => ({ ...r, response: { ...r.response, transports: Array(9).fill('usb') } })],
    ['a non-boolean credProps.rk', (r) => ({ ...r, clientExtensionResults: { credProps: { rk: 'yes' } } })],
    ['clientExtensionResults that are a list', (r) => ({ ...r, clientExtensionResults: [] })],
    ['a numeric authenticatorAttachment', (r) => ({ ...r, authenticatorAttachment: 1 })],
  ];
  for (const [what, mutate] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => readRegistrationResponse(mutate(registration())), PortalError);
    });
  }

  it('keeps only the known transports and extension outputs, and nothing else', () => {
    const read = readRegistrationResponse({
      ...registration(),
      extra: 'dropped',
      authenticatorAttachment: 'cross-platform',
      response: { ...registration().response, transports: ['usb', 'future-thing', 'usb', 'nfc'], publicKey: 'dropped' },
      clientExtensionResults: { credProps: { rk: true }, prf: { enabled: true } },
    });
    assert.deepEqual(read, {
      id: 'AAEC',
      rawId: 'AAEC',
      type: 'public-key',
      response: { clientDataJSON: 'eyJ9', attestationObject: 'o2Nm', transports: ['usb', 'nfc'] },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: { credProps: { rk: true } },
    });
  });
});

describe('reading a sign-in body', () => {
  const bad: [string, unknown][] = [
    ['a body that is a list', []],
    ['no response', {}],
    [
      'a signature that is not base64url',
      { response: { ...assertion(), response: { ...assertion().response, signature: 'ab$' } } },
    ],
    [
      'a user handle longer than 64 bytes',
      { response: { ...assertion(), response: { ...assertion().response, userHandle: 'A'.repeat(100) } } },
    ],
    ['a non-boolean appid output', { response: { ...assertion(), clientExtensionResults: { appid: 'true' } } }],
    ['a numeric targetURL', { response: assertion(), targetURL: 5 }],
    ['a huge targetURL', { response: assertion(), targetURL: `https://a.example.com/${'a'.repeat(5000)}` }],
    ['a string keepMeLoggedIn', { response: assertion(), keepMeLoggedIn: 'yes' }],
  ];
  for (const [what, body] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => readSignInBody(body), PortalError);
    });
  }

  it('reads a well-formed body', () => {
    const read = readSignInBody({ response: assertion(), targetURL: 'https://app.example.com/', keepMeLoggedIn: true });
    assert.equal(read.response.response.userHandle, 'dXNlcg');
    assert.equal(read.targetURL, 'https://app.example.com/');
    assert.equal(read.keepMeLoggedIn, true);
  });

  it('treats an empty user handle as none', () => {
    const read = readSignInBody({
      response: { ...assertion(), response: { ...assertion().response, userHandle: '' } },
    });
    assert.equal(read.response.response.userHandle, undefined);
  });
});

describe('a key name', () => {
  const cases: [unknown, string | undefined][] = [
    ['YubiKey', 'YubiKey'],
    ['  Blue key  ', 'Blue key'],
    ['Cle\u0301', 'Clé'],
    ['🔑'.repeat(64), '🔑'.repeat(64)],
    ['k'.repeat(64), 'k'.repeat(64)],
    ['k'.repeat(65), undefined],
    ['', undefined],
    ['   ', undefined],
    ['line\nbreak', undefined],
    ['tab\there', undefined],
    ['nul\u0000', undefined],
    ['evil\u202Egnp.exe', undefined],
    [42, undefined],
    [null, undefined],
  ];
  for (const [input, output] of cases) {
    it(`${JSON.stringify(input)} is ${output === undefined ? 'refused' : `read as ${JSON.stringify(output)}`}`, () => {
      if (output === undefined) assert.throws(() => readDescription(input), PortalError);
      else assert.equal(readDescription(input), output);
    });
  }

  it('is required in a registration body', () => {
    assert.throws(() => readRegistrationBody({ response: registration() }), PortalError);
  });
});

describe('a credential ID in the path', () => {
  const cases: [unknown, number | undefined][] = [
    ['1', 1],
    ['42', 42],
    ['0', undefined],
    ['-1', undefined],
    ['1e3', undefined],
    ['01', undefined],
    ['9'.repeat(16), undefined],
    [undefined, undefined],
  ];
  for (const [input, output] of cases) {
    it(`${JSON.stringify(input)} → ${output}`, () => assert.equal(readCredentialId(input), output));
  }
});

describe('ceremony challenges in the session', () => {
  const session = (): Session => ({
    id: 'x',
    data: testSessionData(),
  });

  it('gives a challenge once', () => {
    const s = session();
    putChallenge(s, 'authentication', 'c1', 2_000, 1_000);
    assert.equal(takeChallenge(s, 'authentication', 1_500), 'c1');
    assert.equal(takeChallenge(s, 'authentication', 1_500), undefined);
    assert.equal(s.data.pending, undefined);
  });

  it('gives nothing once expired, and removes it', () => {
    const s = session();
    putChallenge(s, 'registration', 'c1', 2_000, 1_000);
    assert.equal(takeChallenge(s, 'registration', 2_000), undefined);
    assert.equal(s.data.pending, undefined);
  });

  it('keeps each ceremony apart, and a new challenge replaces the old one', () => {
    const s = session();
    putChallenge(s, 'registration', 'r1', 9_000, 1_000);
    putChallenge(s, 'authentication', 'a1', 9_000, 1_000);
    putChallenge(s, 'authentication', 'a2', 9_000, 1_000);
    assert.equal(takeChallenge(s, 'passkey', 1_000), undefined);
    assert.equal(takeChallenge(s, 'authentication', 1_000), 'a2');
    assert.equal(takeChallenge(s, 'registration', 1_000), 'r1');
  });
});

describe('authenticator models by AAGUID', () => {
  it('names well-known models, in any case, and nothing else', () => {
    assert.equal(authenticatorModel('cb69481e-8ff7-4039-93ec-0a2729a154a8'), 'YubiKey 5 Series');
    assert.equal(authenticatorModel('FBFC3007-154E-4ECC-8C0B-6E020557D7BD'), 'iCloud Keychain');
    assert.equal(authenticatorModel('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(authenticatorModel(null), undefined);
  });
});
