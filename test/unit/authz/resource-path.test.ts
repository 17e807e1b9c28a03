import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { compileAccessControl } from '../../../src/authz/rules.js';
import { canonicalResource } from '../../../src/authz/resource-path.js';
import { TRAVERSAL_ATTACKS } from '../../helpers/traversal-attacks.js';

function expectResource(raw: string, expected: string): void {
  assert.equal(canonicalResource(raw), expected, raw);
}

function expectRefused(raw: string): void {
  const result = canonicalResource(raw);
  assert.equal(typeof result, 'object', `${raw} should be refused, got ${String(result)}`);
}

describe('canonical resource: Authelia URLPathFullClean and NewObject vectors', () => {
  const vectors: [string, string][] = [
    ['https://example.com/', '/'],
    ['https://example.com/?query=1&alt=2', '/?query=1&alt=2'],
    ['https://example.com/test', '/test'],
    ['https://example.com/test/', '/test/'],
    ['https://example.com/test/?query=1&alt=2', '/test/?query=1&alt=2'],
    ['https://example.com/test?query=1&alt=2', '/test?query=1&alt=2'],
    ['https://example.com/five/../test?query=1&alt=2', '/test?query=1&alt=2'],
    ['https://example.com/five/..%2ftest?query=1&alt=2', '/test?query=1&alt=2'],
    ['https://domain.example.com/api?type=none', '/api?type=none'],
    ['https://a.com/a/../t', '/t'],
    ['https://a.com/a/..%2f/t', '/t'],
    ['https://a.com/a/..%2ft', '/t'],
    ['https://a.com/a/..%2F/t', '/t'],
    ['https://a.com/a/..%2Ft', '/t'],
    // handler_authz_common_test.go (getRequestURIFromForwardedHeaders + URLPathFullClean)
    ['/foo/../bar', '/bar'],
    ['/foo/./bar', '/foo/bar'],
    ['/foo/%2e%2e/bar', '/bar'],
    ['/foo/..%2fbar', '/bar'],
    ['/foo%2f..%2fbar', '/bar'],
    ['/foo%2F..%2Fbar', '/bar'],
    ['/foo%2f%2e%2e%2fbar', '/bar'],
    ['/path%20with%20space', '/path with space'],
    ['/foo//bar', '/foo/bar'],
  ];
  for (const [raw, expected] of vectors) {
    it(`${raw} matches as ${expected}`, () => expectResource(raw, expected));
  }
  it('an origin-form target (X-Forwarded-Uri) reads like the absolute URL', () => {
    expectResource('/five/..%2ftest?query=1', '/test?query=1');
  });
  it('a URL with no path is the root', () => {
    expectResource('https://example.com', '/');
    expectResource('https://example.com?a=1', '/?a=1');
  });
  it('an empty query adds no "?" (Authelia appends RawQuery only when it is not empty)', () =>
    expectResource('https://example.com/a?', '/a'));
  it('empty segments collapse as in path.Clean, a trailing slash stays', () => {
    expectResource('https://example.com/a//b', '/a/b');
    expectResource('https://example.com/a//', '/a/');
    expectResource('https://example.com/a/./b/', '/a/b/');
  });
});

describe('canonical resource: decoding', () => {
  it('percent-encoded letters are decoded (/%61dmin is /admin)', () =>
    expectResource('https://x.com/%61%64%6Din', '/admin'));
  it('an encoded slash is a slash, as Authelia decodes it', () => expectResource('https://x.com/a%2Fb', '/a/b'));
  it('UTF-8 is decoded', () => expectResource('https://x.com/caf%C3%A9', '/café'));
  it('an encoded ? in the path stays in the path, decoded, as in Authelia', () =>
    expectResource('https://x.com/a%3Fb?c=d', '/a?b?c=d'));
  it('the query keeps its encoding except unreserved characters (RFC 3986 §6.2.2.2)', () => {
    expectResource('https://x.com/s?%61dmin=1&next=%2Fhome&q=a%20b', '/s?admin=1&next=%2Fhome&q=a%20b');
  });
  it('a literal % that starts no hex pair is a %', () => expectResource('https://x.com/100%25', '/100%'));
});

describe('canonical resource: traversal forms resolve to the path the upstream serves, or are refused', () => {
  for (const { target, resource } of TRAVERSAL_ATTACKS) {
    if (resource === null) it(`${target} is refused`, () => expectRefused(`https://r.example.com${target}`));
    else it(`${target} is ${resource}`, () => expectResource(`https://r.example.com${target}`, resource));
  }
});

