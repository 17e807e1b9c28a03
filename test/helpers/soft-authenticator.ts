// A software WebAuthn authenticator for the tests, on node:crypto only: it makes credentials (ES256, EdDSA, RS256)
// and answers `navigator.credentials.create/get` options the way a browser plus a security key would, as
// RegistrationResponseJSON / AuthenticationResponseJSON, with attestation `none`, `packed` (self) or `fido-u2f`.
// Every part a relying party checks can be bent (origin, RP ID, challenge, flags, counter, AppID), so the tests can
// show each check refuses.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { packageRoot } from '../../src/paths.js';

export type Algorithm = 'ES256' | 'EdDSA' | 'RS256';
export type AttestationFormat = 'none' | 'packed' | 'fido-u2f';

export interface SoftCredential {
  id: Buffer;
  /** base64url of `id`, as the API names the credential. */
  kid: string;
  algorithm: Algorithm;
  privateKey: KeyObject;
  /** COSE_Key, as a relying party stores it. */
  cosePublicKey: Buffer;
  /** The last counter value signed. */
  counter: number;
  /** The RP ID the credential is scoped to. */
  rpId: string;
  /** The user handle (options.user.id) a discoverable credential returns. */
  userHandle: Buffer | undefined;
  /** Set for a key enrolled through FIDO U2F: it signs over SHA-256(AppID) and says so (appid extension). */
  appid?: string;
}

export interface Flags {
  up?: boolean;
  uv?: boolean;
  /** Backup eligible / backed up (synced passkeys). */
  be?: boolean;
  bs?: boolean;
}

export interface CreateOptions {
  format?: AttestationFormat;
  algorithm?: Algorithm;
  /** Defaults to the all-zero AAGUID (fido-u2f always uses it). */
  aaguid?: string;
  flags?: Flags;
  counter?: number;
  /** The credProps extension output; undefined leaves it out. */
  discoverable?: boolean;
  transports?: string[];
  /** What the browser puts in clientDataJSON / what the authenticator hashes: override to forge. */
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** Reuse an existing credential's ID and key (a browser that ignores excludeCredentials). */
  existing?: SoftCredential;
}

export interface GetOptions {
  flags?: Flags;
  /** The counter to sign; defaults to the credential's last one plus one. */
  counter?: number;
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** Sign over SHA-256(AppID) and report `appid: true` (defaults to true for U2F-enrolled keys). */
  useAppid?: boolean;
  /** Return the user handle (discoverable credentials do); defaults to whether the credential has one. */
  userHandle?: boolean | Buffer;
  /** Answer with another credential's ID (the signature stays this one's). */
  id?: string;
}

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
const FLAG = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 } as const;

// --- CBOR: just what authenticator data and attestation objects need ---------------------------------------------

export type Cbor = number | string | Uint8Array | boolean | Cbor[] | Map<number | string, Cbor>;

function cborHead(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'boolean') return Buffer.from([value ? 0xf5 : 0xf4]);
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cbor)]);
  const parts: Buffer[] = [cborHead(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return Buffer.concat(parts);
}

// --- Keys -----------------------------------------------------------------------------------------------------------

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new Error('key export lacks a coordinate');
  return Buffer.from(value, 'base64url');
}

const KEY_MAKERS: Record<Algorithm, () => { privateKey: KeyObject; cose: Buffer }> = {
  ES256: () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    return {
      privateKey,
      cose: cbor(
        new Map<number, Cbor>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, jwkBytes(jwk.x)],
          [-3, jwkBytes(jwk.y)],
        ]),
      ),
    };
  },
  EdDSA: () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    return {
      privateKey,
      cose: cbor(
        new Map<number, Cbor>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, jwkBytes(jwk.x)],
        ]),
      ),
    };
  },
  RS256: () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    return {
      privateKey,
      cose: cbor(
        new Map<number, Cbor>([
          [1, 3],
          [3, -257],
          [-1, jwkBytes(jwk.n)],
          [-2, jwkBytes(jwk.e)],
        ]),
      ),
    };
  },
};

const COSE_ALG: Record<Algorithm, number> = { ES256: -7, EdDSA: -8, RS256: -257 };

function signWith(algorithm: Algorithm, key: KeyObject, data: Uint8Array): Buffer {
  // ES256: DER-encoded ECDSA, as WebAuthn wants; EdDSA signs the message itself.
  return sign(algorithm === 'EdDSA' ? null : 'sha256', data, key);
}

/** The test-only U2F attestation key and self-signed certificate (made once with openssl, see the fixture README). */
const u2fAttestation = (() => {
  let loaded: { key: KeyObject; certificate: Buffer } | undefined;
  return () => {
    const dir = join(packageRoot, 'test', 'fixtures', 'webauthn');
    loaded ??= {
      key: createPrivateKey(readFileSync(join(dir, 'u2f-attestation-key.pem'))),
      certificate: new X509Certificate(readFileSync(join(dir, 'u2f-attestation-cert.pem'))).raw,
    };
    return loaded;
  };
})();

// --- Authenticator data and client data --------------------------------------------------------------------------

function flagsByte(flags: Flags, extra = 0): number {
  let byte = extra;
  if (flags.up ?? true) byte |= FLAG.up;
  if (flags.uv ?? true) byte |= FLAG.uv;
  if (flags.be) byte |= FLAG.be;
  if (flags.bs) byte |= FLAG.bs;
  return byte;
}

function authenticatorData(rpIdHash: Buffer, flags: number, counter: number, attested?: Buffer): Buffer {
  const head = Buffer.alloc(37);
  rpIdHash.copy(head, 0);
  head[32] = flags;
  head.writeUInt32BE(counter, 33);
  return attested ? Buffer.concat([head, attested]) : head;
}

