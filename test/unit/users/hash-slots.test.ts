// The replica's password-hash slots (src/users/hash-slots.ts): never more hashes at once than slots, queued attempts
// served in order, a full queue answered busy at once (a PasswordCheckBusyError: 503 "try again", never "wrong
// password"), and a slot given back whatever the hash did.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { defaultHashSlots, HashSlots, HashSlotsFullError } from '../../../src/users/hash-slots.js';
import { PasswordCheckBusyError } from '../../../src/users/password-check.js';

/** A hash the test finishes by hand. */
function pending() {
  let finish!: (value: boolean) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<boolean>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('hash slots', () => {
  it('runs at most `size` at once and the rest in the order they came', async () => {
    const slots = new HashSlots(2, 10);
    const hashes = Array.from({ length: 5 }, pending);
    const started: number[] = [];
    // Settled as they end (a rejection is this test's to see, not an unhandled one).
    const runs = hashes.map((hash, i) =>
      slots
        .run(() => {
          started.push(i);
          return hash.promise;
        })
        .then(
          () => 'fulfilled',
          () => 'rejected',
        ),
    );
    await turn();
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(slots.load, { running: 2, waiting: 3 });
    hashes[1]!.finish(true);
    await turn();
    assert.deepEqual(started, [0, 1, 2]);
    hashes[0]!.fail(new Error('hash failed'));
    await turn();
    assert.deepEqual(started, [0, 1, 2, 3], 'a failed hash gives its slot back too');
    for (const hash of hashes.slice(2)) hash.finish(false);
    assert.deepEqual(await Promise.all(runs), ['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    assert.deepEqual(slots.load, { running: 0, waiting: 0 });
  });

  it('a full queue is answered busy at once, and frees up as hashes end', async () => {
    const slots = new HashSlots(1, 2);
    const hashes = Array.from({ length: 3 }, pending);
    const runs = hashes.map((hash) => slots.run(() => hash.promise));
    await turn();
    let ran = false;
    await assert.rejects(
      slots.run(async () => (ran = true)),
      (error: Error) => error instanceof HashSlotsFullError && error instanceof PasswordCheckBusyError,
    );
    assert.equal(ran, false);
    hashes[0]!.finish(true);
    await turn();
    const fourth = slots.run(async () => 'fourth');
    for (const hash of hashes) hash.finish(true);
    assert.equal(await fourth, 'fourth');
    await Promise.all(runs);
    assert.deepEqual(slots.load, { running: 0, waiting: 0 });
  });

  it('the default leaves a core to the gate: between 1 and 3 slots, and 16 waiting per slot', () => {
    const size = defaultHashSlots();
    assert.ok(size >= 1 && size <= 3, String(size));
    const slots = new HashSlots();
    assert.equal(slots.size, size);
    assert.equal(slots.maxWaiting, size * 16);
    assert.throws(() => new HashSlots(0), /positive integer/);
    assert.throws(() => new HashSlots(1, Number.NaN), /whole number/);
  });
});
