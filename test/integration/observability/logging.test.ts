// SPEC §9: pino JSON lines with a request ID and level; each authz decision (user, target, rule, result) at debug;
// never a password, a session ID or a one-time token.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { startGatehouse, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, signIn } from '../../helpers/flows.js';

describe('logs', () => {
  const lines: string[] = [];
  let t: TestGatehouse;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    t = await startGatehouse({ sessions: 'memory', storage: 'embedded', logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => t.close());

  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs each authz decision at debug with user, target, rule and result, under the proxy request ID', async () => {
    const cookie = await signIn(t, 'john');
    await authRequest(t, 'https://app.example.com/page', { cookie, headers: { 'X-Request-Id': 'nginx-req-42' } });
    const decision = entries().find((e) => e.msg === 'authz decision' && e.requestId === 'nginx-req-42');
    assert.ok(decision, 'a decision line');
    assert.equal(decision.level, 20);
    assert.equal(decision.user, 'john');
    assert.equal(decision.target, 'https://app.example.com/page');
    assert.equal(decision.rule, 6);
    assert.equal(decision.result, 'allowed');
  });

  it('logs portal requests at debug with a request ID and the path, never the query', async () => {
    await request(t.url).get('/webauthn/register?token=SECRET-TOKEN-VALUE').set('Host', 'auth.example.com');
    const line = entries().find((e) => e.msg === 'portal request' && e.path === '/webauthn/register');
    assert.ok(line);
    assert.equal(typeof line.requestId, 'string');
    assert.equal(typeof line.status, 'number');
  });

  it('never writes a password, a session ID or a token', async () => {
    const cookie = await signIn(t, 'harry');
    await authRequest(t, 'https://app.example.com/', { cookie });
    await authRequest(t, 'https://app.example.com/', { headers: { 'Proxy-Authorization': basic('harry', PASSWORD) } });
    await authRequest(t, 'https://app.example.com/', {
      headers: { 'Proxy-Authorization': basic('harry', 'a-wrong-guess-123') },
    });
    const all = lines.join('\n');
    assert.ok(!all.includes(PASSWORD));
    assert.ok(!all.includes('a-wrong-guess-123'));
    assert.ok(!all.includes(cookie.split('=')[1]!));
    assert.ok(!all.includes('SECRET-TOKEN-VALUE'));
  });
});
