// Issue 11 §3: recovery codes, the pure part: their format and entropy, how typed input is read back, the hash.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  formatRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
  RECOVERY_CODE_MAX_INPUT,
} from '../../../src/webauthn/recovery-codes.js';

const FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

describe('a new set of recovery codes', () => {
  it('holds ten distinct codes written xxxx-xxxx-xxxx from an alphabet without i, l, o and u', () => {
    const { codes } = generateRecoveryCodes();
    assert.equal(codes.length, RECOVERY_CODE_COUNT);
    assert.equal(new Set(codes).size, RECOVERY_CODE_COUNT);
    for (const code of codes) assert.match(code, FORMAT);
  });

  it('stores one hash per code, salted per set: the same code hashes differently in another set', () => {
    const a = generateRecoveryCodes();
    const b = generateRecoveryCodes();
    assert.equal(a.hashes.length, RECOVERY_CODE_COUNT);
    assert.equal(a.salt.length, 16);
    assert.notDeepEqual(a.salt, b.salt);
    const code = normaliseRecoveryCode(a.codes[0]!)!;
    assert.deepEqual(hashRecoveryCode(a.salt, code), a.hashes[0]);
    assert.notDeepEqual(hashRecoveryCode(b.salt, code), a.hashes[0]);
    assert.equal(a.hashes[0]!.length, 32);
  });

  it('uses every symbol of the 32: about 60 random bits a code (12 symbols × 5 bits)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i += 1)
      for (const code of generateRecoveryCodes().codes) for (const c of code.replaceAll('-', '')) seen.add(c);
    assert.equal(seen.size, 32);
  });
});

describe('reading a typed code back', () => {
  it('forgives case, spaces, dashes and the look-alikes i, l (as 1) and o (as 0)', () => {
    const expected = normaliseRecoveryCode('1a0b-2c3d-4e5f');
    assert.equal(expected, '1A0B2C3D4E5F');
    for (const typed of [
      '1A0B-2C3D-4E5F',
      ' 1a0b 2c3d 4e5f ',
      '1a0b2c3d4e5f',
      'la0b-2c3d-4e5f',
      'Ia0B–2C3D—4E5F',
      '1aob-2c3d-4e5f',
    ])
      assert.equal(normaliseRecoveryCode(typed), expected, typed);
  });

  it('refuses what cannot be a code: wrong length, symbols outside the alphabet, anything too long', () => {
    for (const typed of ['', '1a0b-2c3d', '1a0b-2c3d-4e5f-6', 'uuuu-uuuu-uuuu', '1a0b-2c3d-4e5!', '１a0b-2c3d-4e5f'])
      assert.equal(normaliseRecoveryCode(typed), undefined, typed);
    assert.equal(normaliseRecoveryCode(`${' '.repeat(RECOVERY_CODE_MAX_INPUT)}1a0b2c3d4e5f`), undefined);
  });

  it('formats a normalised code in groups of four, lower case', () => {
    assert.equal(formatRecoveryCode('1A0B2C3D4E5F'), '1a0b-2c3d-4e5f');
  });
});
