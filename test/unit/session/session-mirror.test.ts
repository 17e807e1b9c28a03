// The session cache's mirror (docs/design/authz-isolate.md, step 1): replaying the cache's changes in order rebuilds
// exactly the set of sessions the cache may answer for alone, through a real MessagePort too; a silent owner is
// never trusted; a mirrored session's own deadlines are checked as the owner checks them.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { CookieSettings } from '../../../src/config/cookies.js';
import type { SessionData } from '../../../src/session/model.js';
import { type FreshChange, SessionCache } from '../../../src/session/session-cache.js';
import { type MirrorMessage, monotonicMs, SessionMirror } from '../../../src/session/session-mirror.js';
import { feedMirror } from '../../../src/session/mirror-feed.js';
import { testCookie, testSessionData } from '../../helpers/session-cookie.js';

const sid = (name: string): string => createHash('sha256').update(name).digest('base64url');
const NOW = 1_700_000_000_000;
/** example.com: an hour long, five minutes' inactivity. */
const COOKIE: CookieSettings = testCookie();

function data(username: string, overrides: Partial<SessionData> = {}): SessionData {
  return testSessionData({
    username,
    displayName: username,
    level: 2,
    createdAt: NOW - 1000,
    lastActivity: NOW - 1000,
    ...overrides,
  });
}

