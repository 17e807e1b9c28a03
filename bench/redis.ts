// The bench's Redis: a private redis-server on a loopback port when the machine has one (so that INFO commandstats
// counts the measured run's commands and nothing else), otherwise the shared test Redis (then the counts include
// whatever else uses it, and are an upper bound). Counts commands and what a signed-in session costs in memory.
import { Redis } from 'ioredis';
import { type Child, findExecutable, freePort, startChild, waitUntil } from './processes.js';

export interface BenchRedis {
  host: string;
  port: number;
  db: number;
  /** True when only the bench talks to it. */
  private: boolean;
  /** Commands executed so far, by every client (INFO itself left out). */
  commandCount(): Promise<number>;
  /** Bytes (MEMORY USAGE) of every key that holds `prefix` (also inside a {hash tag}), by Redis type. */
  memoryByType(prefix: string): Promise<Map<string, { keys: number; bytes: number }>>;
  close(): Promise<void>;
}

export async function openBenchRedis(): Promise<BenchRedis> {
  // BENCH_REDIS_URL names a Redis to use instead (e.g. a remote one, to keep its CPU off the bench's cores).
  const chosen = process.env.BENCH_REDIS_URL;
  const binary = chosen === undefined ? findExecutable('redis-server') : undefined;
  let server: Child | undefined;
  let url: URL;
  if (binary) {
    const port = await freePort();
    // No persistence: nothing of the bench outlives it, and no fork for a snapshot disturbs a run.
    server = startChild(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    url = new URL(`redis://127.0.0.1:${port}`);
  } else {
    url = new URL(chosen ?? process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  }
  const db = Number(url.pathname.slice(1) || 0);
  const client = new Redis({
    host: url.hostname,
    port: Number(url.port || 6379),
    db,
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  // Failures reach the commands that fail; the event would only print them a second time (e.g. while it starts).
  client.on('error', () => undefined);
  if (server) {
    const started = server;
    // Only the first attempt connects: after a refusal (the server not listening yet) ioredis reconnects by itself,
    // and a second connect() would throw "already connecting" on every poll until the deadline.
    await waitUntil('redis-server', started, async () => {
      if (client.status === 'wait') await client.connect().catch(() => undefined);
      return (await client.ping()) === 'PONG';
    });
  } else {
    await client.connect();
  }
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    db,
    private: server !== undefined,
    async commandCount() {
      const text = await client.info('commandstats');
      let calls = 0;
      for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
        if (match[1] !== 'info') calls += Number(match[2]);
      return calls;
    },
    async memoryByType(prefix) {
      const byType = new Map<string, { keys: number; bytes: number }>();
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `*${escapeGlob(prefix)}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const [type, bytes] = await Promise.all([client.type(key), client.memory('USAGE', key)]);
          const entry = byType.get(type) ?? { keys: 0, bytes: 0 };
          entry.keys++;
          entry.bytes += Number(bytes ?? 0);
          byType.set(type, entry);
        }
      } while (cursor !== '0');
      return byType;
    },
    async close() {
      client.disconnect();
      await server?.stop();
    },
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
