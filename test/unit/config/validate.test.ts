import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { cookieDomainProblem } from '../../../src/config/index.js';
import { loadContent, MINIMAL_COOKIE, problemAt, problemsOf, withMinimal } from './config-files.js';

const LONG_SECRET = 'y'.repeat(40);
const cookieConfig = (...cookies: Record<string, unknown>[]) => ({ session: { cookies } });

/** One case: a configuration that must be refused with a problem at `path` (message matching `message`). */
interface RefusedCase {
  rule: string;
  content: Record<string, unknown>;
  path: string;
  message: RegExp;
}

function refuses(cases: readonly RefusedCase[]): void {
  for (const { rule, content, path, message } of cases) {
    it(rule, () => {
      assert.match(
        problemAt(
          problemsOf(() => loadContent(content)),
          path,
        ).message,
        message,
      );
    });
  }
}

function accepts(cases: readonly { rule: string; content: Record<string, unknown> }[]): void {
  for (const { rule, content } of cases) {
    it(rule, () => {
      assert.doesNotThrow(() => loadContent(content));
    });
  }
}

describe('session.cookies: domains', () => {
  const domainCases: [string, RegExp | undefined][] = [
    ['example.com', undefined],
    ['sub.example.co.uk', undefined],
    ['localhost', undefined],
    ['app.localhost', undefined],
    ['xn--bcher-kva.example', undefined],
    ['Example.com', /lower case/],
    ['.example.com', /must not start with a dot/],
    ['*.example.com', /wildcard/],
    ['https://example.com', /without a scheme/],
    ['example', /must contain a dot/],
    ['example.com:443', /host name/],
    ['example.com/path', /host name/],
    ['-bad.example.com', /host name/],
    ['exa mple.com', /host name/],
    ['example..com', /host name/],
    ['192.168.1.10', /not an IP address/],
  ];
  for (const [domain, expected] of domainCases) {
    it(`'${domain}' is ${expected ? 'refused' : 'accepted'} as a cookie domain`, () => {
      const problem = cookieDomainProblem(domain);
      if (expected) assert.match(problem ?? '', expected);
      else assert.equal(problem, undefined);
    });
  }

  refuses([
    {
      rule: 'at least one cookie entry is required',
      content: { session: { cookies: [] } },
      path: 'session.cookies',
      message: /at least one entry/,
    },
    {
      rule: 'an invalid domain is reported at its key path',
      content: cookieConfig({ domain: '.example.com', authelia_url: 'https://auth.example.com' }),
      path: 'session.cookies[0].domain',
      message: /must not start with a dot/,
    },
    {
      rule: 'a duplicated domain is an error on the later entry',
      content: cookieConfig(
        MINIMAL_COOKIE,
        { domain: 'example.org', authelia_url: 'https://auth.example.org' },
        MINIMAL_COOKIE,
      ),
      path: 'session.cookies[2].domain',
      message: /duplicates session\.cookies\[0\]\.domain/,
    },
    {
      rule: 'a nested cookie domain with the same cookie name is an error (its visits would destroy the parent session)',
      content: cookieConfig(MINIMAL_COOKIE, {
        domain: 'internal.example.com',
        authelia_url: 'https://auth.internal.example.com',
      }),
      path: 'session.cookies[1].domain',
      message: /lies within session\.cookies\[0\]\.domain 'example\.com' and uses the same cookie name/,
    },
  ]);

  accepts([
    {
      rule: 'nested cookie domains are allowed with distinct cookie names (the most specific one covers its hosts)',
      content: cookieConfig(MINIMAL_COOKIE, {
        domain: 'internal.example.com',
        authelia_url: 'https://auth.internal.example.com',
        name: 'gatehouse_internal',
      }),
    },
  ]);
});

