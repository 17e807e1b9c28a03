import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { compare as bcryptCompare, hash as bcryptHash } from 'bcryptjs';
import {
  BCRYPT_MAX_PASSWORD_BYTES,
  DEFAULT_ARGON2_PARAMS,
  MAX_PASSWORD_BYTES,
  describeHash,
  hashPassword,
  verifyPassword,
} from '../../../src/users/hashing.js';

const FAST_ARGON2 = { ...DEFAULT_ARGON2_PARAMS, memory: 1024, iterations: 1, parallelism: 1 };

// Hashes from independent implementations: the argon2 reference implementation's documented examples and
// test suite, OpenBSD/Openwall bcrypt vectors, glibc's crypt(3).
const KNOWN_HASHES: ReadonlyArray<{ name: string; hash: string; password: string; algorithm: string }> = [
  {
    name: 'argon2i (reference README, p=4)',
    hash: '$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG',
    password: 'password',
    algorithm: 'argon2i',
  },
  {
    name: 'argon2i (reference tests, m=256)',
    hash: '$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8',
    password: 'password',
    algorithm: 'argon2i',
  },
  {
    name: 'argon2id (reference tests, m=256)',
    hash: '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    password: 'password',
    algorithm: 'argon2id',
  },
  {
    name: 'bcrypt $2a$',
    hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    password: 'U*U',
    algorithm: 'bcrypt',
  },
  {
    name: 'bcrypt $2a$ (second vector)',
    hash: '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a',
    password: 'U*U*U',
    algorithm: 'bcrypt',
  },
  {
    name: 'bcrypt $2b$',
    hash: '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    password: 'U*U',
    algorithm: 'bcrypt',
  },
  {
    name: 'bcrypt $2y$ (PHP, htpasswd)',
    hash: '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    password: 'U*U',
    algorithm: 'bcrypt',
  },
  {
    name: 'sha512-crypt',
    hash: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    password: 'Hello world!',
    algorithm: 'sha512-crypt',
  },
  {
    name: 'sha512-crypt with rounds',
    hash: '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
    password: 'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    algorithm: 'sha512-crypt',
  },
];

const VALID_ARGON2 = '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4';
const VALID_BCRYPT = '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
const SHA_CHECKSUM = 'svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

/** Unusable hashes and the words their reason must contain. */
const UNUSABLE_HASHES: ReadonlyArray<{ name: string; hash: string; reason: RegExp }> = [
  { name: 'an empty string', hash: '', reason: /must be a password hash/ },
  { name: 'a plain-text password', hash: 'hunter2', reason: /plain-text password/ },
  { name: 'an unknown scheme', hash: '$foo$bar', reason: /unrecognised hash algorithm/ },
  {
    name: 'sha256-crypt',
    hash: '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF6yh2uOxyz',
    reason: /sha256-crypt.*not supported/,
  },
  { name: 'md5-crypt', hash: '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/', reason: /md5-crypt.*not supported/ },
  {
    name: 'pbkdf2 (Authelia)',
    hash: '$pbkdf2-sha512$310000$c8p78n7pUMln0jzvd4aK4Q$JNRBzwAo0ek5qKn50cFzzvE9RXV88h1wJn5KGiHrD0YKtZaR/nCb2CJPOsKaPK0hjf.9yHxzQGZziziccp6Yng',
    reason: /pbkdf2.*not supported/,
  },
  {
    name: 'scrypt',
    hash: '$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E',
    reason: /scrypt.*not supported/,
  },
  { name: 'an argon2 prefix alone', hash: '$argon2id$', reason: /not a well-formed argon2/ },
  {
    name: 'argon2 without the hash',
    hash: '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ',
    reason: /not a well-formed argon2/,
  },
  { name: 'argon2 with padding', hash: `${VALID_ARGON2}=`, reason: /not a well-formed argon2/ },
  {
    name: 'argon2 with too little memory',
    hash: '$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    reason: /memory \(m\) below/,
  },
  {
    name: 'argon2 with absurd memory',
    hash: '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    reason: /memory \(m\) above the limit/,
  },
  {
    name: 'argon2 with absurd iterations',
    hash: '$argon2id$v=19$m=256,t=1000,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    reason: /iteration count \(t\) above/,
  },
  {
    name: 'argon2 with zero lanes',
    hash: '$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    reason: /parallelism/,
  },
  { name: 'bcrypt $2x$', hash: VALID_BCRYPT.replace('$2b$', '$2x$'), reason: /variant other than/ },
  { name: 'a truncated bcrypt hash', hash: VALID_BCRYPT.slice(0, -1), reason: /not a well-formed bcrypt/ },
  { name: 'bcrypt cost 3', hash: VALID_BCRYPT.replace('$05$', '$03$'), reason: /cost outside 4 to 31/ },
  { name: 'bcrypt cost 20', hash: VALID_BCRYPT.replace('$05$', '$20$'), reason: /cost above the limit/ },
  {
    name: 'a truncated sha512-crypt hash',
    hash: `$6$saltstring$${SHA_CHECKSUM.slice(0, 40)}`,
    reason: /not a well-formed sha512-crypt/,
  },
  {
    name: 'sha512-crypt rounds below the minimum',
    hash: `$6$rounds=999$saltstring$${SHA_CHECKSUM}`,
    reason: /below the minimum/,
  },
  {
    name: 'sha512-crypt rounds above the limit',
    hash: `$6$rounds=900000000$saltstring$${SHA_CHECKSUM}`,
    reason: /rounds above the limit/,
  },
];

