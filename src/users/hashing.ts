// Password hashes in the users file (SPEC §2 hash-password, §3 users file, §8): new hashes are argon2id; argon2
// (id, i, d), bcrypt and sha512-crypt hashes carried over from Authelia or elsewhere verify through their own
// verifier, each of which compares in constant time.
import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { compare as bcryptCompare } from 'bcryptjs';
import type { Config } from '../config/schema.js';
import { parseSha512CryptHash, verifySha512Crypt } from './sha512-crypt.js';

export type Argon2Params = Config['authentication_backend']['file']['password']['argon2'];

/** The schema's defaults, for callers without a configuration (the dummy hash, `hash-password`). */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = {
  variant: 'argon2id',
  iterations: 3,
  memory: 65536,
  parallelism: 4,
  key_length: 32,
  salt_length: 16,
};

/** Longer passwords are refused before any hashing: hashing megabytes on request would be a cheap DoS. */
export const MAX_PASSWORD_BYTES = 1024;

/**
 * bcrypt only reads the first 72 bytes of a password. Rather than truncate silently, which would accept any
 * password sharing those 72 bytes, a longer password never matches a bcrypt hash (the user re-hashes with
 * argon2id to use a longer one).
 */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/**
 * Costs above these would let one sign-in attempt pin a core or allocate gigabytes for seconds (a users file
 * is hostile input too); a hash above them is refused when the file is loaded.
 */
const COST_LIMITS = {
  argon2MemoryKiB: 1_048_576,
  argon2Iterations: 32,
  bcryptCost: 16,
  sha512Rounds: 2_000_000,
} as const;

// @node-rs/argon2 declares Algorithm as a const enum, which has no runtime object to read the value from.
const ARGON2ID = 2 as Algorithm.Argon2id;

export type HashAlgorithm = 'argon2id' | 'argon2i' | 'argon2d' | 'bcrypt' | 'sha512-crypt';
export type HashDescription = { algorithm: HashAlgorithm } | { error: string };

/** A new argon2id PHC string (`$argon2id$v=19$m=65536,t=3,p=4$salt$hash`) for the users file. */
export async function hashPassword(password: string, params: Argon2Params): Promise<string> {
  if (password.length === 0) throw new RangeError('the password is empty');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new RangeError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  return argon2Hash(password, {
    algorithm: ARGON2ID,
    memoryCost: params.memory,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    outputLen: params.key_length,
    salt: randomBytes(params.salt_length),
  });
}

/**
 * Whether `password` is the one `hash` was made from. Anything unusable (an unsupported or malformed hash, a
 * password over the length limits, a non-string) is false; `describeHash` says why a hash is unusable.
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (typeof hash !== 'string' || typeof password !== 'string') return false;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return false;
  const format = formatOf(hash);
  if (format === undefined || format.problem(hash) !== undefined) return false;
  try {
    return await format.verify(hash, password);
  } catch {
    return false;
  }
}

/** The algorithm of a usable hash, or why it is not usable (worded to follow a key path; never quotes the hash). */
export function describeHash(hash: unknown): HashDescription {
  if (typeof hash !== 'string' || hash === '') return { error: 'must be a password hash string' };
  const format = formatOf(hash);
  if (format === undefined) return { error: unrecognisedHashReason(hash) };
  const problem = format.problem(hash);
  return problem === undefined ? { algorithm: format.algorithm(hash) } : { error: problem };
}

interface HashFormat {
  /** Whether the hash claims this format by its prefix (well formed or not). */
  claims(hash: string): boolean;
  algorithm(hash: string): HashAlgorithm;
  /** Why a hash claiming this format cannot be used, or undefined. */
  problem(hash: string): string | undefined;
  verify(hash: string, password: string): Promise<boolean>;
}

// PHC string: `$argon2<type>$[v=<16|19>$]m=<kib>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>` (unpadded base64).
const ARGON2 =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(16|19)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{16,})$/;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

