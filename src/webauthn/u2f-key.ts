// A FIDO U2F public key is a raw uncompressed P-256 point (0x04 || x || y, 65 bytes); WebAuthn stores COSE keys.
// Keys enrolled through U2F are kept as COSE here (so one verifier handles every key) and turned back into the raw
// point when exported for Authelia, whose `appid` path reads the raw form.
import { createPublicKey } from 'node:crypto';
import { cose, decodeCredentialPublicKey, isoCBOR } from '@simplewebauthn/server/helpers';

const POINT_LENGTH = 65;
const UNCOMPRESSED = 0x04;
const COORDINATE_LENGTH = 32;
/** COSE (RFC 9053): key type EC2, curve P-256, algorithm ES256. */
const KTY_EC2 = 2;
const CRV_P256 = 1;
const ALG_ES256 = -7;

/** True when `bytes` is a raw uncompressed P-256 point that lies on the curve (what U2F registration returns). */
export function isU2fPublicKey(bytes: Uint8Array): boolean {
  if (bytes.length !== POINT_LENGTH || bytes[0] !== UNCOMPRESSED) return false;
  try {
    // OpenSSL refuses a point that is not on the curve: a malformed key is caught at import, not at sign-in.
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', ...coordinates(bytes) }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

function coordinates(point: Uint8Array): { x: string; y: string } {
  const x = point.subarray(1, 1 + COORDINATE_LENGTH);
  const y = point.subarray(1 + COORDINATE_LENGTH);
  return { x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') };
}

/** The COSE form of a raw U2F point; the caller has checked it with isU2fPublicKey. */
export function u2fPointToCose(point: Uint8Array): Uint8Array {
  const key = new Map<number, number | Uint8Array>([
    [cose.COSEKEYS.kty, KTY_EC2],
    [cose.COSEKEYS.alg, ALG_ES256],
    [cose.COSEKEYS.crv, CRV_P256],
    [cose.COSEKEYS.x, point.slice(1, 1 + COORDINATE_LENGTH)],
    [cose.COSEKEYS.y, point.slice(1 + COORDINATE_LENGTH)],
  ]);
  return isoCBOR.encode(key);
}

/** The raw point of a COSE ES256 P-256 key, or undefined when the key is of another kind. */
export function coseToU2fPoint(coseKey: Uint8Array): Uint8Array | undefined {
  let key: ReturnType<typeof decodeCredentialPublicKey>;
  try {
    key = decodeCredentialPublicKey(new Uint8Array(coseKey));
  } catch {
    return undefined;
  }
  if (!cose.isCOSEPublicKeyEC2(key) || key.get(cose.COSEKEYS.crv) !== CRV_P256) return undefined;
  const x = key.get(cose.COSEKEYS.x);
  const y = key.get(cose.COSEKEYS.y);
  if (x?.length !== COORDINATE_LENGTH || y?.length !== COORDINATE_LENGTH) return undefined;
  const point = new Uint8Array(POINT_LENGTH);
  point[0] = UNCOMPRESSED;
  point.set(x, 1);
  point.set(y, 1 + COORDINATE_LENGTH);
  return point;
}
