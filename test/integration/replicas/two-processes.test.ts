// SPEC §9: stateless replicas. Two `gatehouse serve` processes on different ports, one Redis, one PostgreSQL:
// a session made on one is honoured by the other, regulation counts across both, SIGTERM exits cleanly.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_USERS, PASSWORD, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { cookiePair, freePort, httpRequest, startServerProcess, type ServerProcess } from '../../helpers/process.js';

const PORTAL_HEADERS = {
  Host: 'auth.example.com',
  Origin: 'https://auth.example.com',
  'Content-Type': 'application/json',
};

async function signIn(url: string, username: string, password: string): Promise<{ status: number; cookie?: string }> {
  const res = await httpRequest(`${url}/api/firstfactor`, {
    method: 'POST',
    headers: PORTAL_HEADERS,
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, cookie: cookiePair(res) };
}

function authz(url: string, cookie?: string) {
  return httpRequest(`${url}/api/authz/auth-request`, {
    headers: {
      'X-Original-URL': 'https://app.example.com/',
      'X-Original-Method': 'GET',
      ...(cookie ? { Cookie: cookie } : {}),
    },
  });
}

describe('two Gatehouse processes sharing Redis and PostgreSQL', () => {
  let dir: string;
  let redis: RedisTestTarget;
  let postgres: PostgresTestTarget;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-replicas-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    redis = await redisTestTarget();
    postgres = await postgresTestTarget();
    const { raw } = await testConfig({
      dir,
      usersPath,
      sessions: 'redis',
      storage: 'postgres',
      redis,
      postgres,
      config: { log: { level: 'info', format: 'json' } },
    });
    const configPath = join(dir, 'configuration.yml');
    writeFileSync(configPath, stringify(raw));
    // Started one after the other: both run the migrations at start, the second finds nothing to do.
    a = await startServerProcess(configPath, await freePort());
    b = await startServerProcess(configPath, await freePort());
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.cleanup();
    await postgres?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session made on one replica is honoured by the other', async () => {
    const { status, cookie } = await signIn(a.url, 'john', PASSWORD);
    assert.equal(status, 200);
    assert.ok(cookie);
    const res = await authz(b.url, cookie);
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
  });

  it('signing out on one replica ends the session on the other', async () => {
    const { cookie } = await signIn(b.url, 'harry', PASSWORD);
    assert.equal((await authz(a.url, cookie)).status, 200);
    const out = await httpRequest(`${a.url}/api/logout`, {
      method: 'POST',
      headers: { Host: 'auth.example.com', Origin: 'https://auth.example.com', Cookie: cookie! },
    });
    assert.equal(out.status, 200);
    assert.equal((await authz(b.url, cookie)).status, 401);
  });

  it('regulation counts failures made on both replicas', async () => {
    assert.equal((await signIn(a.url, 'harry', 'wrong-1')).status, 401);
    assert.equal((await signIn(b.url, 'harry', 'wrong-2')).status, 401);
    assert.equal((await signIn(a.url, 'harry', 'wrong-3')).status, 401);
    assert.equal((await signIn(b.url, 'harry', PASSWORD)).status, 401, 'banned on the other replica too');
  });

  it('logs are JSON lines with a level and never contain passwords or session IDs', async () => {
    const { cookie } = await signIn(a.url, 'john', PASSWORD);
    await authz(a.url, cookie);
    const lines = a.output().trim().split('\n').filter(Boolean);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number };
      assert.equal(typeof entry.level, 'number');
    }
    const sessionId = cookie!.split('=')[1]!;
    assert.ok(!a.output().includes(PASSWORD));
    assert.ok(!a.output().includes(sessionId));
  });

  it('SIGTERM stops a replica cleanly (exit 0) while the other keeps serving', async () => {
    const { cookie } = await signIn(a.url, 'john', PASSWORD);
    assert.equal(await b.stop(), 0);
    assert.equal((await authz(a.url, cookie)).status, 200);
  });
});
