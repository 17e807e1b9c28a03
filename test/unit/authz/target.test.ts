// SPEC §4: reading the target of an authz call from each proxy flavour's headers, and the client address.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { clientAddress, parseTargetUrl } from '../../../src/authz/target.js';
import { readTarget } from '../../../src/authz/flavours.js';
import { TrustedProxies } from '../../../src/authz/ip.js';
import { parseNetwork, type Network } from '../../../src/config/networks.js';

const ok = (r: ReturnType<typeof readTarget>) => {
  assert.ok('target' in r, JSON.stringify(r));
  return r.target;
};

describe('readTarget', () => {
  it('auth-request reads X-Original-URL and X-Original-Method', () => {
    const t = ok(
      readTarget(
        'auth-request',
        { 'x-original-url': 'https://app.example.com/a?b=1', 'x-original-method': 'POST' },
        'GET',
      ),
    );
    assert.equal(t.url.href, 'https://app.example.com/a?b=1');
    assert.equal(t.method, 'POST');
  });

  it('forward-auth rebuilds the URL from X-Forwarded-Proto, -Host and -Uri', () => {
    const t = ok(
      readTarget(
        'forward-auth',
        {
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'App.Example.com:8443',
          'x-forwarded-uri': '/x/y?z=%20',
          'x-forwarded-method': 'GET',
        },
        'GET',
      ),
    );
    assert.equal(t.url.href, 'https://app.example.com:8443/x/y?z=%20');
    assert.equal(t.raw, 'https://App.Example.com:8443/x/y?z=%20');
  });

  it('forward-auth compares X-Forwarded-Proto case-insensitively (HTTPS is https)', () => {
    const t = ok(
      readTarget(
        'forward-auth',
        {
          'x-forwarded-proto': 'HTTPS',
          'x-forwarded-host': 'a.example.com',
          'x-forwarded-uri': '/x',
          'x-forwarded-method': 'GET',
        },
        'GET',
      ),
    );
    assert.equal(t.url.protocol, 'https:');
    assert.equal(t.raw, 'https://a.example.com/x');
  });

  it('forward-auth takes an absent or empty X-Forwarded-Uri as the root, and rd keeps it as written (Authelia)', () => {
    for (const uri of [undefined, '']) {
      const headers: Record<string, string> = {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'a.example.com',
        'x-forwarded-method': 'GET',
      };
      if (uri !== undefined) headers['x-forwarded-uri'] = uri;
      const t = ok(readTarget('forward-auth', headers, 'GET'));
      assert.equal(t.url.pathname, '/');
      assert.equal(t.resource, '/');
      assert.equal(t.raw, 'https://a.example.com');
    }
  });

  it('auth-request keeps the URL as written for rd, with the scheme lower-cased', () => {
    assert.equal(
      ok(readTarget('auth-request', { 'x-original-url': 'HTTPS://a.example.com', 'x-original-method': 'GET' }, 'GET'))
        .raw,
      'https://a.example.com',
    );
  });

  it('verify prefers X-Original-URL, falls back to X-Forwarded-*, and the request method', () => {
    assert.equal(ok(readTarget('verify', { 'x-original-url': 'https://a.example.com/' }, 'PUT')).method, 'PUT');
    // Authelia's legacy endpoint reads X-Forwarded-Method, never X-Original-Method.
    assert.equal(
      ok(
        readTarget(
          'verify',
          { 'x-original-url': 'https://a.example.com/', 'x-forwarded-method': 'DELETE', 'x-original-method': 'GET' },
          'PUT',
        ),
      ).method,
      'DELETE',
    );
    assert.equal(
      ok(readTarget('verify', { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'GETz' }, 'GET'))
        .method,
      'GET',
    );
    assert.equal(
      ok(
        readTarget(
          'verify',
          { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example.com', 'x-forwarded-uri': '/' },
          'GET',
        ),
      ).url.host,
      'a.example.com',
    );
  });

  const bad: [string, Record<string, string>][] = [
    ['no headers', {}],
    ['no method', { 'x-original-url': 'https://a.example.com/' }],
    [
      'a repeated URL header (joined by Node)',
      { 'x-original-url': 'https://a.example.com/, https://b.example.com/', 'x-original-method': 'GET' },
    ],
    ['a repeated method header', { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'GET, POST' }],
    ['digits in the method', { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'G3T' }],
    [
      'a lower-case method (Authelia accepts A-Z only)',
      { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'get' },
    ],
    [
      'a method with a trailing letter case change',
      { 'x-original-url': 'https://a.example.com/', 'x-original-method': 'GETz' },
    ],
    ['an empty method', { 'x-original-url': 'https://a.example.com/', 'x-original-method': '' }],
    ['a relative URL', { 'x-original-url': '/x', 'x-original-method': 'GET' }],
    ['a tab in the URL', { 'x-original-url': 'https://a.example.com/\tx', 'x-original-method': 'GET' }],
    ['a NUL in the URL', { 'x-original-url': 'https://a.example.com/\u0000', 'x-original-method': 'GET' }],
    ['credentials in the URL', { 'x-original-url': 'https://user:pw@a.example.com/', 'x-original-method': 'GET' }],
    ['a ws: URL', { 'x-original-url': 'ws://a.example.com/', 'x-original-method': 'GET' }],
    ['an over-long URL', { 'x-original-url': `https://a.example.com/${'x'.repeat(9000)}`, 'x-original-method': 'GET' }],
    [
      'a percent-encoded host (the parser would decode it)',
      { 'x-original-url': 'https://pub%6cic.example.com/', 'x-original-method': 'GET' },
    ],
    [
      'a host with a soft hyphen (the parser would drop it)',
      { 'x-original-url': 'https://pub\u00adlic.example.com/', 'x-original-method': 'GET' },
    ],
    [
      'a fragment (the app would get a longer path than judged)',
      { 'x-original-url': 'https://a.example.com/public#/../admin', 'x-original-method': 'GET' },
    ],
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
    ['an empty host', { 'x-forwarded-host': '' }],
    ['a lower-case method', { 'x-forwarded-method': 'get' }],
    ['a fragment in the URI', { 'x-forwarded-uri': '/public#/../admin' }],
  ];
  for (const [name, override] of badForwarded) {
    it(`forward-auth is an error for ${name}`, () => {
      const headers = {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'a.example.com',
        'x-forwarded-uri': '/',
        'x-forwarded-method': 'GET',
        ...override,
      };
      assert.ok('error' in readTarget('forward-auth', headers, 'GET'));
    });
  }
});

describe('/api/verify with both X-Original-URL and X-Forwarded-*', () => {
  const forwarded = {
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'secure.example.com',
    'x-forwarded-uri': '/vault',
  };
  it('is an error when they disagree (a client cannot override what the proxy set)', () => {
    assert.ok(
      'error' in readTarget('verify', { ...forwarded, 'x-original-url': 'https://public.example.com/' }, 'GET'),
    );
  });
  it('is the URL when they agree', () => {
    assert.equal(
      ok(readTarget('verify', { ...forwarded, 'x-original-url': 'https://secure.example.com/vault' }, 'GET')).url.href,
      'https://secure.example.com/vault',
    );
  });
});

describe('parseTargetUrl', () => {
  it('normalises the host to lower case and keeps the query', () => {
    const url = parseTargetUrl('https://APP.example.com/Path?Q=1');
    assert.ok(!('error' in url));
    assert.equal(url.href, 'https://app.example.com/Path?Q=1');
  });
});

describe('clientAddress without trusted proxies (Authelia: the leftmost X-Forwarded-For entry)', () => {
  it('takes the leftmost X-Forwarded-For entry', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9, 10.0.0.1' }, '127.0.0.1'), '203.0.113.9');
  });
  it('accepts IPv6 (bracketed too) and unwraps IPv4-mapped addresses', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '2001:db8::1' }, undefined), '2001:db8::1');
    assert.equal(clientAddress({ 'x-forwarded-for': '[2001:db8::2]' }, undefined), '2001:db8::2');
    assert.equal(clientAddress({}, '::ffff:10.1.2.3'), '10.1.2.3');
  });
  it('is unknown for a blank or garbled header: never the peer (the proxy itself), never an error', () => {
    for (const value of ['unknown', '', ' ', ',10.0.0.1', '10.0.0.1:8080', '10.0.0.999', 'garbage, 10.0.0.1']) {
      assert.equal(clientAddress({ 'x-forwarded-for': value }, '10.0.0.2'), undefined, value);
    }
  });
  it('uses the peer when no header is sent', () => {
    assert.equal(clientAddress({}, '192.0.2.4'), '192.0.2.4');
    assert.equal(clientAddress({}, undefined), undefined);
  });
});

