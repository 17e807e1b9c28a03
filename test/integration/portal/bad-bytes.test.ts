// Issue 7: bytes PostgreSQL refuses (NUL), lone surrogates and other control characters in a sign-in must not skip
// the brute-force defence. Such an attempt waits the failure floor, is answered like any failure, is logged with
// the bytes escaped and is counted; a username with them is never accepted. Real Redis and PostgreSQL.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor } from '../../helpers/flows.js';

const AUTH_FAILED = 'Authentication failed. Check your credentials.';
/** The test Gatehouse's first-factor failure floor (test/helpers/gatehouse.ts). */
const FLOOR_MS = 50;
const MAX_RETRIES = 3;

const users = Object.fromEntries(['ann', 'ben', 'cat', 'dan', 'eve', 'fay'].map((name) => [name, { groups: [] }]));

describe('issue 7: bad bytes in a sign-in are a failed attempt, regulated and logged', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      users,
      config: { regulation: { max_retries: MAX_RETRIES, find_time: '2m', ban_time: '5m' } },
    });
  });
  afterAll(async () => t.close());

  const attempts = (username: string) =>
    t.gatehouse.adapters.storage.latestAuthenticationAttempts({ username, since: new Date(0), limit: 50 });

  async function timed(body: Record<string, unknown>) {
    const started = Date.now();
    const res = await firstFactor(t, body);
    return { res, ms: Date.now() - started };
  }

  const BAD = [
    ['a NUL byte', '\u0000', '\\x00'],
    ['a control character', '\u001b[2J', '\\x1b[2J'],
    ['a lone surrogate', '\ud800', '\\ud800'],
    ['a line separator', '\u2028', '\\u2028'],
  ] as const;
  for (const [what, bad, escapedBad] of BAD) {
    it(`a username with ${what} is a 401 after the failure floor, logged escaped and counted against that name`, async () => {
      const username = `ann${bad}`;
      for (let i = 0; i < MAX_RETRIES; i++) {
        const { res, ms } = await timed({ username, password: 'wrong' });
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { status: 'KO', message: AUTH_FAILED });
        assert.ok(ms >= FLOOR_MS, `answered in ${ms} ms, before the failure floor`);
      }
      const escaped = `ann${escapedBad}`;
      const logged = await attempts(escaped);
      assert.equal(logged.length, MAX_RETRIES, `logged under ${JSON.stringify(escaped)}`);
      assert.ok(
        logged.every((a) => !a.successful && !a.banned),
        'counted as failures',
      );
      // The next attempt finds that name banned (it is logged as refused under a ban).
      assert.equal((await firstFactor(t, { username, password: 'wrong' })).status, 401);
      assert.equal((await attempts(escaped))[0]?.banned, true, 'banned at max_retries');
    });
  }

  it('a username with control bytes is never accepted, even with the password of the user it nearly names', async () => {
    for (const username of ['ben\u0000', '\u0000ben', 'ben\n', 'ben\u0085', 'b\u0000en']) {
      const { res, ms } = await timed({ username, password: PASSWORD });
      assert.equal(res.status, 401, JSON.stringify(username));
      assert.ok(ms >= FLOOR_MS);
    }
    assert.equal(
      (await firstFactor(t, { username: 'ben', password: PASSWORD })).status,
      200,
      'ben himself is not banned by them',
    );
  });

  for (const field of ['targetURL', 'requestMethod'] as const) {
    it(`a NUL in ${field} does not skip the defence: wrong passwords are 401s after the floor and ban the user`, async () => {
      const username = field === 'targetURL' ? 'cat' : 'dan';
      const value = field === 'targetURL' ? 'https://app.example.com/\u0000/x' : 'GET\u0000';
      for (let i = 0; i < MAX_RETRIES; i++) {
        const { res, ms } = await timed({ username, password: `wrong-${i}`, [field]: value });
        assert.equal(res.status, 401);
        assert.ok(ms >= FLOOR_MS, `answered in ${ms} ms`);
      }
      const logged = await attempts(username);
      assert.equal(logged.filter((a) => !a.successful && !a.banned).length, MAX_RETRIES);
      const column = field === 'targetURL' ? 'requestUri' : 'requestMethod';
      assert.ok(
        logged.every((a) => a[column].includes('\\x00') && !a[column].includes('\u0000')),
        'logged with the byte escaped',
      );
      const banned = await firstFactor(t, { username, password: PASSWORD });
      assert.equal(banned.status, 401, 'banned at max_retries');
    });
  }

  it('the right password with a NUL in targetURL signs in, without following that target', async () => {
    const res = await firstFactor(t, {
      username: 'eve',
      password: PASSWORD,
      targetURL: 'https://app.example.com/\u0000',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'OK', data: {} });
    const [logged] = await attempts('eve');
    assert.equal(logged?.successful, true);
    assert.equal(logged?.requestUri, 'https://app.example.com/\\x00');
  });

  it('HTTP Basic credentials with a NUL in the username are refused, never a 5xx, and never reach the log raw', async () => {
    const header = `Basic ${Buffer.from('fay\u0000:wrong').toString('base64')}`;
    for (let i = 0; i < 2; i++) {
      const verify = await request(t.url)
        .get('/api/verify?auth=basic')
        .set('X-Original-URL', 'https://secure.example.com/')
        .set('Authorization', header)
        .set('Proxy-Authorization', header);
      assert.ok(verify.status < 500, `verify answered ${verify.status}`);
    }
    // Refused as malformed before any password is checked (authz/basic-credentials.ts), or checked as a failure
    // under the escaped name: either way nothing raw is stored.
    const logged = await attempts('fay\\x00');
    assert.ok(logged.every((a) => !a.successful));
  });
});
