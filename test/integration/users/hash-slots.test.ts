// A burst of password checks against a real Gatehouse whose replica verifies one hash at a time
// (`authentication_backend.file.password.concurrent_checks: 1`, argon2id at Authelia's default cost): those that find
// no room in the queue are answered 503 "try again" with Retry-After, on the portal and on the authz endpoint alike;
// the others are answered as usual; nothing is a 500, and the replica goes on answering.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, firstFactor, signIn } from '../../helpers/flows.js';

/** Enough at once to fill one slot and its 16 places in the queue, however the requests are interleaved. */
const BURST = 40;

describe('password checks beyond what the replica verifies at once', () => {
  let t: TestGatehouse;

  beforeAll(async () => {
    t = await startGatehouse({
      config: {
        authentication_backend: {
          // Unknown users are verified against a dummy hash of this cost: each check holds the one slot a while.
          file: { password: { concurrent_checks: 1, argon2: { memory: 65536, iterations: 3, parallelism: 4 } } },
        },
      },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('the portal: a full queue is answered 503 with Retry-After, the rest 401; none is a 500', async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => firstFactor(t, { username: `nobody-${i}`, password: 'wrong' })),
    );
    const statuses = answers.map((res) => res.status);
    const busy = answers.filter((res) => res.status === 503);
    assert.ok(busy.length > 0, `no 503 among ${statuses.join(',')}`);
    assert.ok(statuses.filter((status) => status === 401).length >= 2, statuses.join(','));
    assert.deepEqual([...new Set(statuses)].sort(), [401, 503]);
    for (const res of busy) {
      assert.equal(res.headers['retry-after'], '1');
      assert.match(JSON.stringify(res.body), /Too many sign-ins are being checked right now/);
    }
    // The burst is over: the replica checks passwords again.
    assert.ok(await signIn(t, 'john'));
  });

  it('Basic credentials on the authz endpoint: 503 with Retry-After when the queue is full, never a pass', async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        authRequest(t, 'https://app.example.com/', { headers: { Authorization: basic(`nobody-b${i}`, 'wrong') } }),
      ),
    );
    const statuses = answers.map((res) => res.status);
    assert.ok(statuses.includes(503), statuses.join(','));
    assert.ok(!statuses.includes(200) && !statuses.includes(500), statuses.join(','));
    for (const res of answers.filter((r) => r.status === 503)) assert.equal(res.headers['retry-after'], '1');
  });
});
