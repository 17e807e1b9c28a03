// server.endpoints.authz: Authelia's endpoint map resolved into what Gatehouse serves, and refused where it cannot be
// honoured (with the key named), as Authelia's validator names its keys.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { resolveAuthzEndpoints } from '../../../src/config/authz-endpoints.js';

const problemsOf = (config: Parameters<typeof resolveAuthzEndpoints>[0]) =>
  resolveAuthzEndpoints(config).problems.map((p) => `${p.path.join('.')}: ${p.message}`);

describe('resolveAuthzEndpoints: defaults', () => {
  it('without a map: /api/verify (legacy), /api/authz/auth-request and /api/authz/forward-auth', () => {
    for (const config of [undefined, {}]) {
      const { endpoints, problems } = resolveAuthzEndpoints(config);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        endpoints.map((e) => [e.path, e.flavour]),
        [
          ['/api/verify', 'verify'],
          ['/api/authz/auth-request', 'auth-request'],
          ['/api/authz/forward-auth', 'forward-auth'],
        ],
      );
    }
  });

  it('auth-request and forward-auth read Authorization first, then Proxy-Authorization, then the session cookie', () => {
    const { endpoints } = resolveAuthzEndpoints(undefined);
    const auth = endpoints.find((e) => e.flavour === 'auth-request')!;
    const fwd = endpoints.find((e) => e.flavour === 'forward-auth')!;
    assert.deepEqual(auth.strategies, [
      { kind: 'header', header: 'authorization', challenge: { status: 401, header: 'WWW-Authenticate' } },
      { kind: 'header', header: 'proxy-authorization', challenge: { status: 401, header: 'WWW-Authenticate' } },
      { kind: 'cookie' },
    ]);
    assert.deepEqual(fwd.strategies[1], {
      kind: 'header',
      header: 'proxy-authorization',
      challenge: { status: 407, header: 'Proxy-Authenticate' },
    });
    assert.deepEqual(endpoints.find((e) => e.flavour === 'verify')!.strategies, [
      { kind: 'legacy' },
      { kind: 'cookie' },
    ]);
  });
});

describe('resolveAuthzEndpoints: an operator map', () => {
  it('replaces the defaults; names become /api/authz/<name>; legacy may omit its implementation', () => {
    const { endpoints, problems } = resolveAuthzEndpoints({
      legacy: {},
      'k8s/nginx': {
        implementation: 'AuthRequest',
        authn_strategies: [{ name: 'HeaderAuthorization', schemes: ['Basic'] }, { name: 'CookieSession' }],
      },
      caddy: { implementation: 'ForwardAuth', authn_strategies: [{ name: 'CookieSession' }] },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      endpoints.map((e) => [e.path, e.flavour, e.strategies.length]),
      [
        ['/api/verify', 'verify', 2],
        ['/api/authz/k8s/nginx', 'auth-request', 2],
        ['/api/authz/caddy', 'forward-auth', 1],
      ],
    );
  });

  it('a custom endpoint may use the Legacy implementation', () => {
    const { endpoints } = resolveAuthzEndpoints({ old: { implementation: 'Legacy' } });
    assert.deepEqual(
      endpoints.map((e) => [e.path, e.flavour]),
      [['/api/authz/old', 'verify']],
    );
  });

  const refused: [string, Parameters<typeof resolveAuthzEndpoints>[0], RegExp][] = [
    [
      'ExtAuthz (Envoy)',
      { envoy: { implementation: 'ExtAuthz' } },
      /^envoy\.implementation: 'ExtAuthz' \(Envoy\) is not supported/,
    ],
    [
      'an unknown implementation',
      { x: { implementation: 'Magic' } },
      /^x\.implementation: must be one of AuthRequest, ForwardAuth or Legacy, not 'Magic'/,
    ],
    ['no implementation on a custom name', { x: {} }, /^x\.implementation: must be one of/],
    [
      'legacy with another implementation',
      { legacy: { implementation: 'ForwardAuth' } },
      /^legacy\.implementation: must be 'Legacy'/,
    ],
    ['an invalid name', { '1bad': { implementation: 'AuthRequest' } }, /^1bad: is not a valid endpoint name/],
    ['a name ending in a slash', { 'bad/': { implementation: 'AuthRequest' } }, /^bad\/: is not a valid endpoint name/],
    [
      'a strategy without a name',
      { x: { implementation: 'AuthRequest', authn_strategies: [{}] } },
      /^x\.authn_strategies\.0\.name: is required/,
    ],
    [
      'an unknown strategy',
      { x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'Magic' }] } },
      /^x\.authn_strategies\.0\.name: must be one of/,
    ],
    [
      'a prototype name as strategy',
      { x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'toString' }] } },
      /must be one of/,
    ],
    [
      'a duplicate strategy',
      {
        x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'CookieSession' }, { name: 'CookieSession' }] },
      },
      /^x\.authn_strategies\.1\.name: 'CookieSession' is listed twice/,
    ],
    [
      'the bearer scheme',
      {
        x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'HeaderAuthorization', schemes: ['bearer'] }] },
      },
      /^x\.authn_strategies\.0\.schemes\.0: 'bearer' is not supported/,
    ],
    [
      'an unknown scheme',
      {
        x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'HeaderAuthorization', schemes: ['digest'] }] },
      },
      /must be 'basic', not 'digest'/,
    ],
    [
      'schemes on CookieSession',
      { x: { implementation: 'AuthRequest', authn_strategies: [{ name: 'CookieSession', schemes: ['basic'] }] } },
      /^x\.authn_strategies\.0\.schemes: is not valid for the CookieSession strategy/,
    ],
    [
      'a Basic credentials cache',
      {
        x: {
          implementation: 'AuthRequest',
          authn_strategies: [{ name: 'HeaderAuthorization', scheme_basic_cache_lifespan: 300 }],
        },
      },
      /^x\.authn_strategies\.0\.scheme_basic_cache_lifespan: is not supported/,
    ],
  ];
  for (const [name, config, expected] of refused) {
    it(`refuses ${name}, naming the key`, () => {
      const problems = problemsOf(config);
      assert.ok(
        problems.some((p) => expected.test(p)),
        problems.join('\n'),
      );
    });
  }

  it('a zero cache lifespan is accepted (it means no cache, as Gatehouse does)', () => {
    assert.deepEqual(
      problemsOf({
        x: {
          implementation: 'AuthRequest',
          authn_strategies: [{ name: 'HeaderAuthorization', scheme_basic_cache_lifespan: 0 }],
        },
      }),
      [],
    );
  });
});
