// The front worker's sessions (src/front/mirrored-sessions.ts): `peek` answers from the mirror exactly when the
// owner's `peek` would (first well-formed value, deadlines, a listening owner), and the activity touch is asked of
// the owner at most once a second per session; the cookie settings survive the trip to the worker.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MirroredSessions } from '../../../src/front/mirrored-sessions.js';
import { cookieFromPost, PostedUsers } from '../../../src/front/front.js';
import { postedCookie } from '../../../src/front/owner.js';
import type { SessionData } from '../../../src/session/model.js';
import { SessionMirror } from '../../../src/session/session-mirror.js';
import { testCookie, testSessionData } from '../../helpers/session-cookie.js';

const sid = (name: string): string => createHash('sha256').update(name).digest('base64url');
const NOW = 1_700_000_000_000;
const COOKIE = testCookie();

function data(overrides: Partial<SessionData> = {}): SessionData {
  return testSessionData({ createdAt: NOW - 10_000, lastActivity: NOW - 10_000, ...overrides });
}

function setUp() {
  let monotonic = 0;
  let wall = NOW;
  const mirror = new SessionMirror({ maxSilenceMs: 100 }, () => monotonic);
  const asked: string[] = [];
  const sessions = new MirroredSessions(
    mirror,
    (id, domain) => asked.push(`${id}@${domain}`),
    () => wall,
  );
  mirror.apply({ kind: 'beat', at: monotonic });
  return {
    mirror,
    sessions,
    asked,
    silence: (ms: number) => (monotonic += ms),
    later: (ms: number) => (wall += ms),
  };
}

describe("the worker's peek", () => {
  it('answers a mirrored session named by the first value, and by the first well-formed one after garbage', () => {
    const { mirror, sessions } = setUp();
    const id = sid('a');
    mirror.apply({ kind: 'fresh', id, data: data() });
    assert.equal(sessions.peek([id], COOKIE)?.id, id);
    assert.equal(sessions.peek(['garbage', id], COOKIE)?.id, id);
    assert.equal(sessions.peek([`${id.slice(0, 42)}!`, id], COOKIE)?.id, id);
  });

  it('answers nothing for a session not mirrored, past a deadline, of another domain, or after silence', () => {
    const { mirror, sessions, silence, later } = setUp();
    const id = sid('b');
    assert.equal(sessions.peek([id], COOKIE), undefined);
    mirror.apply({ kind: 'fresh', id, data: data() });
    assert.equal(sessions.peek([id], testCookie({ domain: 'example.org' })), undefined);
    const now = silence(101);
    assert.equal(sessions.peek([id], COOKIE), undefined);
    mirror.apply({ kind: 'beat', at: now });
    assert.ok(sessions.peek([id], COOKIE));
    later(COOKIE.inactivity * 1000);
    assert.equal(sessions.peek([id], COOKIE), undefined);
  });

  it('a first well-formed value not mirrored is not skipped for a later one (the owner reads the first)', () => {
    const { mirror, sessions } = setUp();
    const known = sid('c');
    mirror.apply({ kind: 'fresh', id: known, data: data() });
    assert.equal(sessions.peek([sid('unknown'), known], COOKIE), undefined);
  });
});

describe("the worker's activity touch", () => {
  it('is asked of the owner once a second per session, never under remember-me', async () => {
    const { sessions, asked, later } = setUp();
    const session = { id: sid('d'), data: data() };
    assert.equal(sessions.touchDue(session, COOKIE), true);
    await sessions.touch(session, COOKIE);
    await sessions.touch(session, COOKIE);
    assert.deepEqual([...asked], [`${session.id}@example.com`]);
    assert.equal(sessions.touchDue(session, COOKIE), false);
    later(1_000);
    await sessions.touch(session, COOKIE);
    assert.equal(asked.length, 2);
    const remembered = { id: sid('e'), data: data({ rememberMe: true }) };
    assert.equal(sessions.touchDue(remembered, COOKIE), false);
    const fresh = { id: sid('f'), data: data({ lastActivity: NOW + 1_000 }) };
    assert.equal(sessions.touchDue(fresh, COOKIE), false);
  });
});

describe('cookie settings posted to the worker', () => {
  it('arrive whole: the URLs are rebuilt from their hrefs after structured cloning', () => {
    const cookie = testCookie({ defaultRedirectionUrl: new URL('https://www.example.com/home') });
    const arrived = cookieFromPost(structuredClone(postedCookie(cookie)));
    assert.equal(arrived.portalUrl.href, cookie.portalUrl.href);
    assert.equal(arrived.defaultRedirectionUrl?.href, 'https://www.example.com/home');
    assert.deepEqual(
      { ...arrived, portalUrl: 0, defaultRedirectionUrl: 0 },
      { ...cookie, portalUrl: 0, defaultRedirectionUrl: 0 },
    );
    assert.equal(cookieFromPost(structuredClone(postedCookie(testCookie()))).defaultRedirectionUrl, undefined);
  });
});

describe('users posted to the worker', () => {
  it("are frozen again after structured cloning, so that the rules' decisions are remembered for them", () => {
    const user = Object.freeze({
      username: 'john',
      displayName: 'John',
      emails: Object.freeze(['john@example.com']) as string[],
      groups: Object.freeze(['dev']) as string[],
      disabled: false,
    });
    const arrived = structuredClone([user]);
    assert.equal(Object.isFrozen(arrived[0]), false);
    const users = new PostedUsers();
    users.replace(arrived);
    const held = users.get('john')!;
    assert.ok(Object.isFrozen(held) && Object.isFrozen(held.groups) && Object.isFrozen(held.emails));
    assert.equal(users.get('John'), undefined);
    users.replace(null);
    assert.equal(users.get('john'), undefined);
  });
});
