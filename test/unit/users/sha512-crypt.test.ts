import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { parseSha512CryptHash, sha512Crypt, verifySha512Crypt } from '../../../src/users/sha512-crypt.js';

// The SHA-512 test vectors published with Drepper's "Unix crypt using SHA-256 and SHA-512".
const DREPPER_VECTORS: ReadonlyArray<{ setting: string; password: string; expected: string }> = [
  {
    setting: '$6$saltstring',
    password: 'Hello world!',
    expected: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  },
  {
    setting: '$6$rounds=10000$saltstringsaltstring',
    password: 'Hello world!',
    expected:
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  },
  {
    setting: '$6$rounds=5000$toolongsaltstring',
    password: 'This is just a test',
    expected:
      '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  },
  {
    setting: '$6$rounds=1400$anotherlongsaltstring',
    password: 'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    expected:
      '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  },
  {
    setting: '$6$rounds=77777$short',
    password: 'we have a short salt string but not a short password',
    expected:
      '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  },
  {
    setting: '$6$rounds=123456$asaltof16chars..',
    password: 'a short string',
    expected:
      '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  },
  {
    setting: '$6$rounds=10$roundstoolow',
    password: 'the minimum number is still observed',
    expected:
      '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  },
];

describe('sha512-crypt (Drepper, SHA-512 variant)', () => {
  for (const vector of DREPPER_VECTORS) {
    it(`crypt(${JSON.stringify(vector.password)}, ${vector.setting}) matches the published vector`, async () => {
      assert.equal(await sha512Crypt(vector.password, vector.setting), vector.expected);
    });
  }

  it('verifies every published vector and refuses a wrong password', async () => {
    for (const vector of DREPPER_VECTORS) {
      assert.equal(await verifySha512Crypt(vector.expected, vector.password), true, vector.expected);
      assert.equal(await verifySha512Crypt(vector.expected, `${vector.password}x`), false, vector.expected);
    }
  });

  it('an empty salt and an empty password are handled as crypt(3) does', async () => {
    // Cross-checked against glibc's crypt(3).
    const hash =
      '$6$rounds=1000$$NPMepfN3/Cv.LPoa7suAzCVH3BhfhhB2wHuwY51WjZgqg.e601K6RWCJ7AHYXHZcp4ilHQ0xlpG1yRxSYX3TP/';
    assert.equal(await sha512Crypt('', '$6$rounds=1000$'), hash);
    assert.equal(await verifySha512Crypt(hash, ''), true);
  });

  const checksum = 'svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
  const malformed: ReadonlyArray<[string, string]> = [
    ['rounds below the minimum', `$6$rounds=10$roundstoolow$${checksum}`],
    ['a salt longer than 16 characters', `$6$saltstringsaltstring$${checksum}`],
    ['a short checksum', `$6$saltstring$${checksum.slice(1)}`],
    ['a checksum with a foreign character', `$6$saltstring$${checksum.slice(1)}-`],
    ['rounds with a leading zero', `$6$rounds=05000$saltstring$${checksum}`],
    ['no checksum', '$6$saltstring'],
    ['another prefix', `$5$saltstring$${checksum}`],
  ];
  for (const [name, hash] of malformed) {
    it(`a stored hash with ${name} is malformed and never verifies`, async () => {
      assert.ok('error' in parseSha512CryptHash(hash));
      assert.equal(await verifySha512Crypt(hash, 'Hello world!'), false);
    });
  }

  it('parses the rounds, whether they are written and the salt', () => {
    assert.deepEqual(parseSha512CryptHash(DREPPER_VECTORS[0]!.expected), {
      setting: { rounds: 5000, roundsExplicit: false, salt: 'saltstring' },
      checksum,
    });
    const parsed = parseSha512CryptHash(DREPPER_VECTORS[1]!.expected);
    assert.ok('setting' in parsed);
    assert.deepEqual(parsed.setting, { rounds: 10000, roundsExplicit: true, salt: 'saltstringsaltst' });
  });
});
