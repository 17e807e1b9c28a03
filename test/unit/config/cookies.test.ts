import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { findCookieForHost, hostIsWithin } from '../../../src/config/index.js';
import type { CookieSettings } from '../../../src/config/cookies.js';
import { loadContent, MINIMAL_COOKIE } from './config-files.js';

describe('resolveCookies: session-level defaults applied to each cookie domain', () => {
  const { cookies } = loadContent({
    session: {
      name: 'gh',
      same_site: 'strict',
      expiration: '2h',
      inactivity: '10m',
      remember_me: '1w',
      cookies: [
        { ...MINIMAL_COOKIE, default_redirection_url: 'https://www.example.com' },
        {
          domain: 'example.org',
          portal_url: 'https://login.example.org/gatehouse',
          name: 'org_session',
          same_site: 'lax',
          expiration: '30m',
          inactivity: '1m',
          remember_me: -1,
        },
        { domain: 'app.localhost', authelia_url: 'http://auth.app.localhost:9091' },
      ],
    },
  });
  const [inherits, overrides, local] = cookies;

  it('a cookie without overrides takes every session-level value', () => {
    assert.equal(inherits?.domain, 'example.com');
    assert.equal(inherits?.name, 'gh');
    assert.equal(inherits?.sameSite, 'strict');
    assert.equal(inherits?.expiration, 7200);
    assert.equal(inherits?.inactivity, 600);
    assert.equal(inherits?.rememberMe, 604800);
    assert.equal(inherits?.portalUrl.href, 'https://auth.example.com/');
    assert.equal(inherits?.defaultRedirectionUrl?.href, 'https://www.example.com/');
  });

  it("a cookie's own values win over the session-level ones", () => {
    assert.equal(overrides?.name, 'org_session');
    assert.equal(overrides?.sameSite, 'lax');
    assert.equal(overrides?.expiration, 1800);
    assert.equal(overrides?.inactivity, 60);
    assert.equal(overrides?.rememberMe, -1);
    assert.equal(overrides?.defaultRedirectionUrl, undefined);
  });

  it('portal_url is used when authelia_url is absent', () => {
    assert.equal(overrides?.portalUrl.href, 'https://login.example.org/gatehouse');
  });

  it('the cookie is Secure exactly when the portal is https', () => {
    assert.equal(inherits?.secure, true);
    assert.equal(local?.secure, false);
  });
});

describe('findCookieForHost: the most specific cookie domain covering the host', () => {
  const cookie = (domain: string): CookieSettings => ({
    domain,
    name: 'gatehouse_session',
    portalUrl: new URL(`https://auth.${domain}`),
    sameSite: 'lax',
    expiration: 3600,
    inactivity: 300,
    rememberMe: -1,
    secure: true,
  });
  const cookies = [cookie('example.com'), cookie('internal.example.com'), cookie('example.org')];
  const cases: [host: string, domain: string | undefined][] = [
    ['example.com', 'example.com'],
    ['app.example.com', 'example.com'],
    ['a.b.c.example.com', 'example.com'],
    ['evilexample.com', undefined],
    ['example.com.evil.net', undefined],
    ['APP.Example.COM', 'example.com'],
    ['internal.example.com', 'internal.example.com'],
    ['db.internal.example.com', 'internal.example.com'],
    ['notinternal.example.com', 'example.com'],
    ['app.example.com.', undefined],
    ['example.com.', undefined],
    ['.example.com', undefined],
    ['com', undefined],
    ['', undefined],
    ['www.example.org', 'example.org'],
    ['example.net', undefined],
  ];
  for (const [host, domain] of cases) {
    it(`'${host}' → ${domain ?? 'no cookie domain'}`, () => {
      assert.equal(findCookieForHost(cookies, host)?.domain, domain);
    });
  }

  it('the answer does not depend on the order of the entries', () => {
    assert.equal(findCookieForHost([...cookies].reverse(), 'db.internal.example.com')?.domain, 'internal.example.com');
  });

  it('no cookie domains means no match', () => {
    assert.equal(findCookieForHost([], 'example.com'), undefined);
  });
});

describe('hostIsWithin: label-boundary suffix match', () => {
  const cases: [string, string, boolean][] = [
    ['example.com', 'example.com', true],
    ['a.example.com', 'example.com', true],
    ['aexample.com', 'example.com', false],
    ['.example.com', 'example.com', false],
    ['example.co', 'example.com', false],
    ['localhost', 'localhost', true],
    ['auth.localhost', 'localhost', true],
  ];
  for (const [host, domain, expected] of cases) {
    it(`'${host}' ${expected ? 'is' : 'is not'} within '${domain}'`, () =>
      assert.equal(hostIsWithin(host, domain), expected));
  }
});
