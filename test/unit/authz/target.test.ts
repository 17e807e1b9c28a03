// SPEC §4: reading the target of an authz call from each proxy flavour's headers, and the client address.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientAddress, parseTargetUrl, readTarget } from '../../../src/authz/target.js';

const ok = (r: ReturnType<typeof readTarget>) => {
  assert.ok('target' in r, JSON.stringify(r));
  return r.target;
};

describe('readTarget', () => {
  it('auth-request reads X-Original-URL and X-Original-Method', () => {
    const t = ok(readTarget('auth-request', { 'x-original-url': 'https://app.example.com/a?b=1', 'x-original-method': 'post' }, 'GET'));
    assert.equal(t.url.href, 'https://app.example.com/a?b=1');
    assert.equal(t.method, 'POST');
  });

  it('forward-auth rebuilds the URL from X-Forwarded-Proto, -Host and -Uri', () => {
    const t = ok(readTarget('forward-auth', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'App.Example.com:8443', 'x-forwarded-uri': '/x/y?z=%20', 'x-forwarded-method': 'GET' }, 'GET'));
    assert.equal(t.url.href, 'https://app.example.com:8443/x/y?z=%20');
  });

  it('verify prefers X-Original-URL, falls back to X-Forwarded-*, and the request method', () => {
    assert.equal(ok(readTarget('verify', { 'x-original-url': 'https://a.example.com/' }, 'PUT')).method, 'PUT');
    assert.equal(ok(readTarget('verify', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example.com', 'x-forwarded-uri': '/' }, 'GET')).url.host, 'a.example.com');
  });

  const bad: [string, Record<string, string>][] = [
    ['no headers', {}],
    ['no method', { 'x-original-url': 'https://a.example.com/' }],
    ['a repeated URL header (joined by Node)', { 'x-original-url': 'https://a.example.com/, https://b.example.com/', 'x-original-method': 'GET' }],
    ['a repeated method header', { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'GET, POST' }],
    ['digits in the method', { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'G3T' }],
    ['a relative URL', { 'x-original-url': '/x', 'x-original-method': 'GET' }],
    ['a tab in the URL', { 'x-original-url': 'https://a.example.com/\tx', 'x-original-method': 'GET' }],
    ['a NUL in the URL', { 'x-original-url': 'https://a.example.com/\u0000', 'x-original-method': 'GET' }],
    ['credentials in the URL', { 'x-original-url': 'https://user:pw@a.example.com/', 'x-original-method': 'GET' }],
    ['a ws: URL', { 'x-original-url': 'ws://a.example.com/', 'x-original-method': 'GET' }],
    ['an over-long URL', { 'x-original-url': `https://a.example.com/${'x'.repeat(9000)}`, 'x-original-method': 'GET' }],
    ['a percent-encoded host (the parser would decode it)', { 'x-original-url': 'https://pub%6cic.example.com/', 'x-original-method': 'GET' }],
    ['a host with a soft hyphen (the parser would drop it)', { 'x-original-url': 'https://pub\u00adlic.example.com/', 'x-original-method': 'GET' }],
    ['a fragment (the app would get a longer path than judged)', { 'x-original-url': 'https://a.example.com/public#/../admin', 'x-original-method': 'GET' }],
  ];
  for (const [name, headers] of bad) {
    it(`is an error for ${name}`, () => {
      assert.ok('error' in readTarget('auth-request', headers, 'GET'));
    });
  }

  const badForwarded: [string, Record<string, string>][] = [
    ['a host with a slash', { 'x-forwarded-host': 'a.example.com/x' }],
    ['a host with a space', { 'x-forwarded-host': 'a.example.com x' }],
    ['a host with userinfo', { 'x-forwarded-host': 'u@a.example.com' }],
    ['a URI starting with //', { 'x-forwarded-uri': '//evil.com/' }],
    ['a URI without a slash', { 'x-forwarded-uri': 'x' }],
    ['an unknown proto', { 'x-forwarded-proto': 'file' }],
    ['a fragment in the URI', { 'x-forwarded-uri': '/public#/../admin' }],
  ];
  for (const [name, override] of badForwarded) {
    it(`forward-auth is an error for ${name}`, () => {
      const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example.com', 'x-forwarded-uri': '/', 'x-forwarded-method': 'GET', ...override };
      assert.ok('error' in readTarget('forward-auth', headers, 'GET'));
    });
  }
});

describe('/api/verify with both X-Original-URL and X-Forwarded-*', () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'secure.example.com', 'x-forwarded-uri': '/vault' };
  it('is an error when they disagree (a client cannot override what the proxy set)', () => {
    assert.ok('error' in readTarget('verify', { ...forwarded, 'x-original-url': 'https://public.example.com/' }, 'GET'));
  });
  it('is the URL when they agree', () => {
    assert.equal(ok(readTarget('verify', { ...forwarded, 'x-original-url': 'https://secure.example.com/vault' }, 'GET')).url.href, 'https://secure.example.com/vault');
  });
});

describe('parseTargetUrl', () => {
  it('normalises the host to lower case and keeps the query', () => {
    const url = parseTargetUrl('https://APP.example.com/Path?Q=1');
    assert.ok(!('error' in url));
    assert.equal(url.href, 'https://app.example.com/Path?Q=1');
  });
});

describe('clientAddress', () => {
  it('takes the leftmost X-Forwarded-For entry', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9, 10.0.0.1' }, '127.0.0.1'), '203.0.113.9');
  });
  it('accepts IPv6 and unwraps IPv4-mapped addresses', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '2001:db8::1' }, undefined), '2001:db8::1');
    assert.equal(clientAddress({}, '::ffff:10.1.2.3'), '10.1.2.3');
  });
  it('is an error for a garbled header, never a silent fallback', () => {
    assert.ok(typeof clientAddress({ 'x-forwarded-for': 'unknown' }, '127.0.0.1') === 'object');
  });
  it('uses the peer when no header is sent', () => {
    assert.equal(clientAddress({}, '192.0.2.4'), '192.0.2.4');
  });
});
