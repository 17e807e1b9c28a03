// The password lock (one check per user at a time, across replicas) must serialise checks without turning a wait
// into a wrong answer: two devices signing in at once both get in, a crashed replica's lock lapses in about the
// time of a check, a lock held too long is "try again" (503), never "check your credentials", and a burst of
// concurrent wrong guesses is still banned at max_retries. Real Redis, real PostgreSQL, production hashes.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor } from '../../helpers/flows.js';
import { DEFAULT_ARGON2_PARAMS, hashPassword } from '../../../src/users/hashing.js';
import {
  DEFAULT_PASSWORD_LOCK_TIMINGS,
  PasswordChecker,
  passwordLockNames,
} from '../../../src/users/password-check.js';
import { Regulator } from '../../../src/regulation/regulator.js';

const AUTH_FAILED = 'Authentication failed. Check your credentials.';
const MAX_RETRIES = 3;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'slow'] as const;

/** The lock a replica takes for `username` (user mode), as a crashed replica would have left it. */
const userLock = (username: string) => passwordLockNames(username, '', ['user'])[0]!;

describe('security: the password lock under concurrent sign-ins', () => {
  let t: TestGatehouse;

  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      users: Object.fromEntries(USERS.map((name) => [name, { displayname: name, email: `${name}@example.com` }])),
      config: {
        authentication_backend: { file: { watch: true } },
        regulation: { max_retries: MAX_RETRIES, find_time: '2m', ban_time: '5m' },
      },
    });
    // Production hashes (argon2id, 64 MiB, t=3: tens of milliseconds) so that concurrent checks really overlap.
    const hash = await hashPassword(PASSWORD, DEFAULT_ARGON2_PARAMS);
    // About ten times the default cost (256 MiB, t=24): a check that outlives the short lock used below.
    const slowHash = await hashPassword(PASSWORD, { ...DEFAULT_ARGON2_PARAMS, memory: 262_144, iterations: 24 });
    const users = Object.fromEntries(
      USERS.map((name) => [
        name,
        {
          displayname: `${name} (production hash)`,
          password: name === 'slow' ? slowHash : hash,
          email: `${name}@example.com`,
        },
      ]),
    );
    writeFileSync(t.usersPath, stringify({ users }));
    const deadline = Date.now() + 10_000;
    while (!USERS.every((name) => t.gatehouse.adapters.users.get(name)?.displayName.endsWith('(production hash)'))) {
      if (Date.now() > deadline) throw new Error('the users file was not reloaded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => t.close());

  it('two devices signing in with the right password at the same time both get in', async () => {
    const replies = await Promise.all([0, 1].map(() => firstFactor(t, { username: 'alice', password: PASSWORD })));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200],
      JSON.stringify(replies.map((r) => r.body)),
    );
  });

  it('five concurrent right sign-ins all get in (they wait their turn, none is told "wrong credentials")', async () => {
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => firstFactor(t, { username: 'bob', password: PASSWORD })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
  });

  it("a crashed replica's lock lapses in about a check's time, then the right password signs in", async () => {
    const ttl = DEFAULT_PASSWORD_LOCK_TIMINGS.ttlSeconds;
    assert.ok(ttl <= 3, `the lock outlives a crashed holder by ${ttl} s`);
    assert.equal(await t.gatehouse.services.sessions.tryLock(userLock('carol'), 'crashed-replica', ttl), true);
    const started = Date.now();
    const res = await firstFactor(t, { username: 'carol', password: PASSWORD });
    const waited = Date.now() - started;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(waited >= ttl * 1000 - 200, `signed in after ${waited} ms, before the dead lock lapsed`);
    assert.ok(waited < ttl * 1000 + 2_000, `signed in only after ${waited} ms`);
  });

  it('a lock held longer than the wait is answered 503 "try again", never as wrong credentials, and checks nothing', async () => {
    // A holder that never lets go within the wait (as a stuck replica would keep extending it).
    assert.equal(await t.gatehouse.services.sessions.tryLock(userLock('dave'), 'stuck-replica', 60), true);
    try {
      const res = await firstFactor(t, { username: 'dave', password: PASSWORD });
      assert.equal(res.status, 503);
      assert.notEqual(res.body.message, AUTH_FAILED);
      assert.match(res.body.message, /try again/i);
      assert.equal(res.headers['retry-after'], '1');
      const attempts = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
        username: 'dave',
        since: new Date(0),
        limit: 10,
      });
      assert.deepEqual(
        attempts.map((a) => [a.successful, a.banned]),
        [[false, true]],
        'logged as refused (never counted)',
      );
    } finally {
      await t.gatehouse.services.sessions.unlock(userLock('dave'), 'stuck-replica');
    }
    assert.equal(
      (await firstFactor(t, { username: 'dave', password: PASSWORD })).status,
      200,
      'the wait counted nothing',
    );
  });

  it('a check slower than the lock lifetime keeps its lock (the holder extends it), and frees it when done', async () => {
    const sessions = t.gatehouse.services.sessions;
    // The running Gatehouse's own users, storage and Redis; the lock calls are only watched (to know when the
    // check holds the lock), and the lock lives a fraction of the slow check's time.
    let acquired = false;
    let released = false;
    const locks = {
      tryLock: async (name: string, owner: string, ttl: number) =>
        (acquired = (await sessions.tryLock(name, owner, ttl)) || acquired),
      extendLock: (name: string, owner: string, ttl: number) => sessions.extendLock(name, owner, ttl),
      unlock: (name: string, owner: string) => {
        released = true;
        return sessions.unlock(name, owner);
      },
    };
    const timings = { ttlSeconds: 0.3, refreshMs: 60, waitMs: 6_000 };
    const checker = new PasswordChecker(
      t.gatehouse.adapters.users,
      new Regulator(t.gatehouse.adapters.storage, t.loaded.config.regulation),
      locks,
      ['user'],
      timings,
    );
    const started = Date.now();
    const check = checker.check(
      { username: 'slow', password: PASSWORD, ip: '192.0.2.1', authType: '1FA', requestUri: '', requestMethod: '' },
      { failureFloorMs: 50 },
    );
    let takenWhileHeld = 0;
    let probes = 0;
    while (!released) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!acquired || released) continue;
      probes += 1;
      // An intruder's SET NX can only succeed after the holder's delete reached Redis, i.e. after unlock began.
      if (await sessions.tryLock(userLock('slow'), 'intruder', 5)) {
        if (!released) takenWhileHeld += 1;
        await sessions.unlock(userLock('slow'), 'intruder');
      }
    }
    const user = await check;
    const took = Date.now() - started;
    assert.equal(user?.username, 'slow');
    assert.ok(took > timings.ttlSeconds * 1000 * 3, `the check took only ${took} ms: too fast to show anything`);
    assert.ok(probes >= 5, `${probes} probes`);
    assert.equal(takenWhileHeld, 0, 'another owner took the lock while the check still held it');
    assert.equal(await sessions.tryLock(userLock('slow'), 'after', 5), true, 'freed once the check is done');
    await sessions.unlock(userLock('slow'), 'after');
  });

  it(`concurrent wrong guesses are still banned at max_retries (${MAX_RETRIES}), and then the right password is refused`, async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => firstFactor(t, { username: 'erin', password: `wrong-${i}` })),
    );
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [401], 'every guess waited for its turn and failed');
    const attempts = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
      username: 'erin',
      since: new Date(0),
      limit: 100,
    });
    assert.equal(
      attempts.filter((a) => !a.banned).length,
      MAX_RETRIES,
      'exactly max_retries guesses were checked unbanned',
    );
    const banned = await firstFactor(t, { username: 'erin', password: PASSWORD });
    assert.equal(banned.status, 401);
    assert.equal(banned.body.message, AUTH_FAILED);
  });
});