describe('clientAddress with server.trusted_proxies', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '2001:db8:ffff::1'].map((text) => parseNetwork(text) as Network));
  it('believes X-Forwarded-For only from a trusted peer', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '10.1.2.3' }, '198.51.100.7', trusted), '198.51.100.7');
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9' }, '10.0.0.2', trusted), '203.0.113.9');
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9' }, '2001:db8:ffff::1', trusted), '203.0.113.9');
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9' }, '::ffff:10.0.0.2', trusted), '203.0.113.9');
  });
  it('takes the rightmost entry that is not a trusted proxy: a client cannot prepend its own choice', () => {
    assert.equal(
      clientAddress({ 'x-forwarded-for': '10.9.9.9, 203.0.113.9, 10.0.0.3' }, '10.0.0.2', trusted),
      '203.0.113.9',
    );
    assert.equal(
      clientAddress({ 'x-forwarded-for': ['10.9.9.9', '203.0.113.9'] as unknown as string }, '10.0.0.2', trusted),
      '203.0.113.9',
    );
  });
  it('takes the leftmost when every hop is trusted (an internal client behind internal proxies)', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '10.7.7.7, 10.0.0.3' }, '10.0.0.2', trusted), '10.7.7.7');
  });
  it('uses the peer when a trusted proxy sends no header', () => {
    assert.equal(clientAddress({}, '10.0.0.2', trusted), '10.0.0.2');
  });
  it('is unknown when the walk meets a garbled entry, or the header is blank', () => {
    assert.equal(clientAddress({ 'x-forwarded-for': '203.0.113.9, nonsense' }, '10.0.0.2', trusted), undefined);
    assert.equal(clientAddress({ 'x-forwarded-for': '' }, '10.0.0.2', trusted), undefined);
    // Left of the client a garbled entry does not matter: the walk has stopped.
    assert.equal(clientAddress({ 'x-forwarded-for': 'nonsense, 203.0.113.9' }, '10.0.0.2', trusted), '203.0.113.9');
  });
});

