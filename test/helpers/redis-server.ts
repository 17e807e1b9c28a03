// One throw-away `redis-server` process on a loopback port, and the small probes the deployments built from them
// (sentinel.ts, redis-cluster.ts) share: a plain connection to one node, polling until a condition holds, INFO fields.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';

export const HOST = '127.0.0.1';

export interface RedisProcess {
  port: number;
  child: ChildProcess;
  output(): string;
}

/** A connection that gives up at once: a probe must see a dead node as dead, not wait for it to come back. */
function client(port: number): Redis {
  const redis = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  return redis;
}

/** Runs `use` with a plain connection to the node on `port`, closed afterwards. */
export async function withRedisAt<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = client(port);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Polls `probe` every 100 ms until it yields a value; throws naming `what` (and the last error) after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      lastError = error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what}: not reached within ${timeoutMs} ms${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A field of an INFO or CLUSTER INFO reply (`name:value` lines). */
export function infoField(info: string, name: string): string | undefined {
  return info
    .split(/\r?\n/)
    .find((line) => line.startsWith(`${name}:`))
    ?.slice(name.length + 1);
}

/** Starts `redis-server args` and resolves once it answers PING on `port`; killed again if it never does. */
export async function startRedisServer(args: string[], port: number): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)));
  });
  const node = { port, child, output: () => output };
  await until(`redis-server on ${port} answers`, 5000, async () => {
    if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited:\n${output}`);
    return (await withRedisAt(port, (redis) => redis.ping())) === 'PONG' ? true : undefined;
  }).catch(async (error: unknown) => {
    await stopRedisServer(node);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
  });
  return node;
}

/** SIGKILL, resolved once the process is gone (at once if it already is). */
export function stopRedisServer(node: RedisProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    node.child.once('exit', () => resolve());
    node.child.kill('SIGKILL');
  });
}
