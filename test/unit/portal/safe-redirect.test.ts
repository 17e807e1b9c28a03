// SPEC §5: a safe redirect target is an https URL (http only where the portal is http) under a cookie domain.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { safeRedirectTarget } from '../../../src/web/safe-redirect.js';
import type { CookieSettings } from '../../../src/config/cookies.js';

function cookie(domain: string, portal: string): CookieSettings {
  return {
    domain,
    name: 'gatehouse_session',
    portalUrl: new URL(portal),
    sameSite: 'lax',
    expiration: 3600,
    inactivity: 300,
    rememberMe: 0,
    secure: portal.startsWith('https'),
  };
}

const COOKIES = [cookie('example.com', 'https://auth.example.com'), cookie('localhost', 'http://auth.localhost:9091')];

describe('safeRedirectTarget', () => {
  const safe = [
    'https://app.example.com/',
    'https://example.com/x?y=1#z',
    'https://deep.sub.example.com:8443/p',
    'http://app.localhost/',
    'https://app.localhost/',
  ];
  for (const target of safe) {
    it(`accepts ${target}`, () => {
      assert.ok(safeRedirectTarget(target, COOKIES));
    });
  }

  const unsafe: unknown[] = [
    undefined,
    null,
    42,
    {},
    ['https://app.example.com/'],
    '',
    'https://evil.com/',
    'https://evilexample.com/',
    'https://example.com.evil.com/',
    '//evil.com/',
    '///evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    'https:\\\\evil.com',
    'https://evil.com\\@app.example.com/',
    'https://app.example.com\\@evil.com/',
    'https://app.example.com@evil.com/',
    'https://user:pw@app.example.com/',
    'http://app.example.com/',
    'javascript:alert(1)',
    'data:text/html,x',
    'ftp://app.example.com/',
    ' https://app.example.com/',
    'https://app.example.com/\n',
    'https://app.example.com/\u0000',
    'https://%65vil.com/',
    'https://app.example.com.',
    `https://app.example.com/${'a'.repeat(5000)}`,
    'HTTPS://EVIL.COM/',
    'https://[::1]/',
    'https://127.0.0.1/',
  ];
  for (const target of unsafe) {
    it(`refuses ${JSON.stringify(target)?.slice(0, 60)}`, () => {
      assert.equal(safeRedirectTarget(target, COOKIES), undefined);
    });
  }

  it('gives the cookie domain the target lies under', () => {
    assert.equal(safeRedirectTarget('https://a.example.com/', COOKIES)?.cookie.domain, 'example.com');
  });
});
