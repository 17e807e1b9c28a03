// Session IDs, the store key derived from them, and the encryption of session data at rest (SPEC §8).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const ID_BYTES = 32;
/** The length of every ID we issue (base64url of ID_BYTES, no padding). */
export const SESSION_ID_LENGTH = 43;
/**
 * 32 bytes are 43 base64url characters without padding; the last one carries only 4 significant bits, so only
 * the canonical spellings are accepted (two cookie values can never name the same bytes).
 */
const WELL_FORMED_ID = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A fresh session ID: 256 random bits, base64url, safe in a cookie value without encoding. */
export function newSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** Only IDs of the exact shape we issue are ever looked up: anything else is hostile or stale. */
export function isWellFormedSessionId(value: string): boolean {
  return value.length === SESSION_ID_LENGTH && WELL_FORMED_ID.test(value);
}

/** The first well-formed cookie value: the session a cache is asked for (malformed values are never looked up). */
export function firstCandidateId(cookieValues: readonly string[]): string | undefined {
  for (const value of cookieValues) if (isWellFormedSessionId(value)) return value;
  return undefined;
}

/**
 * A store key that names its subject only by hash: the raw session ID, token or lock name is never stored, so a
 * dump of Redis cannot be replayed as cookies.
 */
export function hashedStoreKey(
  prefix: string,
  kind: 'session' | 'once' | 'lock' | 'user-sessions',
  name: string,
): string {
  return `${prefix}${kind}:${createHash('sha256').update(name).digest('hex')}`;
}

/** Where a session lives in the store. */
export function sessionStoreKey(prefix: string, id: string): string {
  return hashedStoreKey(prefix, 'session', id);
}

/** What every session key starts with (and no other key): the prefix Redis tracks for the session cache. */
export function sessionKeyPrefix(prefix: string): string {
  return `${prefix}session:`;
}

// Fixed HKDF inputs: they separate this key from any other use of session.secret.
const HKDF_SALT = 'gatehouse/session-store/v1';
const HKDF_INFO = 'gatehouse session data encryption (AES-256-GCM)';
const FORMAT_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * AES-256-GCM over session data, in the compact form `v1.<iv>.<ciphertext>.<tag>` (base64url parts).
 * The store key is the additional authenticated data, so a blob copied under another key does not open.
 */
export class SessionCipher {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length === 0) throw new Error('session secret must not be empty');
    // Derived once: HKDF is cheap but the hot path should not pay for it per request.
    this.#key = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT_VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join(
      '.',
    );
  }

  /** The plaintext, or undefined for anything that is not a blob we sealed under this key and this AAD. */
  open(blob: string, associatedData: string): string | undefined {
    const parts = blob.split('.');
    if (parts.length !== 4 || parts[0] !== FORMAT_VERSION) return undefined;
    const [, ivText = '', ciphertextText = '', tagText = ''] = parts;
    // Node's base64url decoder skips foreign characters silently; reject them instead of guessing.
    if (![ivText, ciphertextText, tagText].every((part) => BASE64URL.test(part))) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}

// A separate HKDF output: the handle key is never the encryption key.
const HANDLE_INFO = 'gatehouse session handle (HMAC-SHA-256)';
/** 128 bits: unguessable, and short enough for a table. */
const HANDLE_BYTES = 16;

/**
 * Names a session in the session list and the API without exposing anything that could become a cookie: an HMAC of
 * the store key (itself a SHA-256 of the ID) under a key derived from `session.secret`. One-way twice over, and
 * keyed, so a Redis dump cannot be matched against handles either.
 */
export class SessionHandles {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HANDLE_INFO, 32));
  }

  of(storeKey: string): string {
    return createHmac('sha256', this.#key).update(storeKey).digest().subarray(0, HANDLE_BYTES).toString('base64url');
  }
}

/** What a handle looks like (22 base64url characters): anything else is refused before any lookup. */
export function isWellFormedHandle(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}
