// Recovery codes (issue 11), the pure part: how a code is made, written, read back and hashed. A code is 12
// symbols of Crockford's base32 (digits and letters without I, L, O and U: nothing to confuse), 60 random bits,
// shown as `xxxx-xxxx-xxxx` in lower case. Reading one back forgives case, spaces, dashes and the look-alikes
// Crockford maps (I and L read as 1, O as 0). Stored as SHA-256(salt ‖ code) with a random salt per set.
import { createHash, randomBytes } from 'node:crypto';

/** Codes in a set. */
export const RECOVERY_CODE_COUNT = 10;
/** Symbols in a code: 12 × 5 bits = 60 random bits each. */
export const RECOVERY_CODE_SYMBOLS = 12;
/** The longest input read as a code: spaces and dashes around 12 symbols, never more (a body is bounded anyway). */
export const RECOVERY_CODE_MAX_INPUT = 64;
/** Bytes of the per-set salt. */
export const RECOVERY_SALT_BYTES = 16;

/** Crockford's base32: 32 symbols, so one random byte masked to 5 bits picks one uniformly. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LOOK_ALIKES: Record<string, string> = { I: '1', L: '1', O: '0' };

/** One new code, normalised (upper case, no dashes): what is hashed. */
function newCode(): string {
  const bytes = randomBytes(RECOVERY_CODE_SYMBOLS);
  let code = '';
  for (const byte of bytes) code += ALPHABET[byte & 31];
  return code;
}

/** A normalised code as people read it: `abcd-efgh-jkmn`. */
export function formatRecoveryCode(normalised: string): string {
  return (normalised.match(/.{1,4}/g) ?? []).join('-').toLowerCase();
}

/**
 * What the user typed, as the code it stands for (upper case, no separators, look-alikes mapped), or undefined
 * when it cannot be a code at all (wrong length, a symbol outside the alphabet).
 */
export function normaliseRecoveryCode(input: string): string | undefined {
  if (input.length > RECOVERY_CODE_MAX_INPUT) return undefined;
  const compact = input
    .toUpperCase()
    .replace(/[\s\-‐‑‒–—]/g, '')
    .replace(/[ILO]/g, (letter) => LOOK_ALIKES[letter]!);
  if (compact.length !== RECOVERY_CODE_SYMBOLS) return undefined;
  for (const symbol of compact) if (!ALPHABET.includes(symbol)) return undefined;
  return compact;
}

/** SHA-256(salt ‖ normalised code). */
export function hashRecoveryCode(salt: Uint8Array, normalised: string): Buffer {
  return createHash('sha256').update(salt).update(normalised, 'utf8').digest();
}

/** A new set: the codes to show once (formatted), and the salt and hashes to store. */
export function generateRecoveryCodes(): { codes: string[]; salt: Buffer; hashes: Buffer[] } {
  const salt = randomBytes(RECOVERY_SALT_BYTES);
  const normalised = new Set<string>();
  // Two equal codes in one set (a 2^-56 chance) would make one of them unusable: draw again.
  while (normalised.size < RECOVERY_CODE_COUNT) normalised.add(newCode());
  const list = [...normalised];
  return {
    codes: list.map(formatRecoveryCode),
    salt,
    hashes: list.map((code) => hashRecoveryCode(salt, code)),
  };
}