describe('SPEC §2 hash-password: new hashes are argon2id', () => {
  it('with the default parameters the PHC string reads $argon2id$v=19$m=65536,t=3,p=4$', async () => {
    const hash = await hashPassword('password', DEFAULT_ARGON2_PARAMS);
    assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword(hash, 'password'), true);
  });

  it('round-trips, and the configured salt and key lengths are honoured', async () => {
    const hash = await hashPassword('correct horse', { ...FAST_ARGON2, salt_length: 24, key_length: 48 });
    assert.match(hash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{32}\$[A-Za-z0-9+/]{64}$/);
    assert.equal(await verifyPassword(hash, 'correct horse'), true);
    assert.equal(await verifyPassword(hash, 'correct horse '), false);
    assert.deepEqual(describeHash(hash), { algorithm: 'argon2id' });
  });

  it('two hashes of one password differ (random salt)', async () => {
    const [a, b] = await Promise.all([hashPassword('same', FAST_ARGON2), hashPassword('same', FAST_ARGON2)]);
    assert.notEqual(a, b);
  });

  it('an empty password or one longer than 1024 bytes is refused', async () => {
    await assert.rejects(hashPassword('', FAST_ARGON2), RangeError);
    await assert.rejects(hashPassword('é'.repeat(MAX_PASSWORD_BYTES / 2 + 1), FAST_ARGON2), RangeError);
    const longest = 'x'.repeat(MAX_PASSWORD_BYTES);
    assert.equal(await verifyPassword(await hashPassword(longest, FAST_ARGON2), longest), true);
  });
});

describe('SPEC §8 passwords are compared through the hash’s own verifier', () => {
  for (const known of KNOWN_HASHES) {
    it(`${known.name}: the right password verifies, a wrong one does not`, async () => {
      assert.deepEqual(describeHash(known.hash), { algorithm: known.algorithm });
      assert.equal(await verifyPassword(known.hash, known.password), true);
      assert.equal(await verifyPassword(known.hash, `${known.password}!`), false);
      assert.equal(await verifyPassword(known.hash, ''), false);
    });
  }

  it('argon2d hashes verify too', async () => {
    const hash = await argon2Hash('password', {
      algorithm: 0 as Algorithm.Argon2d,
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
    });
    assert.match(hash, /^\$argon2d\$/);
    assert.deepEqual(describeHash(hash), { algorithm: 'argon2d' });
    assert.equal(await verifyPassword(hash, 'password'), true);
    assert.equal(await verifyPassword(hash, 'Password'), false);
  });

  for (const unusable of UNUSABLE_HASHES) {
    it(`${unusable.name} is unusable: never verifies, and the reason says why without quoting it`, async () => {
      const description = describeHash(unusable.hash);
      assert.ok('error' in description, `expected an error for ${unusable.hash}`);
      assert.match(description.error, unusable.reason);
      // (Short values may coincide with the format shown in the reason; the real hashes must not appear.)
      if (unusable.hash.length > 16) assert.ok(!description.error.includes(unusable.hash));
      assert.equal(await verifyPassword(unusable.hash, 'password'), false);
    });
  }

  it('a non-string hash or password is false, not an exception', async () => {
    assert.equal(await verifyPassword(undefined as unknown as string, 'password'), false);
    assert.equal(await verifyPassword(VALID_ARGON2, { length: 3 } as unknown as string), false);
    assert.deepEqual(describeHash(42), { error: 'must be a password hash string' });
  });

  it('a password longer than 1024 bytes is refused before hashing, whatever the hash', async () => {
    const long = 'p'.repeat(MAX_PASSWORD_BYTES + 1);
    const expensive = await hashPassword(long.slice(0, MAX_PASSWORD_BYTES), {
      ...FAST_ARGON2,
      memory: 65536,
      iterations: 20,
    });
    const started = performance.now();
    for (const hash of [expensive, VALID_BCRYPT, KNOWN_HASHES.at(-1)!.hash])
      assert.equal(await verifyPassword(hash, long), false);
    // Hashing would take a clear fraction of a second with t=20; the guard answers at once.
    assert.ok(performance.now() - started < 50, 'the long password was hashed');
  });
});

describe('bcrypt’s 72-byte limit: longer passwords never match instead of being truncated', () => {
  const vector = {
    hash: '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui',
    password: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored',
  };

  it('the published vector that relies on truncation does not verify here (bcryptjs alone would accept it)', async () => {
    assert.equal(await bcryptCompare(vector.password, vector.hash), true);
    assert.equal(await verifyPassword(vector.hash, vector.password), false);
  });

  it('exactly 72 bytes verifies; 73 bytes sharing them does not', async () => {
    const password = 'ß'.repeat(BCRYPT_MAX_PASSWORD_BYTES / 2);
    const hash = await bcryptHash(password, 4);
    assert.equal(await verifyPassword(hash, password), true);
    assert.equal(await verifyPassword(hash, `${password}x`), false);
  });
});
