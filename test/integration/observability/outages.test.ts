// Outages are quiet and bounded (issue 8): a Redis or PostgreSQL outage is logged once (one line, no stack) and
// its recovery once; every 503 it causes is counted in gatehouse_backend_unavailable_total{backend}; a hung
// backend is given up on within its configured timeout; a browser gets an HTML page for a 503, the API JSON.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, firstFactor, signIn } from '../../helpers/flows.js';
import { startBehindRelays, type BehindRelays } from '../../helpers/behind-relays.js';
import { freePort } from '../../helpers/process.js';
import type { Relay } from '../../helpers/relay.js';

interface Line {
  level: number;
  msg: string;
  raw: string;
  [key: string]: unknown;
}

function recordingLogger() {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const raw = chunk.toString();
      lines.push({ ...(JSON.parse(raw) as Line), raw });
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, destination) };
}

async function eventually(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const WARN = 40;

describe('outages are logged once, counted, and bounded by the configured timeouts', () => {
  let relays: BehindRelays;
  let redisRelay: Relay;
  let pgRelay: Relay;
  let t: TestGatehouse;
  let john: string;
  let metricsPort: number;
  const { lines, logger } = recordingLogger();

  const metric = async (name: string, backend: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const match = new RegExp(`^${name}\\{backend="${backend}"\\} (\\d+)$`, 'm').exec(text);
    assert.ok(match, `${name}{backend="${backend}"} is exported`);
    return Number(match[1]);
  };
  const since = (from: number) => lines.slice(from);
  const loud = (from: number) => since(from).filter((line) => line.level >= WARN);

  beforeAll(async () => {
    metricsPort = await freePort();
    relays = await startBehindRelays({
      logger,
      config: {
        storage: { postgres: { timeout: '1s' } },
        telemetry: { metrics: { enabled: true, address: `tcp://127.0.0.1:${metricsPort}` } },
      },
    });
    ({ t, redisRelay, pgRelay } = relays);
    john = await signIn(t, 'john');
  });

  afterAll(async () => relays.close());

  it('Redis away: one short error line for the outage, every 503 counted, one info line for the recovery', async () => {
    const from = lines.length;
    const before = await metric('gatehouse_backend_unavailable_total', 'redis');
    await redisRelay.cut();
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => authRequest(t, 'https://app.example.com/', { cookie: john })),
    );
    assert.deepEqual(new Set(answers.map((res) => res.status)), new Set([503]));
    for (let i = 0; i < 5; i++) assert.equal((await request(t.url).get('/api/health')).status, 503);
    assert.equal(await metric('gatehouse_backend_unavailable_total', 'redis'), before + 45);
    assert.equal(await metric('gatehouse_backend_up', 'redis'), 0);

    const outage = loud(from);
    assert.equal(outage.length, 1, `one line for the outage, got:\n${outage.map((l) => l.raw).join('')}`);
    assert.equal(outage[0]!.backend, 'redis');
    assert.ok(outage[0]!.raw.length < 400, `a short line: ${outage[0]!.raw}`);
    assert.ok(!outage[0]!.raw.includes('    at '), 'no stack');

    await redisRelay.start();
    await eventually(() => since(from).some((line) => line.msg === 'redis available again'));
    const recovered = since(from).find((line) => line.msg === 'redis available again')!;
    assert.equal(recovered.level, 30);
    assert.ok((recovered.answered503 as number) >= 45);
    assert.equal(await metric('gatehouse_backend_up', 'redis'), 1);
    assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: john })).status, 200);
    assert.equal(loud(from).length, 1, 'nothing more at warn or above');
  });

  it('Redis hung: authz answers 503 within about 2 s (the documented bound)', async () => {
    redisRelay.hang();
    try {
      // A warm session may be answered from the session cache until its heartbeat notices the hang (well under a
      // second; docs/decisions.md "Session cache"); from then on a request waits for Redis's command timeout (2 s
      // here) and is answered 503. So: the first request that is not a cache hit answers 503 within about 2 s, and
      // the hits before it stop within the heartbeat's bound (loose here: a loaded machine slows the heartbeat too).
      const started = performance.now();
      let res: Awaited<ReturnType<typeof authRequest>>;
      let took: number;
      do {
        const sent = performance.now();
        res = await authRequest(t, 'https://app.example.com/', { cookie: john });
        took = performance.now() - sent;
      } while (res.status === 200 && performance.now() - started < 5_000);
      assert.equal(
        res.status,
        503,
        `still answered from the cache after ${Math.round(performance.now() - started)} ms`,
      );
      assert.ok(took < 2_600, `the first request sent to the hung Redis was answered after ${Math.round(took)} ms`);
      for (const [name, call] of [
        ['portal state', () => request(t.url).get('/api/state').set('Host', 'auth.example.com').set('Cookie', john)],
        ['sign-in', () => firstFactor(t, { username: 'harry', password: PASSWORD })],
        ['health', () => request(t.url).get('/api/health')],
      ] as const) {
        const started = performance.now();
        const res = await call();
        const elapsed = performance.now() - started;
        assert.equal(res.status, 503, name);
        assert.ok(elapsed < 2_600, `${name} answered after ${Math.round(elapsed)} ms`);
      }
    } finally {
      redisRelay.resume();
    }
    await eventually(async () => (await authRequest(t, 'https://app.example.com/', { cookie: john })).status === 200);
  });

  it('PostgreSQL hung: sign-in answers 503 within storage.postgres.timeout (1 s here), not 30 s; logged once', async () => {
    const from = lines.length;
    // john, not harry: harry's sign-in during the Redis hang left a lock that Redis applied when it woke up
    // (it lapses within its 2 s lifetime, which would be counted here).
    pgRelay.hang();
    try {
      const started = performance.now();
      const res = await firstFactor(t, { username: 'john', password: PASSWORD });
      const elapsed = performance.now() - started;
      assert.equal(res.status, 503);
      assert.ok(elapsed < 2_600, `answered after ${Math.round(elapsed)} ms`);
      assert.equal((await firstFactor(t, { username: 'john', password: PASSWORD })).status, 503);
      assert.ok((await metric('gatehouse_backend_unavailable_total', 'storage')) >= 2);
      const outage = loud(from);
      assert.equal(outage.length, 1, `one line for the outage, got:\n${outage.map((l) => l.raw).join('')}`);
      assert.equal(outage[0]!.backend, 'storage');
      assert.match(JSON.stringify(outage[0]!.reason), /within 1 s/);
    } finally {
      pgRelay.resume();
    }
    await eventually(() => since(from).some((line) => line.msg === 'storage available again'));
    await eventually(async () => (await firstFactor(t, { username: 'john', password: PASSWORD })).status === 200);
  });

  it('a portal page answers a browser with an HTML page on 503; the API answers JSON', async () => {
    await redisRelay.cut();
    try {
      const page = await request(t.url)
        .get('/')
        .set('Host', 'auth.example.com')
        .set('Cookie', john)
        .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
      assert.equal(page.status, 503);
      assert.match(page.headers['content-type'] ?? '', /text\/html/);
      assert.match(page.text, /Temporarily unavailable/);
      const api = await request(t.url)
        .get('/api/state')
        .set('Host', 'auth.example.com')
        .set('Cookie', john)
        .set('Accept', 'text/html,*/*;q=0.8');
      assert.equal(api.status, 503);
      assert.match(api.headers['content-type'] ?? '', /application\/json/);
      assert.equal(api.body.status, 'KO');
      const noAccept = await request(t.url)
        .get('/')
        .set('Host', 'auth.example.com')
        .set('Cookie', john)
        .set('Accept', '');
      assert.equal(noAccept.status, 503);
      assert.match(noAccept.headers['content-type'] ?? '', /application\/json/);
    } finally {
      await redisRelay.start();
    }
    await eventually(async () => (await authRequest(t, 'https://app.example.com/', { cookie: john })).status === 200);
  });
});