describe('session.cookies: portal and default redirection URLs', () => {
  refuses([
    {
      rule: 'a cookie without authelia_url or portal_url is an error',
      content: cookieConfig({ domain: 'example.com' }),
      path: 'session.cookies[0].authelia_url',
      message: /is required/,
    },
    {
      rule: 'authelia_url and its alias portal_url together are an error',
      content: cookieConfig({ ...MINIMAL_COOKIE, portal_url: 'https://auth.example.com' }),
      path: 'session.cookies[0]',
      message: /not both/,
    },
    {
      rule: 'the portal host must be the domain or under it',
      content: cookieConfig({ domain: 'example.com', authelia_url: 'https://auth.example.org' }),
      path: 'session.cookies[0].authelia_url',
      message: /must be 'example\.com' or a subdomain of it/,
    },
    {
      rule: 'a portal host that merely ends with the domain text is not under it',
      content: cookieConfig({ domain: 'example.com', portal_url: 'https://auth.evilexample.com' }),
      path: 'session.cookies[0].portal_url',
      message: /subdomain/,
    },
    {
      rule: 'the portal must use https for a public domain',
      content: cookieConfig({ domain: 'example.com', authelia_url: 'http://auth.example.com' }),
      path: 'session.cookies[0].authelia_url',
      message: /must use https/,
    },
    {
      rule: 'default_redirection_url must be under the cookie domain',
      content: cookieConfig({ ...MINIMAL_COOKIE, default_redirection_url: 'https://www.example.net' }),
      path: 'session.cookies[0].default_redirection_url',
      message: /subdomain/,
    },
    {
      rule: 'default_redirection_url must use https for a public domain',
      content: cookieConfig({ ...MINIMAL_COOKIE, default_redirection_url: 'http://www.example.com' }),
      path: 'session.cookies[0].default_redirection_url',
      message: /must use https/,
    },
    {
      rule: 'default_redirection_url must not be the portal URL',
      content: cookieConfig({ ...MINIMAL_COOKIE, default_redirection_url: 'https://auth.example.com/' }),
      path: 'session.cookies[0].default_redirection_url',
      message: /must not be the portal URL/,
    },
    {
      rule: "same_site 'none' needs an https portal (browsers drop insecure SameSite=None cookies)",
      content: cookieConfig({ domain: 'localhost', authelia_url: 'http://auth.localhost:9091', same_site: 'none' }),
      path: 'session.cookies[0].same_site',
      message: /https portal/,
    },
  ]);

  accepts([
    {
      rule: 'portal_url is accepted as an alias of authelia_url',
      content: cookieConfig({ domain: 'example.com', portal_url: 'https://auth.example.com' }),
    },
    {
      rule: 'the portal may sit on the cookie domain itself, with a path',
      content: cookieConfig({ domain: 'example.com', authelia_url: 'https://example.com/auth' }),
    },
    {
      rule: 'http is allowed for localhost and .localhost domains',
      content: cookieConfig(
        {
          domain: 'localhost',
          authelia_url: 'http://localhost:9091',
          default_redirection_url: 'http://localhost:8080',
        },
        {
          domain: 'gatehouse.localhost',
          authelia_url: 'http://auth.gatehouse.localhost:9091',
          name: 'gatehouse_local',
        },
      ),
    },
  ]);
});

describe('session durations', () => {
  refuses([
    {
      rule: 'remember_me 0 is an error (use -1 to disable)',
      content: withMinimal({ session: { remember_me: 0 } }),
      path: 'session.remember_me',
      message: /-1 \(disabled\) or greater than 0/,
    },
    {
      rule: 'remember_me below -1 is an error',
      content: withMinimal({ session: { remember_me: -5 } }),
      path: 'session.remember_me',
      message: /-1/,
    },
    {
      rule: 'expiration must be greater than 0',
      content: withMinimal({ session: { expiration: 0 } }),
      path: 'session.expiration',
      message: /greater than 0/,
    },
    {
      rule: 'inactivity must be greater than 0',
      content: withMinimal({ session: { inactivity: '-5m' } }),
      path: 'session.inactivity',
      message: /greater than 0/,
    },
    {
      rule: 'per-cookie overrides follow the same rules',
      content: cookieConfig({ ...MINIMAL_COOKIE, expiration: 0, remember_me: 0 }),
      path: 'session.cookies[0].expiration',
      message: /greater than 0/,
    },
    {
      rule: 'per-cookie remember_me follows the same rule',
      content: cookieConfig({ ...MINIMAL_COOKIE, remember_me: 0 }),
      path: 'session.cookies[0].remember_me',
      message: /-1/,
    },
  ]);

  accepts([{ rule: 'remember_me -1 disables remember me', content: withMinimal({ session: { remember_me: -1 } }) }]);
});

