// The authz front worker in a real Gatehouse (docs/design/authz-isolate.md): real Redis, the worker thread owning the
// port, the main thread's server on its private socket. What a reviewer checks: warm answers come from the worker's
// mirror, everything else is answered by the main thread with the real client address, a silent main thread is
// distrusted, the private listener refuses whoever did not come through the front, and losing the worker is fatal.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector';
import type { Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type StartOptions, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, sessionAtLevel, signIn } from '../../helpers/flows.js';
import { PASSWORD } from '../../helpers/gatehouse.js';

const APP = 'https://app.example.com/';
const INTERNAL = 'https://internal.example.com/';

/** The main cache's counters: they move only when the main thread answers (the worker's mirror counts nothing there). */
function mainCounters(t: TestGatehouse): string {
  const { hits, misses } = t.gatehouse.services.sessions.cache.counters;
  return `${hits}/${misses}`;
}

/** Asks until the worker answers `cookie`'s pass itself (the main cache untouched by an answered 200). */
async function warmInFront(t: TestGatehouse, cookie: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const before = mainCounters(t);
    const res = await authRequest(t, APP, { cookie });
    assert.equal(res.status, 200);
    if (mainCounters(t) === before) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the front worker never answered the warm session itself');
}

/** A GET to the main thread's private socket, as someone who skipped the front would send it. */
function viaPrivateSocket(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { 'X-Original-URL': APP } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the authz front worker (Redis)', () => {
  let t: TestGatehouse;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    t = await startGatehouse({
      sessions: 'redis',
      logger: pino({ level: 'debug' }, sink),
      config: {
        server: { trusted_proxies: ['10.0.0.0/8'], authz_thread: true },
        telemetry: { metrics: { enabled: true, address: 'tcp://127.0.0.1:0' } },
      },
    });
    assert.ok(t.gatehouse.front, 'server.authz_thread starts the front with Redis');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers a warm session itself: no read of the main cache, let alone Redis', async () => {
    const cookie = await signIn(t, 'john');
    await warmInFront(t, cookie);
    const before = mainCounters(t);
    for (let i = 0; i < 20; i++) assert.equal((await authRequest(t, APP, { cookie })).status, 200);
    assert.equal(mainCounters(t), before);
  });

  it('its decisions are logged by the main logger, in its format', async () => {
    const cookie = await signIn(t, 'harry');
    await warmInFront(t, cookie);
    const seen = lines.length;
    assert.equal((await authRequest(t, APP, { cookie })).status, 200);
    const logged = lines.slice(seen).find((line) => line.msg === 'authz decision' && line.user === 'harry');
    assert.ok(logged, 'the decision was logged');
    assert.equal(logged.service, 'gatehouse');
    assert.equal(logged.result, 'allowed');
  });

  it('a session signed out on the main thread is refused by the worker next', async () => {
    const cookie = await signIn(t, 'john');
    await warmInFront(t, cookie);
    const id = cookie.split('=')[1]!;
    const session = t.gatehouse.services.sessions.peek([id], t.loaded.cookies[0]!);
    assert.ok(session);
    await t.gatehouse.services.sessions.destroy(session);
    // The cache drops it when Redis reports the change; the mirror a postMessage later.
    // No Accept header: the status-only answer for a visitor to sign in (401), as nginx's auth_request relays it.
    let status = 0;
    for (let i = 0; i < 100 && status !== 401; i++) {
      status = (await authRequest(t, APP, { cookie })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(status, 401);
  });

  it('the main thread answers what needs I/O: Basic credentials, an unknown session', async () => {
    assert.equal((await authRequest(t, APP, { headers: { Authorization: basic('john', PASSWORD) } })).status, 200);
    assert.equal((await authRequest(t, APP, { headers: { Authorization: basic('john', 'wrong') } })).status, 401);
    const unknown = `gatehouse_session=${'A'.repeat(43)}`;
    assert.equal((await authRequest(t, APP, { cookie: unknown })).status, 401);
  });

  it("a client's own X-Gatehouse-Peer is never believed: not by the worker, not by the main thread", async () => {
    // The peer 10.1.2.3 would be a trusted proxy, whose X-Forwarded-For (10.9.9.9) makes the client internal.
    const forged = { 'X-Gatehouse-Peer': '10.1.2.3', 'X-Forwarded-For': '10.9.9.9' };
    // Not internal, so the default policy (deny): answered by the worker (no session), and by the main thread (an
    // unknown session is read from Redis). The same header from a real trusted peer would have been a bypass (200).
    assert.equal((await authRequest(t, INTERNAL, { headers: forged })).status, 403);
    const unknown = `gatehouse_session=${'B'.repeat(43)}`;
    assert.equal((await authRequest(t, INTERNAL, { cookie: unknown, headers: forged })).status, 403);
  });

  it('portal requests come through the hop: one request ID, set by the main thread', async () => {
    const health = await fetch(`${t.url}/api/health`);
    assert.equal(health.status, 200);
    assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const given = await fetch(`${t.url}/api/health`, { headers: { 'X-Request-Id': 'from-the-proxy-1' } });
    assert.equal(given.headers.get('x-request-id'), 'from-the-proxy-1');
  });

  it('the private listener sits in a directory only this user may enter, and refuses a request without the front', async () => {
    const socketPath = t.gatehouse.front!.socketPath;
    assert.equal(statSync(dirname(socketPath)).mode & 0o777, 0o700);
    assert.equal(await viaPrivateSocket(socketPath, '/api/authz/auth-request'), 400);
    assert.equal(await viaPrivateSocket(socketPath, '/api/health'), 400);
  });

  it("the worker's answers are counted in the main thread's metrics", async () => {
    const cookie = await signIn(t, 'john');
    await warmInFront(t, cookie);
    for (let i = 0; i < 10; i++) await authRequest(t, APP, { cookie });
    const metrics = t.gatehouse.metricsServer!.address() as { port: number };
    let allowed = 0;
    for (let i = 0; i < 50 && allowed < 10; i++) {
      const text = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
      allowed = Number(/gatehouse_authz_decisions_total\{result="allowed"\} (\d+)/.exec(text)?.[1] ?? 0);
      if (allowed < 10) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(allowed >= 10, `${allowed} passes counted`);
  });

  it('a main thread silent for longer than the bound is distrusted: the worker answers nothing from the mirror', async () => {
    const cookie = await signIn(t, 'john');
    await warmInFront(t, cookie);
    const port = new URL(t.url).port;
    // A client in another process, run while this (the main) thread is blocked: first the block lasts past the
    // mirror's bound, then the client asks. The worker must not pass it: it forwards, and the blocked main thread
    // cannot answer before the client gives up.
    const client = `
      const http = require('node:http');
      const started = Date.now();
      while (Date.now() - started < 400) {}
      const req = http.get({ host: '127.0.0.1', port: ${port}, path: '/api/authz/auth-request',
        headers: { 'X-Original-URL': '${APP}', 'X-Original-Method': 'GET', Cookie: '${cookie}' }, timeout: 1500 },
        (res) => { console.log(res.statusCode); process.exit(0); });
      req.on('timeout', () => { console.log('timeout'); process.exit(0); });
      req.on('error', (e) => { console.log('error ' + e.message); process.exit(0); });`;
    const run = spawnSync(process.execPath, ['-e', client], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.stdout.trim(), 'timeout');
    // Unblocked: the forwarded question is answered by the main thread, and the worker trusts its mirror again.
    await warmInFront(t, cookie);
  });
});

/** A Gatehouse with the front whose fatal reports are kept, and a wait of at most `ms` for the first. */
async function startWatched(options: Pick<StartOptions, 'frontWatchdog'> = {}) {
  const fatal: Error[] = [];
  const t = await startGatehouse({
    sessions: 'redis',
    config: { server: { authz_thread: true } },
    onFatal: (error) => fatal.push(error),
    ...options,
  });
  const untilFatal = async (ms: number) => {
    for (let waited = 0; waited < ms && fatal.length === 0; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { t, fatal, untilFatal };
}

describe('losing the front worker', () => {
  it('is fatal: the owner is told, and nothing answers on the port any more', async () => {
    const { t, fatal, untilFatal } = await startWatched();
    try {
      assert.equal((await authRequest(t, 'https://public.example.com/')).status, 200);
      await t.gatehouse.front!.worker.terminate();
      await untilFatal(1_000);
      assert.equal(fatal.length, 1);
      assert.match(fatal[0]!.message, /authz front worker stopped/);
      await assert.rejects(fetch(`${t.url}/api/health`));
    } finally {
      await t.close();
    }
  });
});

/** Makes the worker's event loop spin for ever, through the inspector (no hook in Gatehouse's own code). */
async function hang(worker: Worker): Promise<Session> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  const attached = new Promise<string>((resolve) =>
    session.on('NodeWorker.attachedToWorker', (message) => {
      // The inspector numbers workers its own way; their title names the thread.
      const params = message.params as { sessionId: string; workerInfo: { title: string } };
      if (params.workerInfo.title.startsWith(`[worker ${worker.threadId}]`)) resolve(params.sessionId);
    }),
  );
  await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const sessionId = await attached;
  const evaluate = { id: 1, method: 'Runtime.evaluate', params: { expression: 'for (;;) {}' } };
  await post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify(evaluate) });
  return session;
}

