// `npm run bench:instructions`: what one warm authz request costs in instructions, counted by valgrind's callgrind on
// the server's main thread, against the bare floors (bare-server.ts) sent the same request. The seconds of `npm run
// bench` move by 10-30% with the VM's neighbours and the load generator; a count moves by about 5% between runs (what
// a run meets: scavenges, the session touch, compilations), so two commits are compared over a run or two each. Each
// server runs under callgrind with instrumentation off; after INSTR_WARMUP requests (the JIT settles) it is switched
// on for INSTR_REQUESTS requests in slices, dumped after each, and the main thread's totals divided by the requests.
// Needs valgrind (`apt-get install valgrind`); kernel time is not counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindWrapper, countInstructions } from './callgrind.js';
import { startFloor } from './floors.js';
import { startGatehouse } from './gatehouse.js';
import { openBenchStorage } from './postgres.js';
import { type Child, findExecutable } from './processes.js';
import { type BenchRedis, openBenchRedis } from './redis.js';

const WARMUP = Number(process.env.INSTR_WARMUP ?? 20_000);
const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 10_000);
/** Requests in flight at once (keep-alive connections), as a proxy keeps a few open. */
const CONNECTIONS = 8;
const SLICES = 5;

/** `count` GETs of `path` with `headers` over CONNECTIONS keep-alive connections; throws on any answer but 200. */
async function send(port: number, headers: Record<string, string>, path: string, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let left = count;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) await one();
    }),
  );
  agent.destroy();
}

/** What a run of one server found: instructions per request, in each counted slice, sorted. */
interface Counted {
  name: string;
  slices: number[];
  /** Redis commands per counted request: above zero for Gatehouse, its session cache was not answering alone. */
  redisPerRequest: number;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Instructions per request on the main thread of `child` (under `callgrindWrapper(dir)`), counted in SLICES slices of
 * REQUESTS / SLICES requests. Slices differ by what they met (a scavenge, the once-a-second session touch and the
 * Redis read after it, a compilation), which requests pay too: the mean of all is the figure, the slices its spread.
 */
async function measure(
  redis: BenchRedis,
  name: string,
  child: Child,
  dir: string,
  port: number,
  headers: Record<string, string>,
  path: string,
): Promise<Counted> {
  await send(port, headers, path, WARMUP);
  const each = Math.max(1, Math.floor(REQUESTS / SLICES));
  const slices: number[] = [];
  const commandsBefore = await redis.commandCount();
  for (let i = 0; i < SLICES; i++)
    slices.push((await countInstructions(child.pid, dir, () => send(port, headers, path, each))) / each);
  const redisPerRequest = ((await redis.commandCount()) - commandsBefore) / (each * SLICES);
  return { name, slices: slices.sort((a, b) => a - b), redisPerRequest };
}

async function main(): Promise<void> {
  if (!findExecutable('valgrind') || !findExecutable('callgrind_control'))
    throw new Error('valgrind is not installed: `apt-get install valgrind`');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-instructions-'));
  const wrapper = callgrindWrapper(dir);
  const redis = await openBenchRedis();
  const storage = await openBenchStorage();
  const rows: Counted[] = [];
  try {
    const gatehouse = await startGatehouse(dir, redis, { storage, rules: 50, wrapper });
    const headers = gatehouse.authzHeaders;
    try {
      rows.push(
        await measure(
          redis,
          'gatehouse authz, warm cache',
          gatehouse.child,
          dir,
          gatehouse.port,
          headers,
          '/api/authz/auth-request',
        ),
      );
    } finally {
      await gatehouse.child.stop();
    }
    for (const [mode, name] of [
      ['headers', 'bare node:http, authz request + pass headers'],
      ['shared', 'bare node:http, same, after ioredis/pg/express'],
      ['none', 'bare node:http, no I/O'],
    ] as const) {
      const floor = await startFloor(mode, redis, storage.url, wrapper);
      try {
        rows.push(await measure(redis, name, floor.child, dir, floor.port, mode === 'none' ? {} : headers, '/'));
      } finally {
        await floor.child.stop();
      }
    }
  } finally {
    await redis.close();
    await storage.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const [gatehouse, headers, shared] = rows.map((row) => mean(row.slices)) as [number, number, number, number];
  const count = (value: number) => Math.round(value).toLocaleString('en');
  const lines = [
    'npm run bench:instructions (main thread, callgrind)',
    '-'.repeat(96),
    `${'run'.padEnd(50)}${'mean'.padStart(10)}  slices, fewest first (instructions per request)`,
    '-'.repeat(96),
    ...rows.map(
      (row) => `${row.name.padEnd(50)}${count(mean(row.slices)).padStart(10)}  ${row.slices.map(count).join(' ')}`,
    ),
    '-'.repeat(96),
    `gatehouse vs the floor sent the same request: ${(gatehouse / headers).toFixed(2)}x`,
    `gatehouse vs that floor after ioredis/pg/express: ${(gatehouse / shared).toFixed(2)}x`,
    `${REQUESTS.toLocaleString('en')} requests counted in ${SLICES} slices after ${WARMUP.toLocaleString('en')} of warm-up, ${CONNECTIONS} connections, Node ${process.version}`,
  ];
  console.log(`\n${lines.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
