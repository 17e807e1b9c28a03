// `npm run bench`: issue 10's one table. In one run, on this machine, at CONNECTIONS connections: the two node:http
// floors (no I/O; one Redis GET per request), Gatehouse's /api/authz/auth-request with the session cache off and
// warm and with 1,000 rules instead of 50 (all of them taking turns, ROUNDS times), then real nginx's auth_request
// in front of Gatehouse and in front of the bare server (in turns too); then the goals, met or not. Figures, not
// assertions: tests check correctness, people read speed. Knobs: BENCH_DURATION (s per target), BENCH_ROUNDS,
// BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_REDIS_URL (default: a private redis-server), BENCH_POSTGRES_URL,
// BENCH_CPU_PROF=DIR (a V8 profile of the warm Gatehouse).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { authzThreadConfigurable, type BenchGatehouse, sessionCacheConfigurable, startGatehouse } from './gatehouse.js';
import { CONNECTIONS, DURATION_S, type Figures, LOAD_GENERATOR, measureInTurns, ROUNDS, WARMUP_S } from './load.js';
import { type BenchNginx, nginxBinary, startNginx } from './nginx.js';
import type { Child } from './processes.js';
import { type Floor, startFloor } from './floors.js';
import { openBenchStorage } from './postgres.js';
import { openBenchRedis, type BenchRedis } from './redis.js';
import { type Goal, ratioGoal, renderTable, type Row } from './report.js';
import { BENCH_HOST, BENCH_URL } from './rule-sets.js';
import { measureRuleEvaluation } from './rules-scaling.js';

const SMALL = 50;
const LARGE = 1000;
/** Sessions signed in to weigh what one costs in Redis (the user index is shared by them). */
const WEIGHED_SESSIONS = 10;
/** Fewer Redis commands than this per request counts as none (a background command now and then is not per request). */
const NO_COMMANDS = 0.01;

function directTo(gatehouse: BenchGatehouse) {
  return {
    url: `http://127.0.0.1:${gatehouse.port}/api/authz/auth-request`,
    headers: gatehouse.authzHeaders,
    cpuPids: () => [gatehouse.child.pid],
    rssPid: gatehouse.child.pid,
  };
}

/** What the browser sends nginx: the app's host and the session cookie. */
function throughNginx(nginx: BenchNginx, cookie: string, upstream: Child, upstreamPort: number) {
  const url = new URL(BENCH_URL);
  return {
    url: `http://127.0.0.1:${nginx.port}${url.pathname}${url.search}`,
    headers: { Host: BENCH_HOST, Cookie: cookie },
    cpuPids: () => [upstream.pid],
    proxyPids: () => nginx.pids(),
    rssPid: upstream.pid,
    upstreamPort,
  };
}

/** Redis bytes (MEMORY USAGE) per signed-in session: its own key(s) plus its share of the user index. */
async function bytesPerSession(redis: BenchRedis, gatehouse: BenchGatehouse): Promise<string> {
  for (let i = 1; i < WEIGHED_SESSIONS; i++) await gatehouse.signIn();
  const byType = await redis.memoryByType(gatehouse.keyPrefix);
  const total = [...byType.values()].reduce((sum, entry) => sum + entry.bytes, 0);
  if (total === 0) return 'n/a (no keys found under the prefix)';
  const parts = [...byType].map(([type, entry]) => `${entry.keys} ${type} ${entry.bytes} B`).join(', ');
  return `${Math.round(total / WEIGHED_SESSIONS)} B per session (${WEIGHED_SESSIONS} sessions of one user: ${parts})`;
}

function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() said what it could
  }
  return `${cpus().length} cores (${model}), Node ${process.version}`;
}

const ratio = (a: Figures | string | undefined, b: Figures | string | undefined, pick: (f: Figures) => number) =>
  typeof a === 'object' && typeof b === 'object' ? pick(a) / pick(b) : undefined;

