import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { clearSessionCookie, readCookieValues, sessionCookie } from '../../../src/session/cookie.js';
import type { Session } from '../../../src/session/model.js';
import { testCookie, testSessionData } from '../../helpers/session-cookie.js';

describe('SPEC §4 reading the session cookie', () => {
  const name = 'gatehouse_session';
  const cases: Array<[string, string | undefined, string[]]> = [
    ['no header', undefined, []],
    ['an empty header', '', []],
    ['the only cookie', 'gatehouse_session=abc', ['abc']],
    ['among others, spaces and tabs around', 'a=1;  gatehouse_session = abc \t; b=2', ['abc']],
    [
      'twice (a sibling subdomain set one), in order',
      'gatehouse_session=first; x=y; gatehouse_session=second',
      ['first', 'second'],
    ],
    ['quoted', 'gatehouse_session="abc"', ['abc']],
    ['a lone quote is kept', 'gatehouse_session="abc', ['"abc']],
    ['an empty value', 'gatehouse_session=', ['']],
    ['a value containing =', 'gatehouse_session=a=b', ['a=b']],
    ['percent signs are not decoded (and never throw)', 'gatehouse_session=%E0%A4%A', ['%E0%A4%A']],
    ['a longer name is another cookie', 'gatehouse_session2=abc; xgatehouse_session=def', []],
    ['a prefix of the name is another cookie', 'gatehouse_sess=abc', []],
    ['a pair without "=" is skipped', 'gatehouse_session; gatehouse_session=ok', ['ok']],
    ['garbage around', ';;; =;=;gatehouse_session=ok;;\u0000\uffff=', ['ok']],
    [
      'at most four values',
      Array.from({ length: 10 }, (_, i) => `gatehouse_session=v${i}`).join('; '),
      ['v0', 'v1', 'v2', 'v3'],
    ],
  ];
  for (const [label, header, expected] of cases) {
    it(`reads ${label}`, () => assert.deepEqual(readCookieValues(header, name), expected));
  }

  it('scans a huge header quickly and finds the cookie at its end', () => {
    const header = `${`${`junk=${'x'.repeat(1000)}; `}`.repeat(1000)}gatehouse_session=last`;
    const started = performance.now();
    assert.deepEqual(readCookieValues(header, name), ['last']);
    assert.ok(performance.now() - started < 100);
  });

  it('survives a megabyte of separators', () => {
    assert.deepEqual(readCookieValues(';='.repeat(500_000), name), []);
  });
});

describe('SPEC §8 the session cookie', () => {
  const cookie = testCookie();
  const now = 1_700_000_000_000;
  const session = (rememberMe: boolean): Session => ({
    id: 'AbC_-123',
    data: testSessionData({ createdAt: now - 10_000, lastActivity: now, rememberMe }),
  });
  const attributes = (setCookie: string) => setCookie.split('; ').slice(1).sort();

  it('is HttpOnly, Secure, SameSite as configured, for the cookie domain, path /, and a browser-session cookie', () => {
    const value = sessionCookie(session(false), cookie, now);
    assert.ok(value.startsWith('gatehouse_session=AbC_-123; '));
    assert.deepEqual(attributes(value), ['Domain=example.com', 'HttpOnly', 'Path=/', 'SameSite=Lax', 'Secure']);
  });

  it('is persistent only under remember-me, for its remaining lifetime', () => {
    assert.deepEqual(attributes(sessionCookie(session(true), cookie, now)), [
      'Domain=example.com',
      'HttpOnly',
      `Max-Age=${2_592_000 - 10}`,
      'Path=/',
      'SameSite=Lax',
      'Secure',
    ]);
  });

  it('is not persistent when remember-me has since been disabled', () => {
    assert.ok(!sessionCookie(session(true), { ...cookie, rememberMe: -1 }, now).includes('Max-Age'));
  });

  it('is not Secure for an http portal, and SameSite follows the setting', () => {
    const value = sessionCookie(session(false), { ...cookie, secure: false, sameSite: 'strict' }, now);
    assert.deepEqual(attributes(value), ['Domain=example.com', 'HttpOnly', 'Path=/', 'SameSite=Strict']);
  });

  it('has no Domain on localhost, which browsers refuse (the cookie is host-only there)', () => {
    const value = sessionCookie(session(false), { ...cookie, domain: 'localhost', secure: false }, now);
    assert.ok(!/domain=/i.test(value));
  });

  it('is cleared with the same attributes, an empty value and an expiry in the past', () => {
    const value = clearSessionCookie(cookie);
    assert.ok(value.startsWith('gatehouse_session=; '));
    assert.deepEqual(attributes(value), [
      'Domain=example.com',
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'HttpOnly',
      'Max-Age=0',
      'Path=/',
      'SameSite=Lax',
      'Secure',
    ]);
  });
});
