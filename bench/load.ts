// One measured run: a load generator drives a URL (after a warm-up run), and around the measured part the bench reads
// what the server paid: CPU time of its processes, its resident memory (sampled), Redis commands, closed connections.
// The generator is wrk when the machine has it (a process of its own, light on the shared cores: wrk.ts), else
// autocannon in this process; BENCH_LOAD=autocannon chooses autocannon anyway.
import autocannon from 'autocannon';
import { cpuSeconds, findExecutable, rssBytes, timeWaitSockets } from './processes.js';
import type { BenchRedis } from './redis.js';
import { type LoadResult, type LoadRun, runWrk } from './wrk.js';

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** Measured seconds per target, split over the rounds. */
export const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
/** Warm-up before a target's first round (JIT, connections, the session cache); later rounds get one second. */
export const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
/** Targets compared with each other take turns this many times, so a burst of other work hits them alike. */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));

export interface Target {
  url: string;
  headers: Record<string, string>;
  /** The processes whose CPU time is charged to the run (the server measured; for nginx rows, the upstream). */
  cpuPids: () => number[];
  /** Further processes whose CPU is reported apart (nginx itself). */
  proxyPids?: () => number[];
  /** The process whose resident memory is sampled. */
  rssPid?: number;
  /** The port whose closed connections (TIME_WAIT) are counted: the upstream behind a proxy. */
  upstreamPort?: number;
}

/** What the load generator saw, and what the bench read of the server around it. */
export interface Figures extends LoadResult {
  cpuUsPerRequest: number;
  proxyCpuUsPerRequest: number;
  redisCommandsPerRequest: number;
  maxRssBytes: number;
  upstreamTimeWait: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const WRK = process.env.BENCH_LOAD === 'autocannon' ? undefined : findExecutable('wrk');

/** Which load generator drives the runs, for the report. */
export const LOAD_GENERATOR = WRK
  ? 'wrk, 1 thread, a process of its own'
  : "autocannon, in the bench process (install Debian's wrk for figures less disturbed by the generator)";

async function drive(run: LoadRun): Promise<LoadResult> {
  if (WRK) return runWrk(WRK, run);
  const result = await autocannon({
    url: run.url,
    connections: run.connections,
    headers: run.headers,
    duration: run.seconds,
  });
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** One warm-up, then one measured run of `seconds`. */
async function measureOnce(target: Target, redis: BenchRedis, warmupS: number, seconds: number): Promise<Figures> {
  const options = { url: target.url, connections: CONNECTIONS, headers: target.headers };
  await drive({ ...options, seconds: warmupS });
  let maxRss = target.rssPid ? rssBytes(target.rssPid) : Number.NaN;
  const sampler = setInterval(() => {
    if (target.rssPid) maxRss = Math.max(maxRss, rssBytes(target.rssPid));
  }, 200);
  const timeWaitBefore = target.upstreamPort ? timeWaitSockets(target.upstreamPort) : Number.NaN;
  const commandsBefore = await redis.commandCount();
  const cpuBefore = sum(target.cpuPids().map(cpuSeconds));
  const proxyPids = target.proxyPids?.() ?? [];
  const proxyBefore = sum(proxyPids.map(cpuSeconds));
  const result = await drive({ ...options, seconds });
  const cpu = sum(target.cpuPids().map(cpuSeconds)) - cpuBefore;
  const proxyCpu = sum(proxyPids.map(cpuSeconds)) - proxyBefore;
  const commands = (await redis.commandCount()) - commandsBefore;
  const timeWaitAfter = target.upstreamPort ? timeWaitSockets(target.upstreamPort) : Number.NaN;
  clearInterval(sampler);
  if (target.rssPid) maxRss = Math.max(maxRss, rssBytes(target.rssPid));
  const requests = result.requests;
  return {
    rps: result.rps,
    requests,
    p50: result.p50,
    p99: result.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuUsPerRequest: (cpu * 1e6) / requests,
    proxyCpuUsPerRequest: proxyPids.length ? (proxyCpu * 1e6) / requests : Number.NaN,
    redisCommandsPerRequest: commands / requests,
    maxRssBytes: maxRss,
    upstreamTimeWait: Math.max(0, timeWaitAfter - timeWaitBefore),
  };
}

/**
 * The targets measured in turns, ROUNDS times, DURATION_S / ROUNDS seconds each time; each target's figures are its
 * best round's (most requests/s: the round least disturbed by anything else), with the highest RSS of all rounds.
 */
export async function measureInTurns(targets: readonly Target[], redis: BenchRedis): Promise<Figures[]> {
  const rounds: Figures[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, target] of targets.entries())
      rounds[i]!.push(await measureOnce(target, redis, round === 0 ? WARMUP_S : 1, DURATION_S / ROUNDS));
  }
  return rounds.map((figures) => {
    const best = figures.reduce((a, b) => (b.rps > a.rps ? b : a));
    return { ...best, maxRssBytes: Math.max(...figures.map((f) => f.maxRssBytes)) };
  });
}
