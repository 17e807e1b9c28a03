// The one credential record (storage's WebAuthnCredential) and its mappings: to the API's view, to and from the
// verifier's words, and to Authelia's export and back. Each mapping must carry every field the other side has.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { CookieSettings } from '../../../src/config/cookies.js';
import type { WebAuthnCredential } from '../../../src/storage/storage.js';
import { UNKNOWN_AAGUID } from '../../../src/webauthn/aaguids.js';
import { planImport, toExported } from '../../../src/webauthn/authelia-migration.js';
import { credentialView, newCredential, storedKey } from '../../../src/webauthn/credential.js';
import { u2fPointToCose } from '../../../src/webauthn/u2f-key.js';
import type { RegisteredKey } from '../../../src/webauthn/verify.js';

const PORTAL = new URL('https://auth.example.com');
const YUBIKEY_5_NFC = 'fa2b99dc-9e39-4257-8f92-4a30d23c4118';

function u2fPoint(): Uint8Array {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return new Uint8Array(
    Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]),
  );
}

function record(overrides: Partial<WebAuthnCredential> = {}): WebAuthnCredential {
  return {
    id: 7,
    createdAt: new Date('2025-03-04T05:06:07.000Z'),
    lastUsedAt: new Date('2025-04-05T06:07:08.000Z'),
    rpid: PORTAL.hostname,
    username: 'alice',
    description: 'Desk key',
    kid: Buffer.from([1, 2, 3, 250, 251]).toString('base64url'),
    aaguid: YUBIKEY_5_NFC,
    attestationType: 'packed',
    attachment: 'cross-platform',
    transports: ['nfc', 'usb'],
    signCount: 41,
    cloneWarning: true,
    discoverable: true,
    present: true,
    verified: false,
    backupEligible: true,
    backupState: false,
    publicKey: u2fPointToCose(u2fPoint()),
    attestation: new Uint8Array([9, 9, 9]),
    legacyU2fAppid: null,
    ...overrides,
  };
}

const cookie = { portalUrl: PORTAL } as CookieSettings;

describe('the API view of a key', () => {
  it('shows every field of the record under its snake_case name, dates as ISO text, and no key material', () => {
    assert.deepEqual(credentialView(record()), {
      id: 7,
      description: 'Desk key',
      created_at: '2025-03-04T05:06:07.000Z',
      last_used_at: '2025-04-05T06:07:08.000Z',
      aaguid: YUBIKEY_5_NFC,
      model: 'YubiKey 5 Series with NFC',
      attestation_type: 'packed',
      attachment: 'cross-platform',
      transports: ['nfc', 'usb'],
      discoverable: true,
      user_verified: false,
      backup_eligible: true,
      backup_state: false,
      clone_warning: true,
      legacy_u2f: false,
    });
  });

  it('says never used, no model, and legacy U2F where the record says so', () => {
    const view = credentialView(record({ lastUsedAt: null, aaguid: null, legacyU2fAppid: PORTAL.origin }));
    assert.equal(view.last_used_at, null);
    assert.equal(view.model, null);
    assert.equal(view.legacy_u2f, true);
  });
});

describe("the verifier's words for a key", () => {
  it('checks an assertion against the stored ID, public key, counter and AppID', () => {
    const stored = record({ legacyU2fAppid: PORTAL.origin });
    assert.deepEqual(storedKey(stored), {
      id: stored.kid,
      publicKey: stored.publicKey,
      counter: 41,
      legacyU2fAppid: PORTAL.origin,
    });
  });

  it('stores a verified registration with its facts, an unknown AAGUID as none, and no AppID', () => {
    const key: RegisteredKey = {
      credentialId: 'AQID-vs',
      publicKey: new Uint8Array([1]),
      counter: 3,
      aaguid: UNKNOWN_AAGUID,
      format: 'none',
      userVerified: true,
      backupEligible: false,
      backupState: false,
      attestationObject: new Uint8Array([2]),
      transports: ['internal'],
      attachment: 'platform',
      discoverable: true,
    };
    const createdAt = new Date('2025-01-01T00:00:00.000Z');
    assert.deepEqual(
      newCredential(key, { createdAt, rpid: 'auth.example.com', username: 'bob', description: 'Phone' }),
      {
        createdAt,
        rpid: 'auth.example.com',
        username: 'bob',
        description: 'Phone',
        kid: 'AQID-vs',
        aaguid: null,
        attestationType: 'none',
        attachment: 'platform',
        transports: ['internal'],
        signCount: 3,
        discoverable: true,
        present: true,
        verified: true,
        backupEligible: false,
        backupState: false,
        publicKey: key.publicKey,
        attestation: key.attestationObject,
        legacyU2fAppid: null,
      },
    );
  });
});

describe("Authelia's export and back", () => {
  const roundTrip = (stored: WebAuthnCredential) => {
    const plan = planImport([toExported(stored)], [cookie]);
    assert.deepEqual(plan.warnings, []);
    return plan.planned.map((p) => p.credential);
  };

  it('gives back the same record, but its ID, for a WebAuthn key', () => {
    const stored = record();
    const { id: _id, ...rest } = stored;
    assert.deepEqual(roundTrip(stored), [rest]);
  });

  it('gives back the same record for a key enrolled through U2F (raw key and origin in the file)', () => {
    const stored = record({ attestationType: 'fido-u2f', aaguid: null, legacyU2fAppid: PORTAL.origin });
    const exported = toExported(stored);
    assert.equal(exported.rpid, PORTAL.origin);
    assert.equal(exported.publicKey.length, 65, 'the raw P-256 point, as Authelia keeps it');
    const { id: _id, ...rest } = stored;
    assert.deepEqual(roundTrip(stored), [rest]);
  });
});
