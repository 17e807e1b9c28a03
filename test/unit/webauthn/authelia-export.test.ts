// The Authelia WebAuthn export format (issue 4 item 9) and the U2F key conversion, without a database.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stringify } from 'yaml';
import {
  ExportFileError,
  parseAutheliaExport,
  serialiseAutheliaExport,
  type ExportedCredential,
} from '../../../src/webauthn/authelia-export.js';
import { coseToU2fPoint, isU2fPublicKey, u2fPointToCose } from '../../../src/webauthn/u2f-key.js';

function u2fPoint(): Uint8Array {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return new Uint8Array(
    Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]),
  );
}

function credential(overrides: Partial<ExportedCredential> = {}): ExportedCredential {
  return {
    createdAt: new Date('2024-01-02T03:04:05.678Z'),
    lastUsedAt: null,
    rpid: 'auth.example.com',
    username: 'john',
    description: 'Key',
    credentialId: new Uint8Array([1, 2, 3, 250, 251]),
    aaguid: null,
    attestationType: 'none',
    attestationFormat: 'none',
    attachment: '',
    transports: [],
    signCount: 0,
    cloneWarning: false,
    legacy: false,
    discoverable: true,
    present: true,
    verified: true,
    backupEligible: true,
    backupState: false,
    publicKey: u2fPointToCose(u2fPoint()),
    attestation: null,
    ...overrides,
  };
}

const entry = (fields: Record<string, unknown>) => stringify({ webauthn_credentials: [fields] });

describe('U2F public keys', () => {
  it('turn into COSE ES256 keys and back to the same point', () => {
    const point = u2fPoint();
    assert.equal(isU2fPublicKey(point), true);
    assert.deepEqual(coseToU2fPoint(u2fPointToCose(point)), point);
  });

  it('are recognised only as an uncompressed point on P-256', () => {
    const point = u2fPoint();
    const offCurve = point.slice();
    offCurve[64] = offCurve[64]! ^ 1;
    const cases: [string, Uint8Array][] = [
      ['off the curve', offCurve],
      ['compressed', new Uint8Array([2, ...point.subarray(1, 33)])],
      ['too short', point.subarray(0, 64)],
      ['a COSE key', u2fPointToCose(point)],
    ];
    for (const [name, bytes] of cases) assert.equal(isU2fPublicKey(bytes), false, name);
  });
});

describe('the export file', () => {
  it("serialises to what it parses back, with Authelia's encodings", () => {
    const credentials = [
      credential(),
      credential({
        description: 'Second',
        credentialId: new Uint8Array(64).fill(9),
        lastUsedAt: new Date('2025-02-03T04:05:06.007Z'),
        aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
        transports: ['usb', 'nfc'],
        signCount: 4_294_967_295,
        attestation: new Uint8Array([123, 125]),
      }),
    ];
    const text = serialiseAutheliaExport(credentials);
    assert.match(text, /kid: AQID\+vs=$/m, 'standard base64 with padding, not base64url');
    assert.doesNotMatch(text, /last_used_at: null|aaguid: null/, 'unknown values are left out, as Authelia does');
    assert.deepEqual(parseAutheliaExport(text).credentials, credentials);
  });

  it("reads Go's RFC 3339 times with nanoseconds and offsets", () => {
    const base = {
      username: 'john',
      description: 'Key',
      kid: 'AQID',
      public_key: Buffer.from(u2fPointToCose(u2fPoint())).toString('base64'),
    };
    const { credentials } = parseAutheliaExport(
      entry({ ...base, created_at: '2024-05-14T09:12:31.482913765+02:00', last_used_at: '2025-01-20T18:03:07Z' }),
    );
    assert.equal(credentials[0]!.createdAt.toISOString(), '2024-05-14T07:12:31.482Z');
    assert.equal(credentials[0]!.lastUsedAt!.toISOString(), '2025-01-20T18:03:07.000Z');
  });

  it("warns about fields it does not know instead of refusing a newer Authelia's file", () => {
    const base = {
      created_at: '2024-01-01T00:00:00Z',
      username: 'john',
      description: 'Key',
      kid: 'AQID',
      public_key: 'AQID',
      some_new_field: 1,
    };
    assert.deepEqual(parseAutheliaExport(entry(base)).warnings, [
      'webauthn_credentials[].some_new_field: unknown field, ignored',
    ]);
  });

  it('refuses hostile values with the entry and field', () => {
    const base = {
      created_at: '2024-01-01T00:00:00Z',
      username: 'john',
      description: 'Key',
      kid: 'AQID',
      public_key: 'AQID',
    };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a control character in the name', { description: 'Key\u0007' }, /\.description: /],
      ['a newline in the username', { username: 'john\nadmin' }, /\.username: must not contain control characters/],
      ['a comma in a transport (stored comma-separated)', { transports: ['usb,nfc'] }, /\.transports: /],
      [
        'an oversized credential ID',
        { kid: Buffer.alloc(1024).toString('base64') },
        /\.kid: must decode to at most 1023 bytes/,
      ],
      ['a counter beyond 32 bits', { sign_count: 4_294_967_296 }, /\.sign_count: /],
      ['an attachment Authelia never writes', { attachment: 'usb' }, /\.attachment: /],
      ['a boolean as text', { verified: 'true' }, /\.verified: must be true or false/],
    ];
    for (const [name, fields, problem] of cases) {
      assert.throws(
        () => parseAutheliaExport(entry({ ...base, ...fields })),
        (error: unknown) => {
          assert.ok(error instanceof ExportFileError, name);
          assert.match(error.problems.join('\n'), new RegExp(`webauthn_credentials\\[0\\]${problem.source}`), name);
          return true;
        },
      );
    }
  });
});
