// The session cache's own rules, without Redis: when an entry may answer alone (fresh), how a change racing a read
// is caught, what losing the feed drops, and the bounds on entries and bytes.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SessionCache, type CachedSession } from '../../../src/session/session-cache.js';
import type { SessionData } from '../../../src/session/model.js';
import { testSessionData } from '../../helpers/session-cookie.js';
import { Metrics } from '../../../src/observability/metrics.js';

const LIMITS = { maxEntries: 100, maxBytes: 1_000_000 };

/** A session ID of the issued shape for a name (the cache holds no other). */
const sid = (name: string): string => createHash('sha256').update(name).digest('base64url');

function data(username = 'john'): SessionData {
  return testSessionData({ username, displayName: username });
}

function entry(key: string, blob = `blob-of-${key}`): CachedSession {
  return { key, blob, data: data() };
}

/** A trusted cache holding `id` fresh under `key`. */
function warm(id = sid('id1'), key = 'k1'): SessionCache {
  const cache = new SessionCache(LIMITS);
  cache.setTrusted(true);
  cache.store(id, cache.begin(key), entry(key));
  return cache;
}

describe('fresh entries: only while the feed is trusted, and since before the read', () => {
  it('an entry read while trusted answers alone; a hit and a miss are counted', () => {
    const cache = warm();
    assert.ok(cache.fresh(sid('id1')));
    assert.equal(cache.fresh(sid('other')), undefined);
    assert.deepEqual({ hits: cache.counters.hits, misses: cache.counters.misses }, { hits: 1, misses: 1 });
  });

  it('without a trusted feed nothing answers alone, but the memo is kept (same blob, no decoding)', () => {
    const cache = new SessionCache(LIMITS);
    cache.store(sid('id1'), cache.begin('k1'), entry('k1'));
    assert.equal(cache.fresh(sid('id1')), undefined);
    assert.equal(cache.memo(sid('id1'))?.blob, 'blob-of-k1');
  });

  it('losing the feed drops everything; regaining it does not make older entries fresh', () => {
    const cache = warm();
    cache.setTrusted(false);
    assert.equal(cache.size, 0);
    assert.equal(cache.counters.resets, 1);
    const ticket = cache.begin('k1');
    cache.setTrusted(true);
    // Read while distrusted, answered after trust came back: it may have missed an invalidation.
    cache.store(sid('id1'), ticket, entry('k1'));
    assert.equal(cache.fresh(sid('id1')), undefined);
  });

  it('an invalidation of the key while the read is in flight keeps the answer from being fresh', () => {
    const cache = new SessionCache(LIMITS);
    cache.setTrusted(true);
    const ticket = cache.begin('k1');
    cache.invalidate(['k1']);
    cache.store(sid('id1'), ticket, entry('k1'));
    assert.equal(cache.fresh(sid('id1')), undefined);
    // The next read, with nothing racing it, is fresh again.
    cache.store(sid('id1'), cache.begin('k1'), entry('k1'));
    assert.ok(cache.fresh(sid('id1')));
  });

  it('a read in flight may be shared (clean) only while its key is unchanged and the feed trusted throughout', () => {
    const cache = new SessionCache(LIMITS);
    assert.equal(cache.clean(cache.begin('k0')), false, 'no trusted feed: a change could go unreported');
    cache.setTrusted(true);
    const ticket = cache.begin('k1');
    assert.equal(cache.clean(ticket), true);
    cache.invalidate(['k2']);
    assert.equal(cache.clean(ticket), true, 'another key');
    cache.invalidate(['k1']);
    assert.equal(cache.clean(ticket), false, 'its key changed after the read was sent');
    const later = cache.begin('k1');
    assert.equal(cache.clean(later), true);
    cache.setTrusted(false);
    cache.setTrusted(true);
    assert.equal(cache.clean(later), false, 'the feed was lost meanwhile');
  });

  it('an invalidation of another key does not spoil the read', () => {
    const cache = new SessionCache(LIMITS);
    cache.setTrusted(true);
    const ticket = cache.begin('k1');
    cache.invalidate(['k2']);
    cache.store(sid('id1'), ticket, entry('k1'));
    assert.ok(cache.fresh(sid('id1')));
  });

  it('of two reads of one key in flight, an invalidation between them spoils only the earlier one', () => {
    const cache = new SessionCache(LIMITS);
    cache.setTrusted(true);
    const early = cache.begin('k1');
    cache.invalidate(['k1']);
    const late = cache.begin('k1');
    cache.store(sid('id1'), early, entry('k1'));
    assert.equal(cache.fresh(sid('id1')), undefined);
    cache.store(sid('id1'), late, entry('k1'));
    assert.ok(cache.fresh(sid('id1')));
  });

  it('an invalidation of a cached key ends its freshness (the memo stays for an identical blob)', () => {
    const cache = warm();
    cache.invalidate(['k1']);
    assert.equal(cache.fresh(sid('id1')), undefined);
    assert.equal(cache.memo(sid('id1'))?.key, 'k1');
    assert.equal(cache.counters.invalidations, 1);
  });

  it('a flush (reset) drops everything and spoils the reads in flight', () => {
    const cache = warm();
    const ticket = cache.begin('k2');
    cache.reset();
    assert.equal(cache.size, 0);
    cache.store(sid('id2'), ticket, entry('k2'));
    assert.equal(cache.fresh(sid('id2')), undefined);
  });

  it('forget removes an entry outright', () => {
    const cache = warm();
    cache.forget(sid('id1'));
    assert.equal(cache.memo(sid('id1')), undefined);
    assert.equal(cache.bytes, 0);
  });
});

