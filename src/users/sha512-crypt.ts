// SHA-512 crypt (`$6$`), written from Ulrich Drepper's published description "Unix crypt using SHA-256 and
// SHA-512", so users files carried over from Authelia or /etc/shadow keep working. Only verification is offered:
// new hashes are argon2id.
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';

const PREFIX = '$6$';
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHA512_CRYPT_DEFAULT_ROUNDS = 5000;
const SHA512_CRYPT_MIN_ROUNDS = 1000;
const SHA512_CRYPT_MAX_ROUNDS = 999_999_999;
const SALT_MAX_LENGTH = 16;
/** The rounds loop yields to the event loop this often, so a costly hash does not stall other requests. */
const ROUNDS_PER_SLICE = 1000;

export interface Sha512CryptSetting {
  rounds: number;
  /** Whether `rounds=N$` is written out (the spec omits it when the default was implied). */
  roundsExplicit: boolean;
  salt: string;
}

export type ParsedSha512Crypt = { setting: Sha512CryptSetting; checksum: string } | { error: string };

const STORED_HASH = /^\$6\$(?:rounds=([1-9][0-9]{0,8})\$)?([^$:\s]{0,16})\$([./0-9A-Za-z]{86})$/;

/**
 * Reads a stored `$6$[rounds=N$]salt$checksum` strictly: a hash that crypt() itself could not have produced
 * (rounds out of range, salt longer than 16 characters, a checksum of the wrong length) is malformed.
 */
export function parseSha512CryptHash(hash: string): ParsedSha512Crypt {
  const match = STORED_HASH.exec(hash);
  if (!match) return { error: 'is not a well-formed sha512-crypt hash ($6$[rounds=N$]salt$checksum)' };
  const rounds = match[1] === undefined ? SHA512_CRYPT_DEFAULT_ROUNDS : Number(match[1]);
  if (rounds < SHA512_CRYPT_MIN_ROUNDS)
    return { error: `has rounds=${rounds}, below the minimum of ${SHA512_CRYPT_MIN_ROUNDS}` };
  return { setting: { rounds, roundsExplicit: match[1] !== undefined, salt: match[2]! }, checksum: match[3]! };
}

/**
 * crypt(3) for `$6$` settings as the spec defines it: the salt is cut to 16 characters, rounds are clamped to
 * [1000, 999999999], and anything after the salt (an old checksum) is ignored. Returns the full hash string.
 */
export async function sha512Crypt(password: string | Uint8Array, setting: string): Promise<string> {
  if (!setting.startsWith(PREFIX)) throw new Error('not a sha512-crypt setting ($6$...)');
  let rest = setting.slice(PREFIX.length);
  let rounds = SHA512_CRYPT_DEFAULT_ROUNDS;
  let roundsExplicit = false;
  const roundsMatch = /^rounds=([0-9]+)\$/.exec(rest);
  if (roundsMatch) {
    rounds = Math.min(SHA512_CRYPT_MAX_ROUNDS, Math.max(SHA512_CRYPT_MIN_ROUNDS, Number(roundsMatch[1])));
    roundsExplicit = true;
    rest = rest.slice(roundsMatch[0].length);
  }
  const salt = rest.split('$', 1)[0]!.slice(0, SALT_MAX_LENGTH);
  return formatSha512Crypt({ rounds, roundsExplicit, salt }, await sha512CryptChecksum(password, { rounds, salt }));
}

/** Whether `password` matches a stored `$6$` hash, compared in constant time; malformed hashes never match. */
export async function verifySha512Crypt(hash: string, password: string | Uint8Array): Promise<boolean> {
  const parsed = parseSha512CryptHash(hash);
  if ('error' in parsed) return false;
  const computed = await sha512CryptChecksum(password, parsed.setting);
  return timingSafeEqual(Buffer.from(computed, 'latin1'), Buffer.from(parsed.checksum, 'latin1'));
}

function formatSha512Crypt(setting: Sha512CryptSetting, checksum: string): string {
  const rounds = setting.roundsExplicit ? `rounds=${setting.rounds}$` : '';
  return `${PREFIX}${rounds}${setting.salt}$${checksum}`;
}

/** The 86-character checksum for a password, salt and number of rounds (spec steps 1 to 22). */
async function sha512CryptChecksum(
  password: string | Uint8Array,
  setting: Pick<Sha512CryptSetting, 'rounds' | 'salt'>,
): Promise<string> {
  const p = Buffer.from(password);
  const s = Buffer.from(setting.salt, 'utf8');
  const a = initialDigest(p, s);
  const pSequence = repeatToLength(digestOfRepeats(p, p.length), p.length);
  const sSequence = repeatToLength(digestOfRepeats(s, 16 + a[0]!), s.length);
  let c = a;
  for (let round = 0; round < setting.rounds; round++) {
    if (round > 0 && round % ROUNDS_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const odd = round % 2 === 1;
    const h = createHash('sha512');
    h.update(odd ? pSequence : c);
    if (round % 3 !== 0) h.update(sSequence);
    if (round % 7 !== 0) h.update(pSequence);
    h.update(odd ? c : pSequence);
    c = h.digest();
  }
  return encodeChecksum(c);
}

/** Digest A of the spec (steps 1 to 12), which seeds the rounds loop. */
function initialDigest(p: Buffer, s: Buffer): Buffer {
  const b = createHash('sha512').update(p).update(s).update(p).digest();
  const h = createHash('sha512').update(p).update(s);
  addRepeated(h, b, p.length);
  // One addition per bit of the password's length, lowest bit first: B for a 1, the password for a 0.
  for (let length = p.length; length > 0; length >>= 1) h.update(length & 1 ? b : p);
  return h.digest();
}

/** The digest of `value` added `times` times (digests DP and DS of the spec). */
function digestOfRepeats(value: Buffer, times: number): Buffer {
  const h = createHash('sha512');
  for (let i = 0; i < times; i++) h.update(value);
  return h.digest();
}

/** Adds whole copies of a 64-byte digest, then its first bytes, until `length` bytes were added. */
function addRepeated(h: Hash, digest: Buffer, length: number): void {
  let left = length;
  for (; left >= digest.length; left -= digest.length) h.update(digest);
  h.update(digest.subarray(0, left));
}

function repeatToLength(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += digest.length)
    digest.copy(out, offset, 0, Math.min(digest.length, length - offset));
  return out;
}

/**
 * The spec's base-64 of the final digest: 21 groups of three bytes taken from positions k, k+21, k+42 in an order
 * that rotates with k, then the last byte alone; each group is written least significant six bits first.
 */
function encodeChecksum(digest: Buffer): string {
  let text = '';
  for (let k = 0; k < 21; k++) {
    const group = [digest[k]!, digest[k + 21]!, digest[k + 42]!];
    const rotation = k % 3;
    const [b2, b1, b0] = [group[rotation]!, group[(rotation + 1) % 3]!, group[(rotation + 2) % 3]!];
    text += base64Chars((b2 << 16) | (b1 << 8) | b0, 4);
  }
  return text + base64Chars(digest[63]!, 2);
}

function base64Chars(value: number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++, value >>= 6) text += ALPHABET[value & 0x3f];
  return text;
}