describe('the resource is read from the header text the target came from', () => {
  const original = { 'x-original-url': 'https://a.example.com/x/%2e%2e/admin?q=1', 'x-original-method': 'GET' };
  const forwarded = {
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'a.example.com',
    'x-forwarded-uri': '/x/%2e%2e/admin?q=1',
    'x-forwarded-method': 'GET',
  };
  it('auth-request: from X-Original-URL', () => {
    assert.equal(ok(readTarget('auth-request', original, 'GET')).resource, '/admin?q=1');
  });
  it('forward-auth: from X-Forwarded-Uri; absent or empty, the root', () => {
    assert.equal(ok(readTarget('forward-auth', forwarded, 'GET')).resource, '/admin?q=1');
    assert.equal(ok(readTarget('forward-auth', { ...forwarded, 'x-forwarded-uri': '' }, 'GET')).resource, '/');
    const { 'x-forwarded-uri': _uri, ...withoutUri } = forwarded;
    assert.equal(ok(readTarget('forward-auth', withoutUri, 'GET')).resource, '/');
  });
  it('verify: from whichever header it read, and from both when both are sent', () => {
    assert.equal(
      ok(readTarget('verify', { 'x-original-url': original['x-original-url'] }, 'GET')).resource,
      '/admin?q=1',
    );
    assert.equal(ok(readTarget('verify', forwarded, 'GET')).resource, '/admin?q=1');
    assert.equal(ok(readTarget('verify', { ...forwarded, ...original }, 'GET')).resource, '/admin?q=1');
  });
  it('verify: X-Forwarded-Host alone is checked against X-Original-URL, but names no path to compare', () => {
    const headers = {
      'x-original-url': 'https://a.example.com/',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'a.example.com',
    };
    assert.equal(ok(readTarget('verify', headers, 'GET')).resource, '/');
  });
  it('a path climbing above the root is refused though the URL parser would clamp it, for every flavour', () => {
    const climbing = '/../../admin';
    assert.ok(
      'error' in
        readTarget('auth-request', { ...original, 'x-original-url': `https://a.example.com${climbing}` }, 'GET'),
    );
    assert.ok('error' in readTarget('forward-auth', { ...forwarded, 'x-forwarded-uri': climbing }, 'GET'));
    assert.ok('error' in readTarget('verify', { ...forwarded, 'x-forwarded-uri': climbing }, 'GET'));
  });
});
