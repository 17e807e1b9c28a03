// SPEC §4 and "how we work": when Redis or PostgreSQL cannot answer, Gatehouse fails closed (5xx: never a pass,
// never a sign-in redirect that would log users out) and recovers by itself when they are back.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, firstFactor, forwardAuth, signIn } from '../../helpers/flows.js';
import { startBehindRelays, type BehindRelays } from '../../helpers/behind-relays.js';
import type { Relay } from '../../helpers/relay.js';

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('fail closed when Redis or PostgreSQL is away, recover when back', () => {
  let relays: BehindRelays;
  let redisRelay: Relay;
  let pgRelay: Relay;
  let t: TestGatehouse;
  let john: string;

  beforeAll(async () => {
    relays = await startBehindRelays();
    ({ t, redisRelay, pgRelay } = relays);
    john = await signIn(t, 'john');
  });

  afterAll(async () => relays.close());

  it('with Redis away: authz with a session cookie is 503 on every flavour, never 200 or a redirect', async () => {
    await redisRelay.cut();
    const nginx = await authRequest(t, 'https://app.example.com/', { cookie: john });
    assert.equal(nginx.status, 503);
    assert.equal(nginx.headers.location, undefined);
    assert.equal(nginx.headers['remote-user'], undefined);
    const traefik = await forwardAuth(t, 'https://app.example.com/', { cookie: john });
    assert.equal(traefik.status, 503);
    // No body where the proxy never reads one (nginx: keepalive-answers.test.ts); Authelia's words where it shows them.
    assert.equal(nginx.headers['content-length'], '0');
    assert.equal(traefik.text, '503 Service Unavailable');
    const portal = await request(t.url).get('/api/state').set('Host', 'auth.example.com').set('Cookie', john);
    assert.equal(portal.status, 503);
    assert.equal(portal.body.status, 'KO');
    const health = await request(t.url).get('/api/health');
    assert.equal(health.status, 503);
  });

  it('with Redis back: the same session works again without a restart', async () => {
    await redisRelay.start();
    await eventually(async () => (await authRequest(t, 'https://app.example.com/', { cookie: john })).status === 200);
    assert.equal((await request(t.url).get('/api/health')).status, 200);
  });

  it('with PostgreSQL away: sign-in and Basic credentials are 503, sessions still authorise, health is 503', async () => {
    await pgRelay.cut();
    const res = await firstFactor(t, { username: 'harry', password: PASSWORD });
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'KO');
    const basicRes = await authRequest(t, 'https://app.example.com/', {
      headers: { 'Proxy-Authorization': basic('harry', PASSWORD) },
    });
    assert.equal(basicRes.status, 503);
    // The authz path reads no storage: an existing session keeps working through a database outage.
    assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: john })).status, 200);
    assert.equal((await request(t.url).get('/api/health')).status, 503);
  });

  it('with PostgreSQL back: sign-in works again without a restart', async () => {
    await pgRelay.start();
    await eventually(async () => (await firstFactor(t, { username: 'harry', password: PASSWORD })).status === 200);
    assert.equal((await request(t.url).get('/api/health')).status, 200);
  });
});