/** A clock the test moves. */
function clock(start = 0) {
  let now = start;
  return { read: () => now, advance: (ms: number) => (now += ms) };
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('replayed in order, the changes rebuild the fresh set exactly', () => {
  it('over random sequences of reads, racing invalidations, evictions, forgets, resets and trust changes', () => {
    const ids = Array.from({ length: 12 }, (_, i) => sid(`s${i}`));
    const keyOf = (id: string) => `key-${id.slice(0, 8)}`;
    // The comparison must not pass vacuously: count the checks where the cache held fresh sessions.
    let checkedWithFresh = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
      // Small bounds, so that evictions by count and by bytes happen.
      const cache = new SessionCache({ maxEntries: 6, maxBytes: 6 * 1200 });
      const time = clock();
      let mirror: SessionMirror | undefined;
      const start = Math.floor(next() * 50);
      // Reads begun in one step and given back in a later one, across invalidations, resets and trust changes.
      const open: { id: string; ticket: ReturnType<SessionCache['begin']> }[] = [];
      for (let step = 0; step < 300; step++) {
        // The mirror starts watching part-way through: the snapshot `watch` sends must be enough.
        if (step === start) {
          const watcher = new SessionMirror({ maxSilenceMs: 1000 }, time.read);
          cache.watch((change) => watcher.apply(change));
          watcher.apply({ kind: 'beat', at: time.read() });
          mirror = watcher;
        }
        const id = pick(ids);
        const roll = next();
        if (roll < 0.2) open.push({ id, ticket: cache.begin(keyOf(id)) });
        else if (roll < 0.4 && open.length > 0) {
          const { id: read, ticket } = open.splice(Math.floor(next() * open.length), 1)[0]!;
          const blob = 'b'.repeat(next() < 0.1 ? 2000 : 100);
          cache.store(read, ticket, { key: keyOf(read), blob, data: data(read.slice(0, 6)) });
        } else if (roll < 0.5) {
          // A read and its answer in one step, now and then raced by a change of its key.
          const ticket = cache.begin(keyOf(id));
          if (next() < 0.2) cache.invalidate([keyOf(id)]);
          cache.store(id, ticket, { key: keyOf(id), blob: 'b'.repeat(100), data: data(id.slice(0, 6)) });
        } else if (roll < 0.65) cache.invalidate([keyOf(id)]);
        else if (roll < 0.72) cache.forget(id);
        else if (roll < 0.8) cache.fresh(id, false);
        else if (roll < 0.85) cache.reset();
        else if (roll < 0.9) cache.setTrusted(false);
        else cache.setTrusted(true);

        if (mirror === undefined) continue;
        if (mirror.size > 0) checkedWithFresh++;
        for (const each of ids) {
          // A hit moves the entry in the LRU order: an ordinary use, whose later evictions the watcher reports.
          const inCache = cache.fresh(each, false) !== undefined;
          assert.equal(
            mirror.fresh(each, COOKIE, NOW) !== undefined,
            inCache,
            `seed ${seed}, step ${step}: ${each.slice(0, 6)} fresh in the cache ${inCache}, in the mirror ${!inCache}`,
          );
        }
      }
    }
    assert.ok(checkedWithFresh > 2000, `only ${checkedWithFresh} checks with fresh sessions`);
  });

  it('through a real MessagePort (structured clones, in order)', async () => {
    const cache = new SessionCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const time = clock();
    const mirror = new SessionMirror({ maxSilenceMs: 1000 }, time.read);
    const { port1, port2 } = new MessageChannel();
    let received = 0;
    mirror.apply({ kind: 'beat', at: time.read() });
    port2.on('message', (message: MirrorMessage) => {
      mirror.apply(message);
      received++;
    });
    let sent = 0;
    cache.watch((change: FreshChange) => {
      port1.postMessage(change);
      sent++;
    });
    const [a, b] = [sid('a'), sid('b')];
    cache.setTrusted(true);
    cache.store(a, cache.begin('ka'), { key: 'ka', blob: 'x', data: data('alice') });
    cache.store(b, cache.begin('kb'), { key: 'kb', blob: 'y', data: data('bob') });
    cache.invalidate(['ka']);
    try {
      while (received < sent) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(mirror.fresh(a, COOKIE, NOW), undefined, 'invalidated after it was filled');
      assert.equal(mirror.fresh(b, COOKIE, NOW)?.username, 'bob');
      cache.setTrusted(false);
      while (received < sent) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(mirror.fresh(b, COOKIE, NOW), undefined, 'the feed lost: nothing');
      assert.equal(mirror.size, 0);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('a silent owner is not trusted', () => {
  it("answers only within maxSilenceMs of the owner's last beat; a beat resumes it with nothing lost", () => {
    const time = clock(0);
    const mirror = new SessionMirror({ maxSilenceMs: 1000 }, time.read);
    const id = sid('alice');
    mirror.apply({ kind: 'fresh', id, data: data('alice') });
    assert.equal(mirror.fresh(id, COOKIE, NOW), undefined, 'no beat yet');
    mirror.apply({ kind: 'beat', at: time.read() });
    assert.equal(mirror.fresh(id, COOKIE, NOW)?.username, 'alice');
    time.advance(1000);
    assert.ok(mirror.listening);
    time.advance(1);
    assert.equal(mirror.listening, false);
    assert.equal(mirror.fresh(id, COOKIE, NOW), undefined, 'silent for longer than maxSilenceMs');
    // A change is not a beat: an owner back from a block may post one before it has read Redis's invalidations.
    mirror.apply({ kind: 'fresh', id: sid('bob'), data: data('bob') });
    assert.equal(mirror.fresh(id, COOKIE, NOW), undefined, 'a change after silence does not resume it');
    mirror.apply({ kind: 'beat', at: time.read() });
    assert.equal(mirror.fresh(id, COOKIE, NOW)?.username, 'alice');
  });

  it('counts silence from when a beat was sent, not from when it was read', () => {
    const time = clock(0);
    const mirror = new SessionMirror({ maxSilenceMs: 100 }, time.read);
    const id = sid('alice');
    mirror.apply({ kind: 'fresh', id, data: data('alice') });
    // A beat sent at 0 and read at 150 (the mirror's thread was busy): it vouches for nothing by then.
    time.advance(150);
    mirror.apply({ kind: 'beat', at: 0 });
    assert.equal(mirror.listening, false);
    assert.equal(mirror.fresh(id, COOKIE, NOW), undefined);
    // One sent at 120, read at 150: 30 ms old, so 70 ms of trust left.
    mirror.apply({ kind: 'beat', at: 120 });
    assert.ok(mirror.fresh(id, COOKIE, NOW));
    time.advance(71);
    assert.equal(mirror.listening, false);
    // A beat stamped later than now (it cannot be, on one clock) vouches only for now.
    mirror.apply({ kind: 'beat', at: time.read() + 10_000 });
    time.advance(101);
    assert.equal(mirror.listening, false);
  });

  it('monotonicMs is one clock in every thread', async () => {
    const { Worker } = await import('node:worker_threads');
    const before = monotonicMs();
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.postMessage(Number(process.hrtime.bigint()) / 1e6);",
      { eval: true },
    );
    const [there] = (await once(worker, 'message')) as [number];
    const after = monotonicMs();
    await worker.terminate();
    assert.ok(before <= there && there <= after, `${before} <= ${there} <= ${after}`);
  });
});

describe("a mirrored session's own deadlines, as the owner checks them", () => {
  const id = sid('alice');

  it('past its inactivity, past its absolute end, or for another cookie domain: not answered', () => {
    const cases: [string, SessionData, boolean][] = [
      ['alive', data('alice'), true],
      ['idle past inactivity', data('alice', { lastActivity: NOW - 301_000 }), false],
      ['past expiration', data('alice', { createdAt: NOW - 3_601_000, lastActivity: NOW }), false],
      ['another cookie domain', data('alice', { cookieDomain: 'other.example' }), false],
    ];
    for (const [name, session, answered] of cases) {
      const mirror = new SessionMirror({ maxSilenceMs: 1000 }, () => 0);
      mirror.apply({ kind: 'beat', at: 0 });
      mirror.apply({ kind: 'fresh', id, data: session });
      assert.equal(mirror.fresh(id, COOKIE, NOW) !== undefined, answered, name);
    }
  });
});

describe("the owner's feed (mirror-feed.ts)", () => {
  it('posts the changes in order and beats while running; after stop, nothing', async () => {
    const cache = new SessionCache({ maxEntries: 10, maxBytes: 1_000_000 });
    cache.setTrusted(true);
    const posted: MirrorMessage[] = [];
    const stop = feedMirror(cache, (message) => posted.push(message), { beatMs: 5 });
    const id = sid('alice');
    cache.store(id, cache.begin('ka'), { key: 'ka', blob: 'x', data: data('alice') });
    cache.invalidate(['ka']);
    assert.deepEqual(
      posted.map((message) => message.kind),
      ['none', 'fresh', 'stale'],
    );
    const started = monotonicMs();
    while (!posted.some((message) => message.kind === 'beat')) await new Promise((resolve) => setTimeout(resolve, 5));
    const beat = posted.find((message) => message.kind === 'beat') as { at: number };
    assert.ok(beat.at >= started && beat.at <= monotonicMs(), 'a beat says when it was sent');
    stop();
    const count = posted.length;
    cache.store(id, cache.begin('ka'), { key: 'ka', blob: 'y', data: data('alice') });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(posted.length, count, 'nothing after stop');
  });
});

describe('one watcher, and a feed that cannot post goes silent', () => {
  it('a second watcher is refused; the first, stopped, makes room', () => {
    const cache = new SessionCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const unwatch = cache.watch(() => {});
    assert.throws(() => cache.watch(() => {}), /already has a watcher/);
    unwatch();
    cache.watch(() => {})();
  });

  it('when post throws, the cache still changes, the error goes to onError, and nothing more is posted', async () => {
    const cache = new SessionCache({ maxEntries: 10, maxBytes: 1_000_000 });
    cache.setTrusted(true);
    const id = sid('alice');
    cache.store(id, cache.begin('ka'), { key: 'ka', blob: 'x', data: data('alice') });
    const errors: unknown[] = [];
    let posts = 0;
    feedMirror(
      cache,
      (message) => {
        posts++;
        if (message.kind === 'stale') throw new Error('cannot post');
      },
      { beatMs: 5, onError: (error) => errors.push(error) },
    );
    cache.invalidate(['ka']);
    assert.equal(cache.fresh(id, false), undefined, 'the revocation held in the cache itself');
    assert.equal(errors.length, 1);
    const after = posts;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(posts, after, 'no beat after the failure: the mirror hears silence');
  });
});
