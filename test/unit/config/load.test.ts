import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../src/cli/load-config.js';
import { fixture, loadContent, problemAt, problemsOf, tempFile, withMinimal } from './config-files.js';

describe('embedded defaults', () => {
  it('no file at all starts a localhost trial: the localhost cookie domain with its http portal, on the loopback interface', () => {
    const { config, cookies } = loadConfig({ files: [], env: {} });
    assert.deepEqual(config.server.address, { host: '127.0.0.1', port: 9091 });
    assert.deepEqual(
      cookies.map((cookie) => [cookie.domain, cookie.portalUrl.href]),
      [['localhost', 'http://localhost:9091/']],
    );
    assert.equal(config.session.redis, undefined, 'sessions in memory');
    assert.equal(config.storage.postgres, undefined);
    assert.equal(config.storage.local.path, './data/db');
    assert.deepEqual(config.notifier.filesystem, { filename: './data/notification.txt' });
    assert.equal(config.authentication_backend.file.path, './users_database.yml');
  });

  it('without a file, GATEHOUSE_* variables still apply and the portal URL follows the port they set', () => {
    const { config, cookies } = loadConfig({
      files: [],
      env: { GATEHOUSE_SERVER_ADDRESS: 'tcp://:8080', GATEHOUSE_LOG_LEVEL: 'debug' },
    });
    assert.deepEqual(config.server.address, { host: undefined, port: 8080 });
    assert.equal(cookies[0]?.portalUrl.href, 'http://localhost:8080/');
    assert.equal(config.log.level, 'debug');
  });

  it('an empty file is not the embedded defaults: a cookie domain is required', () => {
    const problems = problemsOf(() => loadContent(''));
    assert.deepEqual(problems, [
      { path: 'session.cookies', message: 'must have at least one entry (one per protected root domain)' },
    ]);
  });

  it('without a file and without ./users_database.yml, start-up is refused naming the file and how to make one', () => {
    const problems = problemsOf(() =>
      loadConfig({
        files: [],
        env: { GATEHOUSE_AUTHENTICATION_BACKEND_FILE_PATH: '/nonexistent/users.yml' },
        checkReferencedFiles: true,
      }),
    );
    assert.match(
      problemAt(problems, 'authentication_backend.file.path').message,
      /^users file '\/nonexistent\/users.yml': file not found: create it .*hash-password/,
    );
  });

  it('a users file with no users starts, with a warning', () => {
    for (const content of ['users: {}\n', 'users:\n']) {
      const users = tempFile(content, 'users.yml');
      const { warnings } = loadConfig({
        files: [tempFile(withMinimal({ authentication_backend: { file: { path: users } } }))],
        env: {},
        checkReferencedFiles: true,
      });
      assert.ok(
        warnings.includes(
          `users file '${users}' has no users: nobody can sign in until some are added (\`gatehouse hash-password\` makes the hashes)`,
        ),
        warnings.join('\n'),
      );
    }
  });

  it('a minimal file gets every documented default', () => {
    const { config, warnings } = loadConfig({ files: [fixture('minimal.yml')], env: {} });
    assert.deepEqual(config.server.address, { host: undefined, port: 9091 });
    assert.equal(config.log.level, 'info');
    assert.equal(config.log.format, 'json');
    assert.equal(config.telemetry.metrics.enabled, false);
    assert.equal(config.telemetry.metrics.address.port, 9959);
    assert.equal(config.authentication_backend.file.path, './users_database.yml');
    assert.equal(config.identity_validation.token_lifetime, 300);
    assert.equal(config.identity_validation.elevation_lifetime, 600);
    assert.equal(config.session.name, 'gatehouse_session');
    assert.equal(config.session.same_site, 'lax');
    assert.equal(config.session.expiration, 3600);
    assert.equal(config.session.inactivity, 300);
    assert.equal(config.session.remember_me, 30 * 86400);
    assert.equal(config.session.redis, undefined);
    assert.equal(config.storage.postgres, undefined);
    assert.equal(config.storage.local.path, './data/db');
    assert.deepEqual(config.regulation, { modes: ['user'], max_retries: 3, find_time: 120, ban_time: 300 });
    assert.equal(config.webauthn.timeout, 60);
    assert.equal(config.access_control.default_policy, 'deny');
    assert.deepEqual(config.access_control.rules, []);
    assert.ok(warnings.every((warning) => warning.includes('random one was generated')));
  });

  it('no notifier means the filesystem notifier with its default file', () => {
    const { config } = loadConfig({ files: [fixture('minimal.yml')], env: {} });
    assert.deepEqual(config.notifier.filesystem, { filename: './data/notification.txt' });
    assert.equal(config.notifier.smtp, undefined);
  });

  it('an empty file (only a comment) configures nothing', () => {
    const problems = problemsOf(() => loadConfig({ files: [fixture('empty.yml')], env: {} }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['session.cookies'],
    );
  });

  it('the full SPEC example is accepted as written', () => {
    const { config, warnings, generatedSecrets } = loadConfig({ files: [fixture('full.yml')], env: {} });
    assert.deepEqual(generatedSecrets, []);
    assert.deepEqual(warnings, []);
    assert.equal(config.session.redis?.high_availability?.nodes[0]?.port, 26379);
    assert.deepEqual(config.storage.postgres?.address, { host: '127.0.0.1', port: 5432 });
    assert.equal(config.access_control.rules.length, 2);
  });
});

describe('several files are deep-merged in order', () => {
  const { config } = loadConfig({ files: [fixture('base.yml'), fixture('override.yml')], env: {} });

  it('maps merge key by key: a later scalar wins, untouched keys survive', () => {
    assert.equal(config.log.level, 'warn');
    assert.equal(config.log.format, 'text');
    assert.equal(config.session.name, 'base_session');
    assert.equal(config.session.expiration, 7200);
    assert.equal(config.session.inactivity, 600);
    assert.equal(config.access_control.default_policy, 'one_factor');
  });

  it('lists are replaced by the later file, not concatenated', () => {
    assert.deepEqual(
      config.session.cookies.map((c) => c.domain),
      ['example.net'],
    );
    assert.deepEqual(
      config.access_control.networks.map((n) => n.name),
      ['office'],
    );
  });

  it('a key written without a value counts as absent and does not erase the earlier one', () => {
    const later = tempFile('log:\n  level:\nsession:\n  redis:\n');
    const merged = loadConfig({ files: [fixture('base.yml'), later], env: {} }).config;
    assert.equal(merged.log.level, 'debug');
    assert.equal(merged.session.redis, undefined);
  });
});

describe('files that cannot be read', () => {
  it('a missing file is a problem naming it', () => {
    const problems = problemsOf(() => loadConfig({ files: ['/nonexistent/gatehouse.yml'], env: {} }));
    assert.deepEqual(problems, [{ path: '/nonexistent/gatehouse.yml', message: 'configuration file not found' }]);
  });

  it('malformed YAML is a problem naming the file and the line', () => {
    const file = fixture('malformed.yml');
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, `${file}:7:1`);
    assert.match(problems[0]!.message, /^invalid YAML: /);
  });

  it('a duplicated key is malformed YAML', () => {
    const file = tempFile('log:\n  level: info\n  level: debug\n');
    const [problem] = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.equal(problem?.path, `${file}:3:3`);
  });

  it('a top-level list is a problem: the top level must be a map', () => {
    const file = fixture('top-level-list.yml');
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.deepEqual(problems, [
      { path: file, message: 'the top level must be a map of configuration keys, not a list' },
    ]);
  });

  it('problems of every file are reported together', () => {
    const problems = problemsOf(() =>
      loadConfig({ files: ['/nonexistent/a.yml', fixture('malformed.yml'), '/nonexistent/b.yml'], env: {} }),
    );
    assert.equal(problems.length, 3);
  });
});