async function main(): Promise<void> {
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const redis = await openBenchRedis();
  const storage = await openBenchStorage();
  const cacheConfigurable = sessionCacheConfigurable();
  const nginx = nginxBinary();
  const stops: (() => Promise<void>)[] = [];
  const figures = new Map<string, Figures | string>();
  const rows: Row[] = [];
  const record = (key: string, name: string, value: Figures | string) => {
    figures.set(key, value);
    rows.push({ name, figures: value });
  };
  const footer: string[] = [];
  try {
    // Every server the direct runs compare, started first: they then take turns (measureInTurns).
    const bare = await startFloor('none', redis);
    stops.push(() => bare.child.stop());
    const bareGet = await startFloor('get', redis);
    stops.push(() => bareGet.child.stop());
    const bareSame = await startFloor('headers', redis);
    stops.push(() => bareSame.child.stop());
    // The same, in a process that first used ioredis, pg, Express and pino as a replica does (shared-isolate.ts).
    const bareShared = await startFloor('shared', redis, storage.url);
    stops.push(() => bareShared.child.stop());
    // That process again, the `headers` server in a worker thread's isolate: the floor an authz path kept apart from
    // the replica's clients could reach (docs/design/authz-isolate.md).
    const bareWorker = await startFloor('worker', redis, storage.url);
    stops.push(() => bareWorker.child.stop());
    // Gatehouse with every request reading Redis (the cache off; or no cache in this build).
    const cold = await startGatehouse(dir, redis, {
      storage,
      rules: SMALL,
      cacheEntries: cacheConfigurable ? 0 : undefined,
    });
    stops.push(() => cold.child.stop());
    footer.push(`Redis per signed-in session: ${await bytesPerSession(redis, cold)}`);
    // Gatehouse as shipped (the cache on by default), warm after its first warm-up.
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const warm = cacheConfigurable
      ? await startGatehouse(dir, redis, { storage, rules: SMALL, nodeArgs: profile })
      : undefined;
    if (warm) stops.push(() => warm.child.stop());
    // The warm one again with the signed identity token on (issue 11): what signing, cached per session, costs.
    const tokened = cacheConfigurable
      ? await startGatehouse(dir, redis, { storage, rules: SMALL, identityToken: true })
      : undefined;
    if (tokened) stops.push(() => tokened.child.stop());
    // The same with 1,000 rules, the request decided by the last.
    const large = await startGatehouse(dir, redis, { storage, rules: LARGE });
    stops.push(() => large.child.stop());
    // The warm one with its authz answered in a worker thread of its own (server.authz_thread, off by default):
    // whether keeping the authz isolate apart pays on this CPU (docs/design/authz-isolate.md).
    const threaded =
      cacheConfigurable && authzThreadConfigurable()
        ? await startGatehouse(dir, redis, { storage, rules: SMALL, authzThread: true })
        : undefined;
    if (threaded) stops.push(() => threaded.child.stop());

    const direct = [
      bareOf(bare),
      bareOf(bareGet),
      directTo(cold),
      { ...bareOf(bareSame), headers: cold.authzHeaders },
      { ...bareOf(bareShared), headers: cold.authzHeaders },
      { ...bareOf(bareWorker), headers: cold.authzHeaders },
      ...(warm ? [directTo(warm)] : []),
      directTo(large),
      ...(tokened ? [directTo(tokened)] : []),
      ...(threaded ? [directTo(threaded)] : []),
    ];
    const [bareFigures, bareGetFigures, coldFigures, bareSameFigures, bareSharedFigures, bareWorkerFigures, ...rest] =
      await measureInTurns(direct, redis);
    record('bare', 'bare node:http, no I/O', bareFigures!);
    record('bareGet', 'bare node:http + one Redis GET', bareGetFigures!);
    record('bareSame', 'bare node:http, authz request + pass headers', bareSameFigures!);
    record('bareShared', 'bare node:http, same, after ioredis/pg/express', bareSharedFigures!);
    record('bareWorker', 'bare node:http, same, its own worker isolate', bareWorkerFigures!);
    await bareGet.child.stop();
    await bareSame.child.stop();
    await bareShared.child.stop();
    await bareWorker.child.stop();
    const coldName = cacheConfigurable ? 'gatehouse authz, cache off (max_entries 0)' : 'gatehouse authz (no cache)';
    record('cold', coldName, coldFigures!);
    if (warm) record('warm', 'gatehouse authz, warm cache (default)', rest.shift()!);
    else record('warm', 'gatehouse authz, warm cache', 'n/a (session.redis.local_cache is not in this build)');
    const largeName = `gatehouse authz, ${LARGE.toLocaleString('en')} rules${warm ? ', warm cache' : ''}`;
    record('large', largeName, rest.shift()!);
    await large.child.stop();
    if (tokened) {
      record('token', 'gatehouse authz, warm cache + identity token', rest.shift()!);
      await tokened.child.stop();
    }
    if (threaded) {
      record('threaded', 'gatehouse authz, warm cache, authz_thread on', rest.shift()!);
      await threaded.child.stop();
      const vs = ratio(figures.get('threaded'), figures.get('warm'), (f) => f.cpuUsPerRequest);
      if (vs !== undefined)
        footer.push(`server.authz_thread on: ${vs.toFixed(2)}x the CPU per request of the default (off), in this run`);
    }
    const primary = warm ?? cold;
    if (warm) await cold.child.stop();
    const base = warm ? 'warm' : 'cold';

    // nginx's auth_request with the shipped snippets, in front of Gatehouse and in front of the bare server, in turns.
    if (nginx) {
      const url = new URL(BENCH_URL);
      const path = `${url.pathname}${url.search}`;
      const headers = { Host: BENCH_HOST, Cookie: primary.cookie };
      const toGatehouse = await startNginx(nginx, primary.port, path, headers);
      stops.push(() => toGatehouse.stop());
      const toBare = await startNginx(nginx, bare.port, path, headers);
      stops.push(() => toBare.stop());
      const [throughGatehouse, throughBare] = await measureInTurns(
        [
          throughNginx(toGatehouse, primary.cookie, primary.child, primary.port),
          throughNginx(toBare, primary.cookie, bare.child, bare.port),
        ],
        redis,
      );
      record('nginxGatehouse', `nginx auth_request -> gatehouse${warm ? ' (warm)' : ''}`, throughGatehouse!);
      record('nginxBare', 'nginx auth_request -> bare (empty body)', throughBare!);
    } else {
      record('nginxGatehouse', 'nginx auth_request -> gatehouse', 'n/a (nginx not installed)');
      record('nginxBare', 'nginx auth_request -> bare (empty body)', 'n/a (nginx not installed)');
    }

    const small = measureRuleEvaluation(SMALL);
    const many = measureRuleEvaluation(LARGE);
    footer.push(
      `rules engine alone (this process): ${small.rules} rules ${small.nsPerEvaluation.toFixed(0)} ns, ` +
        `${many.rules} rules ${many.nsPerEvaluation.toFixed(0)} ns per evaluation (decided by rule ${small.decidedBy} and ${many.decidedBy})`,
    );

    const warmFigures = figures.get('warm');
    const rssGoal = (name: string, keys: readonly string[]): Goal => {
      const rss = keys.flatMap((key) => {
        const f = figures.get(key);
        return typeof f === 'object' && Number.isFinite(f.maxRssBytes) ? [f.maxRssBytes] : [];
      });
      const max = rss.length ? Math.max(...rss) / 2 ** 20 : undefined;
      return {
        name,
        value: max === undefined ? undefined : `${max.toFixed(0)} MB`,
        target: '< 150 MB',
        met: max === undefined ? undefined : max < 150,
      };
    };
    const goals: Goal[] = [
      ratioGoal(
        'authz CPU/req vs bare no-I/O (today 2.5x)',
        ratio(warmFigures, figures.get('bare'), (f) => f.cpuUsPerRequest),
        1.3,
        true,
        'x',
      ),
      ratioGoal(
        'authz CPU/req vs bare, same request and answer',
        ratio(warmFigures, figures.get('bareSame'), (f) => f.cpuUsPerRequest),
        1.3,
        true,
        'x',
      ),
      // Not issue 10's goals: the floor a process that also holds a replica's clients can reach (shared-isolate.ts).
      ratioGoal(
        'authz CPU/req vs bare, same, shared isolate',
        ratio(warmFigures, figures.get('bareShared'), (f) => f.cpuUsPerRequest),
        1.3,
        true,
        'x',
      ),
      ratioGoal(
        'authz req/s vs bare, same, shared isolate',
        ratio(warmFigures, figures.get('bareShared'), (f) => f.rps),
        0.85,
        false,
        '%',
      ),
      ratioGoal(
        'authz CPU/req vs bare + GET',
        ratio(warmFigures, figures.get('bareGet'), (f) => f.cpuUsPerRequest),
        1.3,
        true,
        'x',
      ),
      ratioGoal(
        'authz req/s vs bare no-I/O',
        ratio(warmFigures, figures.get('bare'), (f) => f.rps),
        0.85,
        false,
        '%',
      ),
      ratioGoal(
        'authz req/s vs bare + GET',
        ratio(warmFigures, figures.get('bareGet'), (f) => f.rps),
        0.85,
        false,
        '%',
      ),
      {
        name: 'Redis commands per warm request',
        value: typeof warmFigures === 'object' ? warmFigures.redisCommandsPerRequest.toFixed(3) : undefined,
        target: `< ${NO_COMMANDS}`,
        met: typeof warmFigures === 'object' ? warmFigures.redisCommandsPerRequest < NO_COMMANDS : undefined,
      },
      ratioGoal(
        'nginx -> gatehouse vs nginx -> bare',
        ratio(figures.get('nginxGatehouse'), figures.get('nginxBare'), (f) => f.rps),
        0.9,
        false,
        '%',
      ),
      ratioGoal(
        `req/s with ${LARGE} rules vs ${SMALL}`,
        ratio(figures.get('large'), figures.get(base), (f) => f.rps),
        0.95,
        false,
        '%',
      ),
      ratioGoal(
        'identity token: CPU/req vs warm without',
        ratio(figures.get('token'), warmFigures, (f) => f.cpuUsPerRequest),
        1.15,
        true,
        'x',
      ),
      // Two rows, so neither hides the other: the shipped configuration (the cache on) in every run it serves, and
      // the cache switched off, whose per-request decoding grows V8's young generation.
      rssGoal('gatehouse RSS under load, as shipped (max)', ['warm', 'large', 'token', 'nginxGatehouse']),
      rssGoal('gatehouse RSS under load, cache off', ['cold']),
    ];
    footer.push(
      `${CONNECTIONS} connections; ${DURATION_S} s per target in ${ROUNDS} turns (best kept), after ${WARMUP_S} s of warm-up; load generator: ${LOAD_GENERATOR}`,
      `Redis: ${redis.private ? 'a private redis-server (only the bench counted)' : `shared at ${redis.host}:${redis.port} (command counts include its other clients)`}`,
      `storage: ${storage.description}`,
      `machine: ${machine()}; the load generator shares the cores, so runs vary: compare ratios within one run`,
      `bench took ${((Date.now() - began) / 1000).toFixed(0)} s`,
    );
    console.log(`\n${renderTable('npm run bench (issue 10)', rows, goals, footer)}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await redis.close();
    await storage.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

function bareOf(bare: Floor) {
  return {
    url: `http://127.0.0.1:${bare.port}/`,
    headers: {},
    cpuPids: () => [bare.child.pid],
    rssPid: bare.child.pid,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