describe('canonical resource: ambiguous paths are refused', () => {
  const refused: [string, string][] = [
    ['a `..` above the root', '/../../etc/passwd'],
    ['an encoded `..` above the root', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
    ['a `..` above the root after decoding', '/a/..%2f..%2fb'],
    ['a `..` after an empty segment (path.Clean and RFC 3986 disagree)', '/a//../t'],
    ['the same, encoded (Authelia vector /a/%2F..%2Ft)', '/a/%2F..%2Ft'],
    ['the same, encoded dots (Authelia vector /a/%2F%2e%2e%2Ft)', '/a/%2F%2e%2e%2Ft'],
    ['Authelia vector /%2f..%2f', '/%2f..%2f'],
    ['Authelia vector /%2e%2e/secret (Authelia clamps to /secret)', '/%2e%2e/secret'],
    [
      'Authelia vector /five/%2f..%2f/test (path.Clean gives /test, RFC 3986 /five/test)',
      '/five/%2f..%2f/test?query=1',
    ],
    ['Authelia vector /five/%2f%2e%2e%2f/test', '/five/%2f%2e%2e%2f/test'],
    ['a path ending in `..`', '/a/b/..'],
    ['a path ending in `.`', '/a/.'],
    ['a bare `..`', '/..'],
    ['an encoded NUL', '/bypass/%00/x'],
    ['an encoded control byte', '/a%0d%0aSet-Cookie:x'],
    ['an encoded DEL', '/a%7f'],
    ['a C1 control once decoded', '/a%c2%85'],
    ['a raw control byte', '/a\u0001b'],
    ['a raw space', '/a b'],
    ['a raw backslash', '/bypass\\..\\a'],
    ['an encoded backslash', '/bypass/..%5ca/longer/rule/abc'],
    ['an encoded backslash, upper case', '/bypass/..%5Ca'],
    ['double encoding of a dot', '/bypass/%252e%252e/a/longer/rule/abc'],
    ['double encoding of a slash', '/bypass/..%252fa/longer/rule/abc'],
    ['double encoding of a letter', '/%2561dmin'],
    ['invalid percent-encoding', '/a%zzb'],
    ['a truncated percent-encoding', '/a%2'],
    ['a lone percent at the end', '/a%'],
    ['an overlong UTF-8 slash (%c0%af)', '/bypass/..%c0%afa/longer/rule/abc'],
    ['an overlong UTF-8 dot (%c0%ae)', '/bypass/%c0%ae%c0%ae/a'],
    ['a three-byte overlong slash (%e0%80%af)', '/bypass/..%e0%80%afa'],
    ['a lone continuation byte', '/a%80'],
    ['a truncated sequence', '/a%c3'],
    ['an encoded surrogate', '/a%ed%a0%80'],
    ['a fullwidth solidus (%ef%bc%8f)', '/bypass/..%ef%bc%8fa/longer/rule/abc'],
    ['a fullwidth full stop', '/bypass/%ef%bc%8e%ef%bc%8e/a'],
    ['a fullwidth reverse solidus', '/a%ef%bc%bcb'],
    ['raw non-ASCII (proxies and browsers send it encoded)', '/caf\u00e9'],
    ['a `..;` path parameter (Tomcat reads it as `..`)', '/bypass/..;/a/longer/rule/abc'],
    ['a `.;` path parameter', '/a/.;x/b'],
    ['an encoded `..;`', '/bypass/%2e%2e%3b/a/longer/rule/abc'],
    ['a fragment', '/a#b'],
  ];
  for (const [why, path] of refused)
    it(`${why}: ${JSON.stringify(path)}`, () => expectRefused(`https://r.example.com${path}`));
  it('an origin-form target is held to the same rules', () => {
    expectRefused('/bypass/..%5ca');
    expectRefused('/../x');
    expectRefused('a/b');
    expectRefused('');
  });
  it('segments that merely contain dots are ordinary names', () => {
    expectResource('https://r.example.com/a/...', '/a/...');
    expectResource('https://r.example.com/a/..b/.c', '/a/..b/.c');
    expectResource('https://r.example.com/a/b;..', '/a/b;..');
  });
});

describe('canonical resource: the rules engine matches it (Authelia authorizer test, resources on one domain)', () => {
  const access = compileAccessControl(
    {
      default_policy: 'deny',
      networks: [],
      rules: [
        { domain: ['resource.example.com'], policy: 'bypass', resources: ['^/bypass/.*$', '^/$', 'embedded'] },
        { domain: ['resource.example.com'], policy: 'one_factor', resources: ['^/one_factor/.*$'] },
        { domain: ['resource.example.com'], policy: 'two_factor', resources: ['^/a/longer/rule/.*$'] },
        { domain: ['resource.example.com'], policy: 'two_factor', resources: ['^/an/exact/path/$'] },
      ],
    } as never,
    { network: {} },
  );
  const policyOf = (path: string): string => {
    const raw = `https://resource.example.com${path}`;
    const resource = canonicalResource(raw);
    assert.equal(typeof resource, 'string', path);
    return access.evaluate({ url: new URL(raw), resource: resource as string, method: 'GET', ip: '10.0.0.1' }).policy;
  };
  const expectations: [string, string][] = [
    ['/', 'bypass'],
    ['/bypass/abc', 'bypass'],
    ['/bypass/', 'bypass'],
    ['/one_factor/abc', 'one_factor'],
    ['/xyz/embedded/abc', 'bypass'],
    ['/a/longer/rule/abc', 'two_factor'],
    ['/an/exact/path/', 'two_factor'],
    ['/bypass/../a/longer/rule/abc', 'two_factor'],
    ['/bypass/..//a/longer/rule/abc', 'two_factor'],
    ['/bypass/..%2f/a/longer/rule/abc', 'two_factor'],
    ['/bypass/..%2fa/longer/rule/abc', 'two_factor'],
    ['/bypass/..%2F/a/longer/rule/abc', 'two_factor'],
    ['/bypass/..%2Fa/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e//a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e%2f/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e%2fa/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e%2F/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2e%2e%2Fa/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E//a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E%2f/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E%2fa/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E%2F/a/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E%2Fa/longer/rule/abc', 'two_factor'],
    ['/bypass/%2E%2E%2Fan/exact/path/', 'two_factor'],
  ];
  for (const [path, policy] of expectations) it(`${path} is ${policy}`, () => assert.equal(policyOf(path), policy));
});
