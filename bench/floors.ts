// Starting the bench's bare node:http floors (bare-server.ts) as child processes, for `npm run bench` (authz.ts) and
// `npm run bench:instructions` (instructions.ts).
import { request } from 'node:http';
import { type Child, freePort, startNode, startTimeoutMs, waitUntil } from './processes.js';
import type { BenchRedis } from './redis.js';

/** BARE_MODE: see bare-server.ts. */
export type FloorMode = 'none' | 'get' | 'headers' | 'shared' | 'worker';

export interface Floor {
  child: Child;
  port: number;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A floor on a free port, answering; `wrapper` runs node under another command (valgrind), given minutes to start. */
export async function startFloor(
  mode: FloorMode,
  redis: BenchRedis,
  postgresUrl?: string,
  wrapper: readonly string[] = [],
): Promise<Floor> {
  const port = await freePort();
  const env = {
    BARE_PORT: String(port),
    BARE_MODE: mode,
    BARE_REDIS_URL: `redis://${redis.host}:${redis.port}/${redis.db}`,
    BARE_KEY: `gh_bench_${process.pid}_bare`,
    ...(postgresUrl ? { BARE_POSTGRES_URL: postgresUrl } : {}),
  };
  const child = startNode([], 'dist/bench/bare-server.js', [], env, wrapper);
  await waitUntil(`bare server (${mode})`, child, () => answers(port), startTimeoutMs(wrapper));
  return { child, port };
}
