// Issue 11 §1: a user's list of sessions over the in-memory store, on a clock the test moves: what is listed, how
// sessions are named (opaque handles), ending one or every other, and expired sessions leaving the index.
import { describe, it, beforeEach, afterEach } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemorySessionStore } from '../../../src/session/memory-store.js';
import { SessionService, type NewSessionData } from '../../../src/session/service.js';
import { hashedStoreKey } from '../../../src/session/crypto.js';
import { testCookie } from '../../helpers/session-cookie.js';

const cookie = testCookie({ rememberMe: 86_400 });
const cookieFor = (domain: string) => (domain === cookie.domain ? cookie : undefined);

function user(username: string, extra: Partial<NewSessionData> = {}): NewSessionData {
  return { username, displayName: username, emails: [], groups: [], level: 1, rememberMe: false, ...extra };
}

describe('issue 11 §1: listing and ending a user’s sessions', () => {
  let now: number;
  let store: MemorySessionStore;
  let sessions: SessionService;

  beforeEach(() => {
    now = Date.UTC(2026, 10, 27, 12);
    store = new MemorySessionStore({ now: () => now });
    sessions = new SessionService(store, { secret: 'a-unit-test-secret-of-enough-length', now: () => now });
  });
  afterEach(async () => {
    await store.close();
  });

  it('lists the live sessions of one user only, with their device, address, level and "this device"', async () => {
    const laptop = await sessions.create(
      user('john', { browser: 'Firefox 133', os: 'Linux', address: '192.0.2.10' }),
      cookie,
    );
    now += 60_000;
    const phone = await sessions.create(
      user('john', { level: 2, browser: 'Safari 17', os: 'iOS 17', address: '198.51.100.7' }),
      cookie,
    );
    await sessions.create(user('harry'), cookie);
    await sessions.create({ ...user(''), level: 0 }, cookie);

    const listed = await sessions.listUser('john', cookieFor, laptop);
    assert.equal(listed.length, 2);
    assert.equal(listed[0]!.current, true, 'this device comes first');
    assert.deepEqual(
      listed.map((s) => [s.browser, s.os, s.address, s.level, s.current, s.createdAt]),
      [
        ['Firefox 133', 'Linux', '192.0.2.10', 1, true, laptop.data.createdAt],
        ['Safari 17', 'iOS 17', '198.51.100.7', 2, false, phone.data.createdAt],
      ],
    );
    assert.equal(listed[0]!.handle, sessions.handleOf(laptop));
  });

  it('names sessions by an opaque handle: not the ID, not the store key, not the key hash', async () => {
    const s = await sessions.create(user('john'), cookie);
    const [listed] = await sessions.listUser('john', cookieFor);
    const handle = listed!.handle;
    assert.match(handle, /^[A-Za-z0-9_-]{22}$/);
    const key = hashedStoreKey('gatehouse:', 'session', s.id);
    for (const secretish of [s.id, key, key.split(':').pop()!, createHash('sha256').update(s.id).digest('base64url')])
      assert.ok(!secretish.includes(handle) && !handle.includes(secretish.slice(0, 22)));
    // Another secret, another handle: it is keyed.
    const other = new SessionService(store, { secret: 'another-unit-test-secret-of-length', now: () => now });
    assert.notEqual(other.handleOf(s), handle);
  });

  it('ends one session by its handle, and only in its own user’s list', async () => {
    const a = await sessions.create(user('john'), cookie);
    const b = await sessions.create(user('john'), cookie);
    const h = await sessions.create(user('harry'), cookie);
    assert.equal(
      await sessions.endByHandle('john', sessions.handleOf(h)),
      false,
      "harry's handle ends nothing for john",
    );
    assert.ok(await sessions.load([h.id], cookie));
    assert.equal(await sessions.endByHandle('john', 'not a handle'), false);
    assert.equal(await sessions.endByHandle('john', sessions.handleOf(b)), true);
    assert.equal(await sessions.load([b.id], cookie), undefined);
    assert.ok(await sessions.load([a.id], cookie));
    assert.equal(await sessions.endByHandle('john', sessions.handleOf(b)), false, 'already ended');
  });

  it('"sign out everywhere else" keeps only the current session', async () => {
    const keep = await sessions.create(user('john'), cookie);
    const others = [await sessions.create(user('john'), cookie), await sessions.create(user('john'), cookie)];
    const harry = await sessions.create(user('harry'), cookie);
    assert.equal(await sessions.endOthers('john', keep), 2);
    for (const s of others) assert.equal(await sessions.load([s.id], cookie), undefined);
    assert.ok(await sessions.load([keep.id], cookie));
    assert.ok(await sessions.load([harry.id], cookie));
    assert.deepEqual(
      (await sessions.listUser('john', cookieFor, keep)).map((s) => s.current),
      [true],
    );
  });

  it('a session past its inactivity or absolute end is not listed, and leaves the index', async () => {
    const idle = await sessions.create(user('john'), cookie);
    const busy = await sessions.create(user('john'), cookie);
    const index = hashedStoreKey('gatehouse:', 'user-sessions', 'john');
    now += 200_000;
    busy.data.lastActivity = now;
    await sessions.save(busy, cookie);
    now += 200_000; // idle: 400 s without activity > 300 s
    const listed = await sessions.listUser('john', cookieFor);
    assert.deepEqual(
      listed.map((s) => s.handle),
      [sessions.handleOf(busy)],
    );
    assert.deepEqual(await store.indexMembers(index), [hashedStoreKey('gatehouse:', 'session', busy.id)]);
    assert.equal(await sessions.load([idle.id], cookie), undefined);
    now += 3600_000; // past the absolute end too
    assert.deepEqual(await sessions.listUser('john', cookieFor), []);
    assert.deepEqual(await store.indexMembers(index), []);
  });

  it('a session of a cookie domain no longer configured is not listed', async () => {
    await sessions.create(user('john'), cookie);
    assert.deepEqual(await sessions.listUser('john', () => undefined), []);
  });
});
