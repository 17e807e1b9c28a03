// Issue 10 §1 + §3: the session cache on a Redis Cluster. A real cluster (three primaries, one replica each) and two
// Gatehouse replicas with the cache on (the default). Each replica follows every primary with a tracking feed of its
// own; the cache answers alone only while all of them are up and the cluster's layout is the one they follow.
// Measured and printed: how soon a session ended on replica a is refused on replica b (p50/p99 over sessions spread
// over all three primaries; the bound is asserted: at p99, no load begun 50 ms after the end is allowed). Asserted for correctness: warm loads send
// Redis nothing; a feed lost, a slot moved, a primary killed under load each drop the whole cache; no ended session is
// ever allowed from a stale entry; the cache is trusted again once every primary is followed.
import { describe, it, beforeAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest } from '../../helpers/flows.js';
import type { RedisClusterUnderTest } from '../../helpers/redis-cluster.js';
import { infoField } from '../../helpers/redis-server.js';
import { onRedisCluster, twoReplicas } from '../../helpers/two-replicas.js';
import { sessionKeyPrefix, sessionStoreKey } from '../../../src/session/crypto.js';
import type { Session } from '../../../src/session/model.js';
import { SessionService, type NewSessionData } from '../../../src/session/service.js';
import { configSchema } from '../../../src/config/schema.js';
import { RedisClusterInvalidationFeed } from '../../../src/session/cluster-invalidation.js';
import { clusterNodeClientOptions, createRedisSessionStore } from '../../../src/session/redis-store.js';
import { SessionCache } from '../../../src/session/session-cache.js';

const TARGET = 'https://app.example.com/'; // a one_factor rule in the test configuration
const KEY_PREFIX = `gh_cluster_cache_${process.pid}:`;
/** The bound on how soon every replica refuses an ended session, at the 99th percentile. */
const REVOCATION_P99_MS = 50;
const REVOCATION_SAMPLES = 120;
/** Generous, for what is not the figure: a refusal under load, a failover, the cache trusted again. */
const BOUND_MS = 30_000;

const john: NewSessionData = {
  username: 'john',
  displayName: 'John Doe',
  emails: ['john@example.com'],
  groups: ['dev'],
  level: 1,
  rememberMe: false,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One turn of the event loop: lets socket reads (an invalidation report) in between two loads. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = BOUND_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(5);
  }
}

/**
 * During a failover a store command may fail (503 to a request): the user's index or the session may live on the
 * lost primary. An operator's or a user's sign-out is then tried again; so is it here.
 */
