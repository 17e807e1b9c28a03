// Issue 10 §4: the bench's floors (bench/bare-server.ts) answer what the bench says they answer. The `shared` floor
// first drives ioredis, pg, Express and pino in its own process (bench/shared-isolate.ts) against the real Redis and
// PostgreSQL, then answers Gatehouse's authz request with a pass's header list, as the `headers` floor does; the
// `worker` floor does the same with that server in a worker thread.
import { afterAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { type Child, freePort, startNode, waitUntil } from '../../../bench/processes.js';
import { httpRequest } from '../../helpers/process.js';
import { postgresTestTarget } from '../../helpers/postgres.js';
import { redisTestTarget } from '../../helpers/redis.js';

const AUTHZ_REQUEST = {
  'X-Original-URL': 'https://app.bench.test/',
  'X-Original-Method': 'GET',
  'X-Forwarded-For': '203.0.113.5',
  Cookie: 'gatehouse_session=x',
};

describe('the bench floors', () => {
  const children: Child[] = [];
  afterAll(async () => {
    for (const child of children) await child.stop();
  });

  async function floor(mode: string, env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const child = startNode([], 'dist/bench/bare-server.js', [], { BARE_MODE: mode, BARE_PORT: String(port), ...env });
    children.push(child);
    const url = `http://127.0.0.1:${port}/`;
    await waitUntil(`bare server (${mode})`, child, async () => (await httpRequest(url)).status > 0);
    return url;
  }

  it('no I/O: an empty 200 that a proxy can keep the connection after', async () => {
    const answer = await httpRequest(await floor('none'));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-length'], '0');
    assert.equal(answer.headers['remote-user'], undefined);
  });

  it('shared and worker: after using Redis, PostgreSQL, Express and pino, answer the authz request as the headers floor does', async () => {
    const redis = await redisTestTarget();
    const postgres = await postgresTestTarget();
    try {
      const env = { BARE_REDIS_URL: redis.url, BARE_POSTGRES_URL: postgres.url };
      for (const url of [await floor('headers'), await floor('shared', env), await floor('worker', env)]) {
        const pass = await httpRequest(url, { headers: AUTHZ_REQUEST });
        assert.equal(pass.status, 200);
        assert.equal(pass.headers['remote-user'], 'bench');
        assert.equal(pass.headers['remote-groups'], 'dev');
        assert.equal(pass.headers['content-length'], '0');
        // A header a decision needs is missing: not a pass.
        assert.equal((await httpRequest(url, { headers: { 'X-Original-Method': 'GET' } })).status, 400);
      }
    } finally {
      await redis.cleanup();
      await postgres.cleanup();
    }
  });
});
