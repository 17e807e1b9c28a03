// Security review: sessions that come back after they were ended, sessions ended by an innocent visit, and users
// that access control cannot tell apart. Real Redis for the session store.
import { describe, it, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DEFAULT_ACCESS_CONTROL, DEFAULT_USERS, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('security: session lifecycle', () => {
  const started: TestGatehouse[] = [];
  afterAll(async () => {
    for (const t of started) await t.close();
  });

  /** Starts Gatehouse, or undefined when the configuration (or users file) is refused at start. */
  async function startOrRefused(options: Parameters<typeof startGatehouse>[0]): Promise<TestGatehouse | undefined> {
    try {
      const t = await startGatehouse(options);
      started.push(t);
      return t;
    } catch {
      return undefined;
    }
  }

  // The authz path reads the session (GET), decides, then refreshes lastActivity with an unconditional SET of the
  // whole blob (SessionService.touch → store.set). When a logout's DEL lands between that GET and that SET, the SET
  // writes the ended session back under the same ID. Here the in-flight request is played step by step: its load
  // before the logout, its touch after.
  it('a session ended by logout is not brought back by an authz request that loaded it just before', async () => {
    const t = (await startOrRefused({ sessions: 'redis', storage: 'embedded' }))!;
    const cookie = await signIn(t, 'harry');
    const id = cookie.split('=')[1]!;
    const settings = t.loaded.cookies.find((c) => c.domain === 'example.com')!;
    const sessions = t.gatehouse.services.sessions;

    await sleep(1_100); // touch writes at most once a second
    const inFlight = await sessions.load([id], settings);
    assert.ok(inFlight, 'the in-flight authz request found the session');

    const logout = await request(t.url)
      .post('/api/logout')
      .set('Host', 'auth.example.com')
      .set('Origin', 'https://auth.example.com')
      .set('Cookie', cookie);
    assert.equal(logout.status, 200);
    assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 401, 'control: logged out');

    await sessions.touch(inFlight, settings); // the in-flight request finishes
    const after = await authRequest(t, 'https://app.example.com/', { cookie });
    assert.equal(
      after.status,
      401,
      `the logged-out session ID works again (${after.status}, Remote-User ${String(after.headers['remote-user'])})`,
    );
  });

  // Nested cookie domains share the default cookie name: the browser sends the example.com cookie to every host under
  // sub.example.com too, where it is "a session presented for another cookie domain" and is destroyed (SPEC §4).
  // Authelia refuses cookie domains that share a scope; here any link to an app under sub.example.com signs the user
  // out of every app under example.com.
  it('nested cookie domains are refused, or visiting the nested one does not destroy the parent session', async () => {
    const t = await startOrRefused({
      sessions: 'memory',
      storage: 'embedded',
      config: {
        session: {
          cookies: [
            { domain: 'example.com', authelia_url: 'https://auth.example.com' },
            { domain: 'sub.example.com', authelia_url: 'https://auth.sub.example.com' },
          ],
        },
        access_control: {
          ...DEFAULT_ACCESS_CONTROL,
          rules: [...DEFAULT_ACCESS_CONTROL.rules, { domain: 'app.sub.example.com', policy: 'one_factor' }],
        },
      },
    });
    if (t === undefined) return; // refused at start: the fix Authelia chose
    const cookie = await signIn(t, 'john');
    assert.equal(
      (await authRequest(t, 'https://app.example.com/', { cookie })).status,
      200,
      'control: signed in under example.com',
    );

    // What the browser sends when the user follows a link to app.sub.example.com: its example.com cookie.
    await authRequest(t, 'https://app.sub.example.com/', { cookie });
    const back = await authRequest(t, 'https://app.example.com/', { cookie });
    assert.equal(back.status, 200, 'visiting app.sub.example.com signed the user out of example.com');
  });

  // Users are looked up case-sensitively (`john` and `John` are two accounts), but SPEC/decisions make access control
  // compare user names case-insensitively, so `John` passes every rule written for `user:john` (and `{user}` domains).
  it('a user whose name differs only by case does not pass rules written for another user', async () => {
    const t = await startOrRefused({
      sessions: 'memory',
      storage: 'embedded',
      users: { ...DEFAULT_USERS, John: { displayname: 'Not John', email: 'impostor@example.com', groups: [] } },
      config: {
        access_control: {
          default_policy: 'deny',
          rules: [{ domain: 'john.example.com', subject: ['user:john'], policy: 'one_factor' }],
        },
      },
    });
    if (t === undefined) return; // the users file refused names that differ only by case
    const john = await authRequest(t, 'https://john.example.com/', { cookie: await signIn(t, 'john') });
    assert.equal(john.status, 200, 'control: john passes');
    const impostor = await authRequest(t, 'https://john.example.com/', { cookie: await signIn(t, 'John') });
    assert.equal(
      impostor.status,
      403,
      `'John' passed the rule for user:john as ${String(impostor.headers['remote-user'])}`,
    );
  });
});
