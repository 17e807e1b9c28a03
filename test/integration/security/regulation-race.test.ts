// Security review: regulation (SPEC §8) is read before the password is checked and written after, with nothing in
// between to stop other attempts for the same user: a burst of concurrent guesses all read "not banned" and all get
// a real password check. max_retries then bounds nothing but the length of a burst.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor } from '../../helpers/flows.js';
import { DEFAULT_ARGON2_PARAMS, hashPassword } from '../../../src/users/hashing.js';

const MAX_RETRIES = 3;
const BURST = 20;

describe('security: regulation under concurrent guesses', () => {
  let t: TestGatehouse;

  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      users: { victim: { displayname: 'Victim', email: 'victim@example.com' } },
      config: {
        authentication_backend: { file: { watch: true } },
        regulation: { max_retries: MAX_RETRIES, find_time: '2m', ban_time: '5m' },
      },
    });
    // The test helper's cheap hashes verify in about a millisecond, too fast for guesses to overlap; a production
    // hash (argon2id, 64 MiB, t=3: tens of milliseconds) gives the window a real attacker gets.
    const hash = await hashPassword(PASSWORD, DEFAULT_ARGON2_PARAMS);
    writeFileSync(
      t.usersPath,
      stringify({
        users: { victim: { displayname: 'Victim (production hash)', password: hash, email: 'victim@example.com' } },
      }),
    );
    const deadline = Date.now() + 10_000;
    while (t.gatehouse.adapters.users.get('victim')?.displayName !== 'Victim (production hash)') {
      if (Date.now() > deadline) throw new Error('the users file was not reloaded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => t.close());

  it(`at most max_retries (${MAX_RETRIES}) passwords are really tried per ban, however many guesses arrive at once`, async () => {
    const guesses = Array.from({ length: BURST }, (_, i) => (i === BURST - 1 ? PASSWORD : `wrong-${i}`));
    const replies = await Promise.all(guesses.map((password) => firstFactor(t, { username: 'victim', password })));

    const attempts = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
      username: 'victim',
      since: new Date(0),
      limit: 100,
    });
    const triedUnbanned = attempts.filter((attempt) => !attempt.banned);
    const signedIn = replies[BURST - 1]!.status === 200;
    assert.ok(
      triedUnbanned.length <= MAX_RETRIES + 1,
      `${triedUnbanned.length} of ${BURST} concurrent guesses were checked as if no ban applied` +
        (signedIn ? ' (and the right password, the last of the burst, signed in)' : ''),
    );
  });
});