function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
}

/** The 65-byte uncompressed P-256 point FIDO U2F signs over. */
function u2fPublicKey(credential: SoftCredential): Buffer {
  const jwk = credential.privateKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([0x04]), jwkBytes(jwk.x), jwkBytes(jwk.y)]);
}

function attestationStatement(
  format: AttestationFormat,
  credential: SoftCredential,
  authData: Buffer,
  clientDataHash: Buffer,
  rpIdHash: Buffer,
): Map<string, Cbor> {
  if (format === 'none') return new Map();
  if (format === 'packed') {
    // Self attestation: the credential's own key signs, no certificate.
    const sig = signWith(credential.algorithm, credential.privateKey, Buffer.concat([authData, clientDataHash]));
    return new Map<string, Cbor>([
      ['alg', COSE_ALG[credential.algorithm]],
      ['sig', sig],
    ]);
  }
  const { key, certificate } = u2fAttestation();
  const signed = Buffer.concat([
    Buffer.from([0x00]),
    rpIdHash,
    clientDataHash,
    credential.id,
    u2fPublicKey(credential),
  ]);
  return new Map<string, Cbor>([
    ['sig', sign('sha256', signed, key)],
    ['x5c', [certificate]],
  ]);
}

// --- The two ceremonies -------------------------------------------------------------------------------------------

/** A new credential (or `existing` again) answering `navigator.credentials.create(options)`. */
export function createCredential(
  options: PublicKeyCredentialCreationOptionsJSON,
  opts: CreateOptions = {},
): { credential: SoftCredential; response: RegistrationResponseJSON } {
  const format = opts.format ?? 'none';
  const algorithm = format === 'fido-u2f' ? 'ES256' : (opts.existing?.algorithm ?? opts.algorithm ?? 'ES256');
  const rpId = opts.rpId ?? options.rp.id ?? '';
  const origin = opts.origin ?? `https://${options.rp.id}`;
  const credential: SoftCredential =
    opts.existing ??
    (() => {
      const { privateKey, cose } = KEY_MAKERS[algorithm]();
      const id = randomBytes(format === 'fido-u2f' ? 64 : 32);
      return {
        id,
        kid: b64u(id),
        algorithm,
        privateKey,
        cosePublicKey: cose,
        counter: opts.counter ?? 0,
        rpId,
        userHandle: Buffer.from(options.user.id, 'base64url'),
      };
    })();
  const aaguid = Buffer.from(
    (format === 'fido-u2f' ? ZERO_AAGUID : (opts.aaguid ?? ZERO_AAGUID)).replaceAll('-', ''),
    'hex',
  );
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credential.id.length);
  const rpIdHash = sha256(rpId);
  const authData = authenticatorData(
    rpIdHash,
    flagsByte(opts.flags ?? {}, FLAG.at),
    credential.counter,
    Buffer.concat([aaguid, idLength, credential.id, credential.cosePublicKey]),
  );
  const clientDataJSON = clientData('webauthn.create', opts.challenge ?? options.challenge, origin);
  const attStmt = attestationStatement(format, credential, authData, sha256(clientDataJSON), rpIdHash);
  const attestationObject = cbor(
    new Map<string, Cbor>([
      ['fmt', format],
      ['attStmt', attStmt],
      ['authData', authData],
    ]),
  );
  return {
    credential,
    response: {
      id: credential.kid,
      rawId: credential.kid,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: opts.transports ?? ['usb'],
      },
      clientExtensionResults: opts.discoverable === undefined ? {} : { credProps: { rk: opts.discoverable } },
    },
  };
}

/** The credential's answer to `navigator.credentials.get(options)`; advances its counter. */
export function getAssertion(
  credential: SoftCredential,
  options: PublicKeyCredentialRequestOptionsJSON,
  opts: GetOptions = {},
): AuthenticationResponseJSON {
  const useAppid = opts.useAppid ?? credential.appid !== undefined;
  const rpId = opts.rpId ?? (useAppid ? credential.appid! : (options.rpId ?? credential.rpId));
  const origin = opts.origin ?? `https://${options.rpId ?? credential.rpId}`;
  const counter = opts.counter ?? credential.counter + 1;
  credential.counter = counter;
  const authData = authenticatorData(sha256(rpId), flagsByte(opts.flags ?? {}), counter);
  const clientDataJSON = clientData('webauthn.get', opts.challenge ?? options.challenge, origin);
  const signature = signWith(
    credential.algorithm,
    credential.privateKey,
    Buffer.concat([authData, sha256(clientDataJSON)]),
  );
  const handle =
    opts.userHandle === undefined
      ? credential.userHandle
      : opts.userHandle === true
        ? credential.userHandle
        : opts.userHandle || undefined;
  const id = opts.id ?? credential.kid;
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64u(clientDataJSON),
      authenticatorData: b64u(authData),
      signature: b64u(signature),
      ...(handle ? { userHandle: b64u(handle) } : {}),
    },
    clientExtensionResults: useAppid ? { appid: true } : {},
  };
}

/** A credential that was never registered through these options (unknown keys, records stored by the test). */
export function makeCredential(rpId: string, algorithm: Algorithm = 'ES256'): SoftCredential {
  const { privateKey, cose } = KEY_MAKERS[algorithm]();
  const id = randomBytes(32);
  return { id, kid: b64u(id), algorithm, privateKey, cosePublicKey: cose, counter: 0, rpId, userHandle: undefined };
}

/** A key enrolled long ago through the FIDO U2F API with `appid` as AppID (its record is stored by the test). */
export function legacyU2fCredential(appid: string, rpId: string): SoftCredential {
  return { ...makeCredential(rpId, 'ES256'), appid };
}