async function retrying(action: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    try {
      await action();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('issue 10: the session cache on a Redis Cluster, two replicas', () => {
  let cluster: RedisClusterUnderTest;
  let a: TestGatehouse;
  let b: TestGatehouse;
  twoReplicas(onRedisCluster(KEY_PREFIX, 'postgres'), (up) => ({ cluster, a, b } = up));
  beforeAll(() => until('both caches trusted', () => trusted(a) && trusted(b)));

  const sessions = (t: TestGatehouse) => t.gatehouse.services.sessions;
  const trusted = (t: TestGatehouse) => sessions(t).cache.trusted;
  const cookieDomain = () => a.loaded.cookies.find((c) => c.domain === 'example.com')!;
  const cookieOf = (session: Session) => `${cookieDomain().name}=${session.id}`;
  const primaryOf = (session: Session) => cluster.primaryPortOf(sessionStoreKey(KEY_PREFIX, session.id));
  const live = async () => (await cluster.clusterNodes()).filter((node) => !node.failed);

  /** GETs every primary has answered so far (INFO commandstats): the store's only read of a session. */
  async function sessionReads(): Promise<number> {
    let total = 0;
    for (const node of (await live()).filter((n) => n.primary)) {
      const stats = await cluster.withNode(node.port, (r) => r.info('commandstats'));
      total += Number(/calls=(\d+)/.exec(infoField(stats, 'cmdstat_get') ?? 'calls=0')![1]);
    }
    return total;
  }

  /**
   * At least `count` sessions made on a, and more until every primary holds some (their IDs are random), or the
   * primaries that have a replica with `replicated`.
   */
  async function spreadSessions(count: number, data = john, replicated = false) {
    const view = await live();
    const primaries = view.filter(
      (n) => n.primary && n.slots.length > 0 && (!replicated || view.some((r) => r.primaryId === n.id)),
    );
    const covered = (made: { port: number }[]) => primaries.every((p) => made.some((m) => m.port === p.port));
    const made: { session: Session; port: number }[] = [];
    while (made.length < count || !covered(made)) {
      const session = await sessions(a).create(data, cookieDomain());
      made.push({ session, port: await primaryOf(session) });
    }
    return made;
  }

  /** Loads on `t` until the load is answered from its cache (a hit), so the next ones are too. */
  async function warm(t: TestGatehouse, session: Session): Promise<void> {
    await until('warm', async () => {
      const hits = sessions(t).cache.counters.hits;
      assert.ok(await sessions(t).load([session.id], cookieDomain()), 'the session loads');
      return sessions(t).cache.counters.hits > hits;
    });
  }

  it('each replica follows every primary with its own tracking connection (broadcast mode), and no replica node', async () => {
    for (const node of await live()) {
      const clients = String(await cluster.withNode(node.port, (r) => r.call('CLIENT', 'LIST'))).split('\n');
      const tracking = clients.filter((line) => line.includes('name=gatehouse-tracking '));
      const subscribers = clients.filter((line) => line.includes('name=gatehouse-invalidation '));
      if (node.primary) {
        assert.equal(tracking.length, 2, `port ${node.port}: one tracking connection per Gatehouse`);
        assert.equal(subscribers.length, 2, `port ${node.port}: one subscriber per Gatehouse`);
        for (const line of tracking) {
          const flags = /flags=(\S+)/.exec(line)![1]!;
          assert.ok(flags.includes('t') && flags.includes('B'), `tracking in broadcast mode: flags=${flags}`);
        }
      } else assert.equal(tracking.length + subscribers.length, 0, `replica ${node.port} is not followed`);
    }
    assert.equal(trusted(a), true);
    assert.equal(trusted(b), true);
  });

  it('warm loads of sessions on every primary send Redis no command', async () => {
    const made = await spreadSessions(30);
    for (const { session } of made) await warm(b, session);
    const reads = await sessionReads();
    const hits = sessions(b).cache.counters.hits;
    for (let round = 0; round < 20; round++)
      for (const { session } of made) assert.ok(await sessions(b).load([session.id], cookieDomain()));
    assert.equal(await sessionReads(), reads, 'no GET reached any primary');
    assert.equal(sessions(b).cache.counters.hits - hits, 20 * made.length);
    // Through the authz endpoint too: answered, as its user.
    const res = await authRequest(b, TARGET, { cookie: cookieOf(made[0]!.session) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
  });

  it(`sign-out, level change and "sign out everywhere" on a are refused on b within ${REVOCATION_P99_MS} ms at p99, on every primary`, async () => {
    const kinds = ['sign-out', 'level change', 'revoke'] as const;
    const made = await spreadSessions(REVOCATION_SAMPLES, john);
    const delays: number[] = [];
    const refusedBy: number[] = [];
    const byPrimary = new Map<number, number>();
    for (const [i, { session, port }] of made.entries()) {
      const kind = kinds[i % kinds.length]!;
      byPrimary.set(port, (byPrimary.get(port) ?? 0) + 1);
      // The revoked user's only session is this one: give it a user of its own.
      let target = session;
      if (kind === 'revoke') target = await sessions(a).create({ ...john, username: `revoked-${i}` }, cookieDomain());
      await warm(b, target);
      if (kind === 'sign-out') {
        const res = await request(a.url)
          .post('/api/logout')
          .set('Host', 'auth.example.com')
          .set('Origin', 'https://auth.example.com')
          .set('Cookie', cookieOf(target));
        assert.equal(res.status, 200);
      } else if (kind === 'level change') {
        const current = (await sessions(a).load([target.id], cookieDomain()))!;
        assert.ok(await sessions(a).regenerate({ ...current, data: { ...current.data, level: 2 } }, cookieDomain()));
      } else assert.equal(await sessions(a).revokeUser(target.data.username), 1);
      const endedAt = performance.now();
      // Loads on b, one per turn of its event loop, until one answers "no session". The last one allowed began
      // before b had heard of the end (a lower bound: what the figure is about, no request begun later was
      // allowed); the refusal was answered after it had (an upper bound, which adds a read from Redis).
      let lastAllowedAt = endedAt;
      for (;;) {
        const startedAt = performance.now();
        if (!(await sessions(b).load([target.id], cookieDomain()))) break;
        lastAllowedAt = startedAt;
        if (startedAt - endedAt > BOUND_MS) assert.fail(`${kind}: still allowed on b after ${BOUND_MS} ms`);
        await turn();
      }
      refusedBy.push(performance.now() - endedAt);
      delays.push(Math.max(0, lastAllowedAt - endedAt));
      if (i < kinds.length) assert.equal((await authRequest(b, TARGET, { cookie: cookieOf(target) })).status, 401);
    }
    delays.sort((x, y) => x - y);
    refusedBy.sort((x, y) => x - y);
    const figures = (values: number[]) =>
      `p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms, max ${values.at(-1)!.toFixed(2)} ms`;
    console.log(
      `ended on a, seen on b (${delays.length} sessions over primaries ${JSON.stringify(Object.fromEntries(byPrimary))}): ` +
        `last allowed load began ${figures(delays)} after the end; refusal answered by ${figures(refusedBy)}`,
    );
    assert.ok(
      percentile(delays, 99) < REVOCATION_P99_MS,
      `p99 ${percentile(delays, 99).toFixed(2)} ms within ${REVOCATION_P99_MS} ms`,
    );
  });

  it("one primary's feed lost (CLIENT KILL): the whole cache is dropped, and trusted again once it is back", async () => {
    const made = await spreadSessions(12);
    for (const { session } of made) await warm(b, session);
    const victim = made[0]!.port;
    const elsewhere = made.find((m) => m.port !== victim)!.session;
    const resets = sessions(b).cache.counters.resets;
    const list = String(await cluster.withNode(victim, (r) => r.call('CLIENT', 'LIST')));
    const ids = list
      .split('\n')
      .filter((line) => line.includes('name=gatehouse-tracking '))
      .map((line) => /id=(\d+)/.exec(line)![1]!);
    for (const id of ids) await cluster.withNode(victim, (r) => r.call('CLIENT', 'KILL', 'ID', id));
    await until('the cache dropped', () => sessions(b).cache.counters.resets > resets);
    await until('trusted again', () => trusted(a) && trusted(b));
    // Nothing read before the loss answers alone: a session on another primary is read from Redis once, then warm.
    const reads = await sessionReads();
    assert.ok(await sessions(b).load([elsewhere.id], cookieDomain()));
    assert.equal(await sessionReads(), reads + 1);
    assert.ok(await sessions(b).load([elsewhere.id], cookieDomain()));
    assert.equal(await sessionReads(), reads + 1);
  });

  it('a slot moved to another primary (the layout changed): the cache is dropped, then trusted again', async () => {
    const made = await spreadSessions(6);
    for (const { session } of made) await warm(b, session);
    const resetsA = sessions(a).cache.counters.resets;
    const resetsB = sessions(b).cache.counters.resets;
    const primaries = (await live()).filter((n) => n.primary && n.slots.length > 0);
    assert.equal(await cluster.moveEmptySlots(primaries[0]!.port, primaries[1]!.port, 1), 1);
    await until(
      'both caches dropped',
      () => sessions(a).cache.counters.resets > resetsA && sessions(b).cache.counters.resets > resetsB,
    );
    await until('trusted again', () => trusted(a) && trusted(b));
    const reads = await sessionReads();
    assert.ok(await sessions(b).load([made[0]!.session.id], cookieDomain()));
    assert.equal(await sessionReads(), reads + 1, 'read from Redis once after the change');
  });

  it('primaries refusing client tracking (an ACL without CLIENT): one warning per node naming it, cache off', async () => {
    const primaries = (await live()).filter((n) => n.primary);
    for (const node of primaries)
      await cluster.withNode(node.port, (r) =>
        r.call('ACL', 'SETUSER', 'no-tracking', 'on', '>a-password', '~*', '&*', '+@all', '-client'),
      );
    const config = configSchema.shape.session
      .unwrap()
      .shape.redis.unwrap()
      .parse({ key_prefix: KEY_PREFIX, cluster: { nodes: cluster.nodes } });
    const store = createRedisSessionStore(config);
    const cache = new SessionCache({ maxEntries: 100, maxBytes: 1_000_000 });
    const warnings: { node?: string; message: string }[] = [];
    const feed = new RedisClusterInvalidationFeed({
      cluster: store.client,
      nodeOptions: (node) =>
        clusterNodeClientOptions({ ...config, username: 'no-tracking', password: 'a-password' }, node),
      prefix: sessionKeyPrefix(KEY_PREFIX),
      sink: cache,
      logger: {
        info: () => undefined,
        warn: (fields: { node?: string }, message: string) => warnings.push({ node: fields.node, message }),
      } as never,
    });
    const service = new SessionService(store, {
      secret: 'a-test-session-secret-of-at-least-32-chars',
      keyPrefix: KEY_PREFIX,
      cache,
    });
    feed.start();
    try {
      await until('a warning from every primary', () => warnings.length >= primaries.length);
      await sleep(500);
      assert.equal(warnings.length, primaries.length, 'once per node, not per retry');
      assert.deepEqual(
        warnings.map((w) => Number(w.node!.split(':').at(-1))).sort(),
        primaries.map((n) => n.port).sort(),
      );
      for (const w of warnings) assert.match(w.message, /refused client tracking/);
      const session = await service.create(john, cookieDomain());
      const reads = await sessionReads();
      for (let i = 0; i < 3; i++) assert.ok(await service.load([session.id], cookieDomain()));
      assert.equal(await sessionReads(), reads + 3, 'every load read Redis');
      assert.equal(feed.trusted, false);
    } finally {
      await feed.close();
      await store.close();
      for (const node of primaries) await cluster.withNode(node.port, (r) => r.call('ACL', 'DELUSER', 'no-tracking'));
    }
  });

  it('a primary added and given slots: the cache is dropped, the new primary is followed and reports its changes', async () => {
    const dropped = async (what: string, before: number[]) => {
      await until(what, () => [a, b].every((t, i) => sessions(t).cache.counters.resets > before[i]!));
      await until('trusted again', () => trusted(a) && trusted(b));
    };
    const resets = () => [a, b].map((t) => sessions(t).cache.counters.resets);
    let before = resets();
    const port = await cluster.addPrimary();
    await dropped('both caches dropped when the primary joined', before);
    const clients = String(await cluster.withNode(port, (r) => r.call('CLIENT', 'LIST'))).split('\n');
    assert.equal(clients.filter((line) => line.includes('name=gatehouse-tracking ')).length, 2, 'followed by both');
    before = resets();
    const from = (await live()).find((n) => n.primary && n.slots.length > 0)!.port;
    assert.ok((await cluster.moveEmptySlots(from, port, 300)) > 0);
    await dropped('both caches dropped when slots moved to it', before);
    // A session that lands on the new primary: warm on b, ended on a, refused on b by the new primary's report.
    let session: Session | undefined;
    for (let i = 0; i < 5_000 && session === undefined; i++) {
      const made = await sessions(a).create(john, cookieDomain());
      if ((await primaryOf(made)) === port) session = made;
    }
    assert.ok(session, 'a session on the new primary');
    await warm(b, session);
    await sessions(a).destroy(session);
    await until(
      'refused on b',
      async () => (await sessions(b).load([session.id], cookieDomain())) === undefined,
      1_000,
    );
  });

  it('a primary killed under load: cache dropped, no ended session ever allowed, trusted again after the failover', async () => {
    interface Visitor {
      session: Session;
      port: number;
      /** When its end was acknowledged (performance.now()), if it was ended. */
      endedAt?: number;
    }
    interface Answer {
      visitor: Visitor;
      startedAt: number;
      status: number;
      user: unknown;
    }
    const visitors: Visitor[] = await spreadSessions(30, john, true);
    // Ended before the load starts: never allowed at all.
    const endedBefore = visitors.slice(0, 6);
    for (const v of endedBefore) {
      await sessions(a).destroy(v.session);
      v.endedAt = performance.now();
    }
    await cluster.waitForReplication();
    const liveVisitors = visitors.slice(6);
    // Only a primary with a replica can be replaced (the one added above has none).
    const view = await live();
    const replaceable = new Set(
      view.filter((n) => n.primary && view.some((r) => r.primaryId === n.id)).map((n) => n.port),
    );
    const counts = new Map<number, number>();
    for (const v of liveVisitors) if (replaceable.has(v.port)) counts.set(v.port, (counts.get(v.port) ?? 0) + 1);
    const victim = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    const onVictim = liveVisitors.filter((v) => v.port === victim);
    const elsewhere = liveVisitors.filter((v) => v.port !== victim);
    for (const v of liveVisitors) {
      await warm(a, v.session);
      await warm(b, v.session);
    }
    const resets = [sessions(a).cache.counters.resets, sessions(b).cache.counters.resets];

    const answers: Answer[] = [];
    let distrustedSeen = false;
    let running = true;
    let next = 0;
    const worker = (t: TestGatehouse) => async () => {
      while (running) {
        if (!trusted(t)) distrustedSeen = true;
        const visitor = visitors[next++ % visitors.length]!;
        const startedAt = performance.now();
        const res = await authRequest(t, TARGET, { cookie: cookieOf(visitor.session) });
        answers.push({ visitor, startedAt, status: res.status, user: res.headers['remote-user'] });
      }
    };
    const load = Promise.all([a, b].flatMap((t) => Array.from({ length: 3 }, worker(t))));
    let promoted: number;
    try {
      await sleep(500);
      await cluster.killPrimary(victim);
      await until('both caches dropped', () => [a, b].every((t, i) => sessions(t).cache.counters.resets > resets[i]!));
      // Ended while the victim's feed is gone: on a surviving primary, through a; b must hear of it.
      for (const v of elsewhere.slice(0, 3)) {
        await retrying(() => sessions(a).destroy(v.session));
        v.endedAt = performance.now();
      }
      promoted = await cluster.waitForFailover(victim);
      // Ended on the promoted replica as soon as it serves: b's cache of these must not survive the failover.
      for (const v of onVictim.slice(0, 3)) {
        await retrying(() => sessions(a).destroy(v.session));
        v.endedAt = performance.now();
      }
      await until('both caches trusted again', () => trusted(a) && trusted(b));
      await sleep(500); // load on the recovered cluster, with the cache back
    } finally {
      running = false;
      await load;
    }
    console.log(
      `killed the primary on ${victim} (${onVictim.length} of ${liveVisitors.length} live sessions), replica ${promoted} ` +
        `promoted; ${answers.length} authz answers: ${JSON.stringify(summary(answers.map((x) => x.status)))}`,
    );
    assert.ok(distrustedSeen, 'the load ran while a cache was distrusted');
    for (const answer of answers) {
      const { visitor, startedAt, status } = answer;
      assert.ok([200, 401, 503].includes(status), `status ${status}`);
      if (status === 200) assert.equal(answer.user, 'john');
      const ended = visitor.endedAt !== undefined && startedAt > visitor.endedAt;
      // An end is acknowledged with its report already on its way: a request begun well after it is refused. The
      // margin only absorbs the report and the request crossing on loopback; a stale entry would be allowed forever.
      if (ended && startedAt > visitor.endedAt! + 1_000) assert.notEqual(status, 200, 'an ended session was allowed');
      if (endedBefore.includes(visitor)) assert.notEqual(status, 200, 'a session ended before the load was allowed');
    }
    // Warm again without Redis on the new layout, and the ended sessions stay refused on both replicas.
    const survivor = onVictim.find((v) => v.endedAt === undefined)!;
    await warm(b, survivor.session);
    const reads = await sessionReads();
    assert.ok(await sessions(b).load([survivor.session.id], cookieDomain()));
    assert.equal(await sessionReads(), reads);
    for (const v of visitors.filter((x) => x.endedAt !== undefined))
      for (const t of [a, b]) assert.equal((await authRequest(t, TARGET, { cookie: cookieOf(v.session) })).status, 401);
  });
});

function summary(statuses: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
