// The identity-email interval holds for the deployment, not per process: two replicas sharing one Redis prefix
// (and one database) mail a user once per interval between them, and with Redis away no email goes out unthrottled.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import request from 'supertest';
import { DEFAULT_USERS, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { signIn } from '../../helpers/flows.js';
import { readMessages } from '../../helpers/mail.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { Relay } from '../../helpers/relay.js';

const START = '/api/identity/start';

function start(t: TestGatehouse, cookie: string) {
  return request(t.url)
    .post(START)
    .set('Host', 'auth.example.com')
    .set('Origin', 'https://auth.example.com')
    .set('Content-Type', 'application/json')
    .set('Cookie', cookie)
    .send(JSON.stringify({ action: 'register_webauthn' }));
}

const mails = (t: TestGatehouse) => readMessages(join(t.dir, 'notification.txt')).length;

describe('identity-email interval across two replicas', () => {
  let a: TestGatehouse;
  let b: TestGatehouse;
  beforeAll(async () => {
    const users = { ...DEFAULT_USERS, ann: { displayname: 'Ann' }, ben: { displayname: 'Ben' } };
    a = await startGatehouse({ sessions: 'redis', storage: 'postgres', users });
    b = await startGatehouse({ sessions: 'redis', storage: 'postgres', users, redis: a.redis, postgres: a.postgres });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('a second email for the same user within the interval is refused on the other replica (429)', async () => {
    const cookie = await signIn(a, 'ann');
    assert.equal((await start(a, cookie)).status, 200);
    const again = await start(b, cookie);
    assert.equal(again.status, 429);
    assert.equal(again.body.status, 'KO');
    assert.equal(again.headers['retry-after'], '10');
    assert.equal((await start(b, await signIn(b, 'ann'))).status, 429, 'per user, whichever session asks');
    assert.equal(mails(a), 1);
    assert.equal(mails(b), 0);
  });

  it('another user is not held up by it', async () => {
    assert.equal((await start(b, await signIn(b, 'ben'))).status, 200);
    assert.equal(mails(b), 1);
  });
});

describe('identity-email interval with Redis away', () => {
  let redis: RedisTestTarget;
  let relay: Relay;
  let t: TestGatehouse;
  beforeAll(async () => {
    redis = await redisTestTarget();
    relay = new Relay({ host: redis.config.host, port: redis.config.port });
    await relay.start();
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'embedded',
      redis: { ...redis, config: { ...redis.config, host: '127.0.0.1', port: relay.port } },
    });
  });
  afterAll(async () => {
    await t.close();
    await relay.cut();
    await redis.cleanup();
  });

  it('answers 503 and sends nothing: the interval is never skipped', async () => {
    const cookie = await signIn(t, 'john');
    await relay.cut();
    const res = await start(t, cookie);
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'KO');
    assert.equal(mails(t), 0);
  });
});