describe('memory is bounded: entries and bytes, least recently used first out', () => {
  it('keeps at most max_entries, evicting the least recently used', () => {
    const cache = new SessionCache({ maxEntries: 3, maxBytes: 1_000_000 });
    cache.setTrusted(true);
    for (const n of [1, 2, 3]) cache.store(sid(`id${n}`), cache.begin(`k${n}`), entry(`k${n}`));
    assert.ok(cache.fresh(sid('id1'))); // id1 now most recently used: id2 goes first
    cache.store(sid('id4'), cache.begin('k4'), entry('k4'));
    assert.equal(cache.size, 3);
    assert.equal(cache.memo(sid('id2')), undefined);
    for (const id of [sid('id1'), sid('id3'), sid('id4')]) assert.ok(cache.memo(id), id);
  });

  it('keeps the byte count under max_bytes, and never holds an entry larger than the bound', () => {
    const cache = new SessionCache({ maxEntries: 1_000, maxBytes: 10_000 });
    cache.setTrusted(true);
    for (let n = 0; n < 100; n++) cache.store(sid(`id${n}`), cache.begin(`k${n}`), entry(`k${n}`, 'x'.repeat(500)));
    assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes`);
    assert.ok(cache.size > 0 && cache.size < 100, `${cache.size} entries`);
    cache.store(sid('huge'), cache.begin('kh'), entry('kh', 'x'.repeat(20_000)));
    assert.equal(cache.memo(sid('huge')), undefined);
    assert.ok(cache.bytes <= 10_000);
  });

  it('counts bytes back down as entries go', () => {
    const cache = warm();
    assert.ok(cache.bytes > 0);
    cache.setTrusted(false);
    assert.equal(cache.bytes, 0);
  });
});

describe('metrics: hits, misses and resets are counted for Prometheus', () => {
  it('gatehouse_session_cache_total{result} and gatehouse_session_cache_resets_total', async () => {
    const metrics = new Metrics();
    const cache = new SessionCache(LIMITS, metrics);
    cache.setTrusted(true);
    cache.store(sid('id1'), cache.begin('k1'), entry('k1'));
    cache.fresh(sid('id1'));
    cache.fresh(sid('id1'));
    cache.fresh(sid('nobody'));
    cache.reset();
    const text = await metrics.registry.metrics();
    assert.match(text, /gatehouse_session_cache_total\{result="hit"\} 2/);
    assert.match(text, /gatehouse_session_cache_total\{result="miss"\} 1/);
    assert.match(text, /gatehouse_session_cache_resets_total 1/);
  });
});

describe('what the cache holds', () => {
  it('never an ID of another shape than the issued one, so a hit proves the ID well formed', () => {
    const cache = new SessionCache(LIMITS);
    cache.setTrusted(true);
    for (const id of ['id1', `${sid('x')}=`, sid('x').slice(1), `${sid('x').slice(0, 42)}B`]) {
      cache.store(id, cache.begin('k1'), entry('k1'));
      assert.equal(cache.memo(id), undefined, id);
      assert.equal(cache.fresh(id), undefined, id);
    }
    assert.equal(cache.size, 0);
  });

  it('a hit on the most recent entry keeps the recency order (least recently used still goes first)', () => {
    const cache = new SessionCache({ maxEntries: 2, maxBytes: 1_000_000 });
    cache.setTrusted(true);
    cache.store(sid('a'), cache.begin('ka'), entry('ka'));
    cache.store(sid('b'), cache.begin('kb'), entry('kb'));
    assert.ok(cache.fresh(sid('b')));
    assert.ok(cache.fresh(sid('b')));
    assert.ok(cache.fresh(sid('a'))); // a is now the most recent: b goes first
    cache.store(sid('c'), cache.begin('kc'), entry('kc'));
    assert.equal(cache.memo(sid('b')), undefined);
    assert.ok(cache.memo(sid('a')));
    cache.forget(sid('c'));
    assert.ok(cache.fresh(sid('a')));
    cache.store(sid('d'), cache.begin('kd'), entry('kd'));
    cache.store(sid('e'), cache.begin('ke'), entry('ke'));
    assert.equal(cache.memo(sid('a')), undefined, 'a was the oldest once d and e came');
  });
});