const argon2Format: HashFormat = {
  claims: (hash) => hash.startsWith('$argon2'),
  algorithm: (hash) => ARGON2.exec(hash)![1] as HashAlgorithm,
  problem(hash) {
    const match = ARGON2.exec(hash);
    if (!match) return 'is not a well-formed argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)';
    const [memory, iterations, parallelism] = [Number(match[3]), Number(match[4]), Number(match[5])];
    if (parallelism < 1 || parallelism > 255) return 'has an argon2 parallelism (p) outside 1 to 255';
    if (iterations < 1) return 'has an argon2 iteration count (t) below 1';
    if (memory < 8 * parallelism) return 'has an argon2 memory (m) below 8 KiB per lane';
    if (memory > COST_LIMITS.argon2MemoryKiB)
      return `has an argon2 memory (m) above the limit of ${COST_LIMITS.argon2MemoryKiB} KiB`;
    if (iterations > COST_LIMITS.argon2Iterations)
      return `has an argon2 iteration count (t) above the limit of ${COST_LIMITS.argon2Iterations}`;
    return undefined;
  },
  verify: (hash, password) => argon2Verify(hash, password),
};

const bcryptFormat: HashFormat = {
  claims: (hash) => /^\$2[a-z]?\$/.test(hash),
  algorithm: () => 'bcrypt',
  problem(hash) {
    if (!/^\$2[aby]\$/.test(hash)) return 'uses a bcrypt variant other than $2a$, $2b$ or $2y$';
    const match = BCRYPT.exec(hash);
    if (!match) return 'is not a well-formed bcrypt hash ($2b$<cost>$<53 characters>)';
    const cost = Number(match[1]);
    if (cost < 4 || cost > 31) return 'has a bcrypt cost outside 4 to 31';
    if (cost > COST_LIMITS.bcryptCost) return `has a bcrypt cost above the limit of ${COST_LIMITS.bcryptCost}`;
    return undefined;
  },
  async verify(hash, password) {
    if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) return false;
    return bcryptCompare(password, hash);
  },
};

const sha512CryptFormat: HashFormat = {
  claims: (hash) => hash.startsWith('$6$'),
  algorithm: () => 'sha512-crypt',
  problem(hash) {
    const parsed = parseSha512CryptHash(hash);
    if ('error' in parsed) return parsed.error;
    if (parsed.setting.rounds > COST_LIMITS.sha512Rounds)
      return `has sha512-crypt rounds above the limit of ${COST_LIMITS.sha512Rounds}`;
    return undefined;
  },
  verify: (hash, password) => verifySha512Crypt(hash, password),
};

const FORMATS: readonly HashFormat[] = [argon2Format, bcryptFormat, sha512CryptFormat];

function formatOf(hash: string): HashFormat | undefined {
  return FORMATS.find((format) => format.claims(hash));
}

/** Known-but-unsupported schemes are named so the operator knows what to do; the value itself is never echoed. */
const UNSUPPORTED_SCHEMES: ReadonlyArray<[RegExp, string]> = [
  [/^\$5\$/, 'sha256-crypt ($5$)'],
  [/^\$1\$/, 'md5-crypt ($1$)'],
  [/^\$pbkdf2/, 'pbkdf2'],
  [/^\$scrypt\$/, 'scrypt'],
  [/^\$(?:y|7|gy)\$/, 'yescrypt/scrypt crypt'],
];

function unrecognisedHashReason(hash: string): string {
  const supported = 'use argon2id (gatehouse hash-password), bcrypt or sha512-crypt';
  const known = UNSUPPORTED_SCHEMES.find(([pattern]) => pattern.test(hash));
  if (known) return `uses ${known[1]}, which is not supported; ${supported}`;
  if (!hash.startsWith('$')) return `is not a password hash (a plain-text password?); ${supported}`;
  return `uses an unrecognised hash algorithm; ${supported}`;
}
