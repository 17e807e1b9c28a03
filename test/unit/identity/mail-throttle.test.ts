// The mail throttle claims the user's slot in the shared lock, for the interval, and fails closed.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { MailThrottle } from '../../../src/identity/mail-throttle.js';
import { SessionStoreUnavailableError } from '../../../src/observability/backend-errors.js';
import type { AttemptLocks } from '../../../src/users/password-check.js';

/** A lock table like the session store's SET NX (without expiry: the TTL is only recorded). */
function lockTable() {
  const held = new Map<string, { owner: string; ttl: number }>();
  const locks: AttemptLocks = {
    tryLock: async (name, owner, ttl) => {
      if (held.has(name)) return false;
      held.set(name, { owner, ttl });
      return true;
    },
    extendLock: async () => false,
    unlock: async (name, owner) => {
      if (held.get(name)?.owner === owner) held.delete(name);
    },
  };
  return { held, locks };
}

describe('MailThrottle', () => {
  it('one slot per user, held for the interval, given back on release', async () => {
    const { held, locks } = lockTable();
    const throttle = new MailThrottle(locks, 10);
    const slot = await throttle.claim('ann');
    assert.ok(slot);
    assert.deepEqual(
      [...held.values()].map((h) => h.ttl),
      [10],
    );
    assert.equal(await throttle.claim('ann'), undefined);
    assert.ok(await throttle.claim('ben'));
    await slot.release();
    assert.ok(await throttle.claim('ann'));
  });

  it('a late release never frees a newer claim', async () => {
    const { held, locks } = lockTable();
    const throttle = new MailThrottle(locks, 10);
    const old = await throttle.claim('ann');
    held.clear(); // the old slot's TTL ran out
    assert.ok(await throttle.claim('ann'));
    await old!.release();
    assert.equal(await throttle.claim('ann'), undefined);
  });

  it('fails closed: a store that cannot answer rejects the claim; a failed release is not an error', async () => {
    const down = new SessionStoreUnavailableError(new Error('connection refused'));
    const throttle = new MailThrottle(
      {
        tryLock: () => Promise.reject(down),
        extendLock: () => Promise.reject(down),
        unlock: () => Promise.reject(down),
      },
      10,
    );
    await assert.rejects(throttle.claim('ann'), SessionStoreUnavailableError);
    const { locks } = lockTable();
    const slot = await new MailThrottle({ ...locks, unlock: () => Promise.reject(down) }, 10).claim('ann');
    await slot!.release();
  });
});