describe('keys the schema does not know', () => {
  it('an unknown key is an error with its full path', () => {
    const problems = problemsOf(() => loadConfig({ files: [fixture('unknown-key.yml')], env: {} }));
    problemAt(problems, 'session.cookies[0].colour');
    problemAt(problems, 'server.adress');
    assert.equal(problems.length, 2);
  });

  it('a __proto__ key is reported as unknown, not merged into the prototype', () => {
    const problems = problemsOf(() => loadContent('__proto__:\n  polluted: true\nsession:\n  cookies: []\n'));
    problemAt(problems, '__proto__');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('an Authelia option whose absence fails closed is ignored with a warning naming it and what changes', () => {
    const { warnings } = loadConfig({ files: [fixture('authelia.yml')], env: {} });
    for (const key of [
      'theme',
      'default_2fa_method',
      'totp',
      'ntp',
      'server.endpoints.enable_pprof',
      'log.keep_stdout',
      'authentication_backend.password_reset',
      'storage.encryption_key',
    ]) {
      const prefix = `key '${key}' is an Authelia option Gatehouse does not support; it is ignored: `;
      assert.ok(
        warnings.some((warning) => warning.startsWith(prefix) && warning.length > prefix.length),
        `no warning for ${key}`,
      );
    }
  });
});

describe('values of the wrong type or form', () => {
  const cases: { name: string; extra: Record<string, unknown>; path: string; message: string | RegExp }[] = [
    {
      name: 'a string where a boolean goes',
      extra: { webauthn: { disable: 'nope' } },
      path: 'webauthn.disable',
      message: 'must be true or false, not a string',
    },
    {
      name: 'a map where a string goes',
      extra: { log: { level: { x: 1 } } },
      path: 'log.level',
      message: 'must be one of: trace, debug, info, warn, error',
    },
    {
      name: 'a value outside an enum',
      extra: { log: { format: 'xml' } },
      path: 'log.format',
      message: 'must be one of: json, text',
    },
    {
      name: 'a number out of range',
      extra: { session: { redis: { port: 70000 } } },
      path: 'session.redis.port',
      message: 'must be at most 65535',
    },
    {
      name: 'a missing required key',
      extra: { notifier: { smtp: { address: 'smtp://mail:25' } } },
      path: 'notifier.smtp.sender',
      message: 'is required',
    },
    {
      name: 'a boolean where a duration goes',
      extra: { session: { expiration: true } },
      path: 'session.expiration',
      message: 'must be a string or a number',
    },
    {
      name: 'an unparseable duration',
      extra: { session: { inactivity: '5 fortnights' } },
      path: 'session.inactivity',
      message: /unknown duration unit/,
    },
    {
      name: 'a malformed duration',
      extra: { regulation: { ban_time: 'soon' } },
      path: 'regulation.ban_time',
      message: /duration/,
    },
    {
      name: 'a bad listen address',
      extra: { server: { address: 'http://x' } },
      path: 'server.address',
      message: /must be an address like/,
    },
    {
      name: 'a relative portal URL',
      extra: { session: { cookies: [{ domain: 'example.com', authelia_url: 'auth.example.com' }] } },
      path: 'session.cookies[0].authelia_url',
      message: /absolute URL/,
    },
    {
      name: 'a wrong type inside a rule',
      extra: { access_control: { rules: [{ domain: 'a.example.com', policy: 'allow' }] } },
      path: 'access_control.rules[0].policy',
      message: 'must be one of: bypass, one_factor, two_factor, deny',
    },
  ];
  for (const { name, extra, path, message } of cases) {
    it(`${name} is an error at its key path`, () => {
      const problem = problemAt(
        problemsOf(() => loadContent(withMinimal(extra))),
        path,
      );
      if (typeof message === 'string') assert.equal(problem.message, message);
      else assert.match(problem.message, message);
    });
  }

  it('durations accept Authelia strings and plain seconds', () => {
    const { config } = loadContent(
      withMinimal({ session: { expiration: '1h30m', inactivity: 90 }, regulation: { find_time: '1d' } }),
    );
    assert.equal(config.session.expiration, 5400);
    assert.equal(config.session.inactivity, 90);
    assert.equal(config.regulation.find_time, 86400);
  });
});

describe('all problems are reported at once', () => {
  it('schema problems from different sections come together, one per line in the message', () => {
    let caught: unknown;
    try {
      loadContent(
        withMinimal({ log: { level: 'loud' }, webauthn: { timeout: 'x' }, regulation: { modes: 'user' }, colour: 1 }),
      );
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError);
    const paths = caught.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, ['colour', 'log.level', 'regulation.modes', 'webauthn.timeout']);
    assert.equal(caught.message.split('\n').length, 4);
    assert.ok(caught.message.includes('log.level: must be one of: trace, debug, info, warn, error'));
  });

  it('semantic problems from different sections come together', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ session: { remember_me: 0 }, regulation: { modes: [] }, webauthn: { timeout: '1s' } })),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'regulation.modes',
      'session.remember_me',
      'webauthn.timeout',
    ]);
  });
});