describe('secrets', () => {
  const redis = { host: '127.0.0.1' };
  refuses([
    {
      rule: 'with Redis, session.secret is required (replicas must share it)',
      content: withMinimal({ session: { redis }, identity_validation: { jwt_secret: LONG_SECRET } }),
      path: 'session.secret',
      message: /required when session\.redis is set/,
    },
    {
      rule: 'with Redis, identity_validation.jwt_secret is required',
      content: withMinimal({ session: { redis, secret: LONG_SECRET } }),
      path: 'identity_validation.jwt_secret',
      message: /required when session\.redis is set/,
    },
    {
      rule: 'an empty secret is an error',
      content: withMinimal({ session: { secret: '' } }),
      path: 'session.secret',
      message: /must not be empty/,
    },
  ]);

  it('without Redis, missing secrets are generated at random with a warning', () => {
    const first = loadContent(withMinimal());
    const second = loadContent(withMinimal());
    assert.deepEqual(first.generatedSecrets, ['session.secret', 'identity_validation.jwt_secret']);
    assert.ok((first.config.session.secret ?? '').length >= 32);
    assert.ok((first.config.identity_validation.jwt_secret ?? '').length >= 32);
    assert.notEqual(first.config.session.secret, second.config.session.secret);
    assert.notEqual(first.config.session.secret, first.config.identity_validation.jwt_secret);
    assert.ok(first.warnings.some((w) => w.startsWith('session.secret is not set; a random one was generated')));
    assert.ok(
      first.warnings.some((w) => w.startsWith('identity_validation.jwt_secret is not set; a random one was generated')),
    );
  });

  it('a secret shorter than 32 characters is accepted with a warning', () => {
    const { warnings, generatedSecrets } = loadContent(
      withMinimal({ session: { secret: 'short' }, identity_validation: { jwt_secret: LONG_SECRET } }),
    );
    assert.deepEqual(generatedSecrets, []);
    assert.deepEqual(warnings, ['session.secret is shorter than 32 characters; use a long random value']);
  });

  it('a short secret is never echoed in the warning', () => {
    const { warnings } = loadContent(withMinimal({ session: { secret: 'hunter2' } }));
    assert.ok(!warnings.join('\n').includes('hunter2'));
  });
});

describe('notifier', () => {
  const smtp = { address: 'submission://mail.example.com:587', sender: 'Gatehouse <gh@example.com>' };
  refuses([
    {
      rule: 'filesystem and smtp together are an error',
      content: withMinimal({ notifier: { filesystem: { filename: '/tmp/n.txt' }, smtp } }),
      path: 'notifier',
      message: /one of filesystem or smtp, not both/,
    },
  ]);

  it('smtp alone is kept and no filesystem notifier is added', () => {
    const { config } = loadContent(withMinimal({ notifier: { smtp } }));
    assert.equal(config.notifier.filesystem, undefined);
    assert.equal(config.notifier.smtp?.address, smtp.address);
  });
});

describe('regulation', () => {
  refuses([
    {
      rule: 'modes must not be empty',
      content: withMinimal({ regulation: { modes: [] } }),
      path: 'regulation.modes',
      message: /at least one/,
    },
    {
      rule: 'modes must not repeat',
      content: withMinimal({ regulation: { modes: ['ip', 'user', 'ip'] } }),
      path: 'regulation.modes[2]',
      message: /duplicates 'ip'/,
    },
    {
      rule: 'an unknown mode is an error',
      content: withMinimal({ regulation: { modes: ['host'] } }),
      path: 'regulation.modes[0]',
      message: /one of: user, ip/,
    },
    {
      rule: 'find_time must be greater than 0 while retries are counted',
      content: withMinimal({ regulation: { find_time: 0 } }),
      path: 'regulation.find_time',
      message: /greater than 0/,
    },
    {
      rule: 'ban_time must be greater than 0 while retries are counted',
      content: withMinimal({ regulation: { ban_time: 0 } }),
      path: 'regulation.ban_time',
      message: /greater than 0/,
    },
  ]);

  accepts([
    {
      rule: 'max_retries 0 disables regulation, so the times do not matter',
      content: withMinimal({ regulation: { max_retries: 0, find_time: 0, ban_time: 0 } }),
    },
  ]);
});

describe('webauthn', () => {
  const aaguid = 'ee882879-721c-4913-9775-3dfcce97072a';
  refuses([
    {
      rule: 'permitted and prohibited AAGUIDs together are an error',
      content: withMinimal({ webauthn: { filtering: { permitted_aaguids: [aaguid], prohibited_aaguids: [aaguid] } } }),
      path: 'webauthn.filtering',
      message: /not both/,
    },
    {
      rule: 'a timeout below 10s is an error',
      content: withMinimal({ webauthn: { timeout: '9s' } }),
      path: 'webauthn.timeout',
      message: /between 10s and 10m/,
    },
    {
      rule: 'a timeout above 10m is an error',
      content: withMinimal({ webauthn: { timeout: '11m' } }),
      path: 'webauthn.timeout',
      message: /between 10s and 10m/,
    },
    {
      rule: 'an AAGUID must be a UUID',
      content: withMinimal({ webauthn: { filtering: { permitted_aaguids: ['nope'] } } }),
      path: 'webauthn.filtering.permitted_aaguids[0]',
      message: /UUID/,
    },
  ]);

  accepts([
    { rule: 'timeouts of exactly 10s and 10m are accepted', content: withMinimal({ webauthn: { timeout: '10s' } }) },
    { rule: 'a timeout of exactly 10m is accepted', content: withMinimal({ webauthn: { timeout: '10m' } }) },
  ]);
});

