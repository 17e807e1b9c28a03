// The Redis store fails closed and fast while Redis is gone, and recovers by itself when it is back (SPEC §4).
import { describe, it, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { SessionStoreUnavailableError } from '../../../src/observability/backend-errors.js';
import { createRedisSessionStore, type RedisConfig, type RedisSessionStore } from '../../../src/session/redis-store.js';
import { redisTestTarget } from '../../helpers/redis.js';

const FAST_MS = 2_500;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A complete config pointing at 127.0.0.1:port, from the helper's parsed one. */
async function configFor(port: number): Promise<RedisConfig> {
  const { config } = await redisTestTarget();
  return { ...config, host: '127.0.0.1', port, username: undefined, password: undefined, database_index: 0 };
}

/** Every store call rejects with SessionStoreUnavailableError, and quickly. */
async function assertFailsFast(store: RedisSessionStore): Promise<void> {
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['get', () => store.get('gh_t:k')],
    ['set', () => store.set('gh_t:k', 'v', 60)],
    ['delete', () => store.delete('gh_t:k')],
    ['ping', () => store.ping()],
  ];
  for (const [name, call] of calls) {
    const started = performance.now();
    await assert.rejects(call(), SessionStoreUnavailableError, name);
    assert.ok(performance.now() - started < FAST_MS, `${name} took ${performance.now() - started} ms`);
  }
}

/** A logger that only remembers what it was told. */
function recordingLogger() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const record =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push({ level, args });
  return { lines, logger: { warn: record('warn'), info: record('info') } as never };
}

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

class ThrowawayRedis {
  child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }
}

async function eventually(check: () => Promise<void>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await check();
      return performance.now() - started;
    } catch (error) {
      if (performance.now() - started > timeoutMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('SPEC §4 Redis down means 5xx, never "signed out"', () => {
  it('a store pointed at a closed port rejects every call fast with SessionStoreUnavailableError', async () => {
    const { lines, logger } = recordingLogger();
    const store = createRedisSessionStore(await configFor(await freePort()), logger);
    try {
      await assertFailsFast(store);
      assert.ok(
        lines.some((line) => line.level === 'warn'),
        'the connection error is logged',
      );
    } finally {
      await store.close();
    }
  });

  // Skipped when redis-server is not installed.
  (hasRedisServer ? describe : describe.skip)('recovery without a rebuild', () => {
    let redis: ThrowawayRedis;
    let store: RedisSessionStore | undefined;
    afterAll(async () => {
      await store?.close();
      await redis?.stop();
    });

    it('works, fails closed while Redis is stopped or hung, and works again once it is back', async () => {
      redis = new ThrowawayRedis(await freePort());
      await redis.start();
      const { lines, logger } = recordingLogger();
      const password = 'not-in-any-log';
      store = createRedisSessionStore(
        { ...(await configFor(redis.port)), password: undefined, username: undefined },
        logger,
      );

      // Used straight after creation: the first connection is waited for, not failed.
      await store.set('gh_t:recovery', 'before', 60);
      assert.equal(await store.get('gh_t:recovery'), 'before');

      redis.child!.kill('SIGSTOP');
      try {
        const started = performance.now();
        await assert.rejects(store.get('gh_t:recovery'), SessionStoreUnavailableError);
        assert.ok(performance.now() - started < FAST_MS, 'a hung Redis is cut off by the command timeout');
      } finally {
        redis.child!.kill('SIGCONT');
      }

      await redis.stop();
      await assertFailsFast(store);
      await eventually(
        async () =>
          assert.ok(
            lines.some((line) => line.level === 'warn'),
            'the outage is logged',
          ),
        2_000,
      );
      assert.ok(!JSON.stringify(lines).includes(password));

      await redis.start();
      const recoveredAfter = await eventually(() => store!.ping(), 10_000);
      assert.ok(recoveredAfter < 5_000, `recovered after ${recoveredAfter} ms`);
      await store.set('gh_t:recovery', 'after', 60);
      assert.equal(await store.get('gh_t:recovery'), 'after');
      assert.ok(
        lines.some((line) => line.level === 'info'),
        'the recovery is logged',
      );
    });
  });
});