describe('a hung front worker', () => {
  it('is noticed by its watchdog: stopped, the owner told why, and the port let go', async () => {
    const { t, fatal, untilFatal } = await startWatched({ frontWatchdog: { everyMs: 50, hungAfterMs: 500 } });
    let inspector: Session | undefined;
    try {
      const cookie = await signIn(t, 'john');
      await warmInFront(t, cookie);
      // Healthy, it answers every ping: well past hungAfterMs, nothing is reported.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(fatal.length, 0);
      const hungAt = Date.now();
      inspector = await hang(t.gatehouse.front!.worker);
      await untilFatal(3_000);
      assert.equal(fatal.length, 1);
      assert.match(fatal[0]!.message, /answered nothing for \d+ ms: taken for hung/);
      assert.ok(Date.now() - hungAt >= 450, 'not before hungAfterMs');
      // Stopped, not left holding the port: a connection is refused at once rather than left hanging.
      await assert.rejects(fetch(`${t.url}/api/health`, { signal: AbortSignal.timeout(5_000) }), (error: Error) => {
        assert.notEqual(error.name, 'TimeoutError');
        return true;
      });
    } finally {
      inspector?.disconnect();
      await t.close();
    }
  });
});

describe('without the front', () => {
  it('by default (server.authz_thread: false) one thread answers everything on the port', async () => {
    const t = await startGatehouse({ sessions: 'redis' });
    try {
      assert.equal(t.gatehouse.front, undefined);
      const cookie = await sessionAtLevel(t, 'john', 1);
      assert.equal((await authRequest(t, APP, { cookie })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('in-memory sessions (no cache to mirror) keep one thread, even with server.authz_thread', async () => {
    const t = await startGatehouse({ sessions: 'memory', config: { server: { authz_thread: true } } });
    try {
      assert.equal(t.gatehouse.front, undefined);
    } finally {
      await t.close();
    }
  });
});
