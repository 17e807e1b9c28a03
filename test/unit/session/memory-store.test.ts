import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { MemorySessionStore } from '../../../src/session/memory-store.js';
import { SessionStoreUnavailableError } from '../../../src/observability/backend-errors.js';

describe('the in-memory session store (one replica)', () => {
  it('forgets a key once its TTL has passed, when asked', async () => {
    let clock = 1_000_000;
    const store = new MemorySessionStore({ now: () => clock });
    await store.set('k', 'v', 2);
    clock += 1_999;
    assert.equal(await store.get('k'), 'v');
    clock += 1;
    assert.equal(await store.get('k'), null);
    assert.equal(store.size, 0);
    await store.close();
  });

  it('sweeps expired keys nobody asks for', async () => {
    let clock = 0;
    const store = new MemorySessionStore({ now: () => clock });
    await store.set('short', 'v', 1);
    await store.set('long', 'v', 100);
    clock = 5_000;
    store.sweep();
    assert.equal(store.size, 1);
    assert.equal(await store.get('long'), 'v');
    await store.close();
  });

  it('sweeps on its own timer', async () => {
    const store = new MemorySessionStore({ sweepIntervalMs: 20 });
    await store.set('k', 'v', 0.01);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(store.size, 0);
    await store.close();
  });

  it('treats a TTL of zero or less as a delete', async () => {
    const store = new MemorySessionStore();
    await store.set('k', 'v', 10);
    await store.set('k', 'v', 0);
    assert.equal(await store.get('k'), null);
    await store.close();
  });

  it('once closed, rejects as unavailable instead of answering "no session"', async () => {
    const store = new MemorySessionStore();
    await store.close();
    await assert.rejects(store.get('k'), SessionStoreUnavailableError);
    await assert.rejects(store.ping(), SessionStoreUnavailableError);
  });
});
