// Failing loudly and fast (issue 8): a fatal start-up error is printed and `gatehouse serve` exits non-zero within
// about two seconds of it, whether or not a Redis client, a pool or a watcher was already open.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_USERS, deepMerge, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { CLI, freePort } from '../../helpers/process.js';
import { packageRoot } from '../../../src/paths.js';

/** From the error's first line on stderr to the exit: the issue asks for 2 s; the bound leaves room for a busy machine. */
const EXIT_BOUND_MS = 3_000;
/** A start that never fails or never exits is killed after this long (and the test fails). */
const GIVE_UP_MS = 30_000;

interface Failed {
  code: number | null;
  stderr: string;
  errorToExitMs: number;
}

/** `gatehouse serve --config FILE`, expected to fail: the exit code, stderr, and time from the error line to the exit. */
function serveExpectingFailure(configPath: string, env: Record<string, string> = {}): Promise<Failed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${packageRoot}/${CLI}`, 'serve', '--config', configPath], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let errorAt: number | undefined;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (errorAt === undefined && /^(gatehouse:|Configuration is invalid)/m.test(stderr)) errorAt = performance.now();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const exitedAt = performance.now();
      resolve({ code, stderr, errorToExitMs: errorAt === undefined ? Number.POSITIVE_INFINITY : exitedAt - errorAt });
    });
  });
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

for (const sessions of ['redis', 'memory'] as const) {
  describe(`a fatal start-up error exits non-zero within ~2 s (sessions: ${sessions})`, () => {
    let dir: string;
    let redis: RedisTestTarget | undefined;
    let postgres: PostgresTestTarget;
    let base: Record<string, unknown>;
    let usersPath: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-fatal-'));
      usersPath = join(dir, 'users.yml');
      writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
      redis = sessions === 'redis' ? await redisTestTarget() : undefined;
      // PostgreSQL rather than the embedded database: it starts in milliseconds, so the port is reached quickly.
      postgres = await postgresTestTarget();
      base = (await testConfig({ dir, usersPath, sessions, redis, storage: 'postgres', postgres })).raw;
    });

    afterAll(async () => {
      await redis?.cleanup();
      await postgres?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    function writeConfig(name: string, over: Record<string, unknown>): string {
      const path = join(dir, name);
      writeFileSync(path, stringify(deepMerge(base, over)));
      return path;
    }

    it('the server port is in use: names the address and exits 1', async () => {
      const port = await freePort();
      const blocker = await listenOn(port);
      try {
        const result = await serveExpectingFailure(
          writeConfig('port.yml', { server: { address: `tcp://127.0.0.1:${port}` } }),
        );
        assert.equal(result.code, 1, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`),
        );
        assert.ok(
          result.errorToExitMs < EXIT_BOUND_MS,
          `exited ${Math.round(result.errorToExitMs)} ms after the error`,
        );
      } finally {
        blocker.close();
      }
    });

    it('the metrics port is in use: exits 1 as fast', async () => {
      const port = await freePort();
      const blocker = await listenOn(port);
      try {
        const result = await serveExpectingFailure(
          writeConfig('metrics.yml', {
            server: { address: `tcp://127.0.0.1:${await freePort()}` },
            telemetry: { metrics: { enabled: true, address: `tcp://127.0.0.1:${port}` } },
          }),
        );
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /telemetry\.metrics cannot listen on/);
        assert.ok(
          result.errorToExitMs < EXIT_BOUND_MS,
          `exited ${Math.round(result.errorToExitMs)} ms after the error`,
        );
      } finally {
        blocker.close();
      }
    });

    it('the PostgreSQL database does not exist: names it and exits 1', async () => {
      const result = await serveExpectingFailure(
        writeConfig('no-db.yml', { storage: { postgres: { database: 'gatehouse_no_such_db' } } }),
      );
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /storage unavailable: database "gatehouse_no_such_db" does not exist on /);
      assert.ok(result.errorToExitMs < EXIT_BOUND_MS, `exited ${Math.round(result.errorToExitMs)} ms after the error`);
    });

    if (sessions === 'redis') {
      it('Redis unreachable (its client reconnecting) and the port in use: still exits 1', async () => {
        const port = await freePort();
        const blocker = await listenOn(port);
        try {
          const result = await serveExpectingFailure(
            writeConfig('redis-away.yml', {
              server: { address: `tcp://127.0.0.1:${port}` },
              session: { redis: { host: '127.0.0.1', port: await freePort() } },
            }),
          );
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, /the address is already in use/);
          assert.ok(
            result.errorToExitMs < EXIT_BOUND_MS,
            `exited ${Math.round(result.errorToExitMs)} ms after the error`,
          );
        } finally {
          blocker.close();
        }
      });
    }

    it('the users file is missing: exits 1', async () => {
      const result = await serveExpectingFailure(
        writeConfig('missing-users.yml', { authentication_backend: { file: { path: join(dir, 'nope.yml') } } }),
      );
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /nope\.yml.*file not found/);
      assert.ok(result.errorToExitMs < EXIT_BOUND_MS, `exited ${Math.round(result.errorToExitMs)} ms after the error`);
    });

    it('the users file is invalid: exits 1', async () => {
      const bad = join(dir, 'bad-users.yml');
      writeFileSync(bad, 'users:\n  john: [this is not a user]\n');
      const result = await serveExpectingFailure(
        writeConfig('bad-users.yml', { authentication_backend: { file: { path: bad } } }),
      );
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /bad-users\.yml/);
      assert.ok(result.errorToExitMs < EXIT_BOUND_MS, `exited ${Math.round(result.errorToExitMs)} ms after the error`);
    });
  });
}