describe('telemetry', () => {
  refuses([
    {
      rule: 'enabled metrics must listen on another port than the server',
      content: withMinimal({
        server: { address: 'tcp://:9091' },
        telemetry: { metrics: { enabled: true, address: 'tcp://127.0.0.1:9091' } },
      }),
      path: 'telemetry.metrics.address',
      message: /another port than server\.address/,
    },
  ]);

  accepts([
    {
      rule: 'disabled metrics may share the port',
      content: withMinimal({ telemetry: { metrics: { enabled: false, address: 'tcp://:9091' } } }),
    },
  ]);
});

describe('storage.postgres', () => {
  it('no password is a warning, not an error (trust authentication is common locally)', () => {
    const { warnings } = loadContent(withMinimal({ storage: { postgres: { address: 'tcp://127.0.0.1:5432' } } }));
    assert.ok(warnings.includes('storage.postgres.password is empty; that only works with trust authentication'));
  });

  it('a password silences the warning', () => {
    const { warnings } = loadContent(withMinimal({ storage: { postgres: { password: 'pw' } } }));
    assert.ok(!warnings.some((w) => w.startsWith('storage.postgres')));
  });

  it('Redis without storage.postgres is a warning: each replica would keep its own keys and failed-attempt counts', () => {
    const redis = {
      session: { secret: LONG_SECRET, redis: { host: 'redis' } },
      identity_validation: { jwt_secret: LONG_SECRET },
    };
    assert.ok(
      loadContent(withMinimal(redis)).warnings.some((w) =>
        w.startsWith('session.redis is set but storage.postgres is not'),
      ),
    );
    const withPostgres = loadContent(withMinimal({ ...redis, storage: { postgres: { password: 'pw' } } }));
    assert.ok(!withPostgres.warnings.some((w) => w.startsWith('session.redis is set')));
  });
});

describe('access_control (checked by config/access-control-syntax)', () => {
  refuses([
    {
      rule: 'an invalid resource regex stops start-up with its key path',
      content: withMinimal({
        access_control: {
          rules: [
            { domain: 'app.example.com', policy: 'one_factor' },
            { domain: 'app.example.com', resources: ['^/api(['], policy: 'bypass' },
          ],
        },
      }),
      path: 'access_control.rules[1].resources[0]',
      message: /./,
    },
  ]);

  it('access-control problems come together with the other semantic problems', () => {
    const problems = problemsOf(() =>
      loadContent(
        withMinimal({
          session: { remember_me: 0 },
          access_control: { rules: [{ domain: 'app.example.com', resources: ['(['], policy: 'deny' }] },
        }),
      ),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'access_control.rules[0].resources[0]',
      'session.remember_me',
    ]);
  });
});

describe('cookie names', () => {
  refuses([
    {
      rule: 'a session cookie name with header syntax in it is refused',
      content: withMinimal({ session: { name: 'a;b' } }),
      path: 'session.name',
      message: /cookie name/,
    },
    {
      rule: 'a per-cookie name follows the same rule',
      content: cookieConfig({ ...MINIMAL_COOKIE, name: 'x=y; Domain=evil.com' }),
      path: 'session.cookies[0].name',
      message: /cookie name/,
    },
  ]);
});

describe('storage.authentication_log.retention', () => {
  const retention = (value: unknown, regulation: Record<string, unknown> = {}) =>
    withMinimal({ storage: { authentication_log: { retention: value } }, regulation });
  refuses([
    {
      rule: 'refuses a retention shorter than find_time + ban_time: the bans are counted from the log',
      content: retention('5m', { find_time: '2m', ban_time: '5m' }),
      path: 'storage.authentication_log.retention',
      message: /at least regulation\.find_time \+ regulation\.ban_time \(420s\)/,
    },
    {
      rule: 'refuses a retention of 0',
      content: retention(0),
      path: 'storage.authentication_log.retention',
      message: /greater than 0/,
    },
    {
      rule: 'refuses a retention that is not a duration',
      content: retention('forever'),
      path: 'storage.authentication_log.retention',
      message: /could not parse duration/,
    },
  ]);
  accepts([
    { rule: 'accepts no retention (the default)', content: withMinimal({}) },
    { rule: 'accepts exactly find_time + ban_time', content: retention('7m', { find_time: '2m', ban_time: '5m' }) },
    { rule: 'accepts a year', content: retention('1y') },
    { rule: 'accepts a short retention when regulation is off', content: retention('1m', { max_retries: 0 }) },
  ]);
});
