// Issue 8: Authelia's older key names are read under their current Gatehouse name, with a warning naming the key
// to write; an older key and its new key both set to different values is a problem naming both.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { AUTHELIA_KEYS, finalKey } from '../../../src/config/authelia-keys.js';
import { schemaLeafPaths } from '../../../src/config/env.js';
import { loadContent, problemAt, problemsOf, withMinimal } from './config-files.js';

const SECRET = 'z'.repeat(40);
const OTHER_SECRET = 'w'.repeat(40);

/** A configuration with `extra` merged over the minimal one. */
const base = (extra: Record<string, unknown>): Record<string, unknown> => withMinimal(extra);

describe('the map entries of the Authelia key table', () => {
  it('every map entry leads to a key Gatehouse reads or to another entry of the table', () => {
    const schemaKeys = schemaLeafPaths().map((leaf) => leaf.path.join('.'));
    const tableKeys = AUTHELIA_KEYS.filter((entry) => entry.action !== 'map').map((entry) => entry.key);
    for (const entry of AUTHELIA_KEYS.filter((other) => other.action === 'map' && typeof other.to === 'string')) {
      const final = finalKey(entry.to as string);
      const known =
        schemaKeys.some((key) => key === final || key.startsWith(`${final}.`)) ||
        final === 'session.cookies' ||
        tableKeys.some((key) => final === key || final.startsWith(`${key}.`));
      assert.ok(known, `${entry.key} → ${final}`);
    }
  });
});

describe('older names are read under the new one, with a warning naming the key to write', () => {
  const cases: {
    rule: string;
    extra: Record<string, unknown>;
    check: (config: ReturnType<typeof loadContent>['config']) => void;
    warns: string[];
  }[] = [
    {
      rule: 'jwt_secret → identity_validation.jwt_secret',
      extra: { jwt_secret: SECRET },
      check: (c) => assert.equal(c.identity_validation.jwt_secret, SECRET),
      warns: ['jwt_secret'],
    },
    {
      rule: 'identity_validation.reset_password.jwt_secret → identity_validation.jwt_secret (and no password-reset warning)',
      extra: { identity_validation: { reset_password: { jwt_secret: SECRET } } },
      check: (c) => assert.equal(c.identity_validation.jwt_secret, SECRET),
      warns: ['identity_validation.reset_password.jwt_secret'],
    },
    {
      rule: 'server.host and server.port → server.address',
      extra: { server: { host: '127.0.0.1', port: 9092 } },
      check: (c) => assert.deepEqual(c.server.address, { host: '127.0.0.1', port: 9092 }),
      warns: ['server.host'],
    },
    {
      rule: 'server.port alone → server.address on every interface',
      extra: { server: { port: '9093' } },
      check: (c) => assert.deepEqual(c.server.address, { host: undefined, port: 9093 }),
      warns: ['server.port'],
    },
    {
      rule: 'top-level host and port (4.29) → server.host, server.port → server.address',
      extra: { host: '::1', port: 9094 },
      check: (c) => assert.deepEqual(c.server.address, { host: '::1', port: 9094 }),
      warns: ['host', 'port', 'server.host'],
    },
    {
      rule: 'log_level, log_format → log.level, log.format',
      extra: { log_level: 'debug', log_format: 'text' },
      check: (c) => assert.deepEqual([c.log.level, c.log.format], ['debug', 'text']),
      warns: ['log_level', 'log_format'],
    },
    {
      rule: 'session.remember_me_duration → session.remember_me',
      extra: { session: { remember_me_duration: '2d' } },
      check: (c) => assert.equal(c.session.remember_me, 2 * 86400),
      warns: ['session.remember_me_duration'],
    },
    {
      rule: 'storage.postgres.host and port → storage.postgres.address',
      extra: { storage: { postgres: { host: 'db', port: 5433, password: 'pw' } } },
      check: (c) => assert.deepEqual(c.storage.postgres?.address, { host: 'db', port: 5433 }),
      warns: ['storage.postgres.host'],
    },
    {
      rule: 'storage.postgres.ssl mode require → tls with skip_verify (encrypted, certificate unchecked, as before)',
      extra: { storage: { postgres: { address: 'tcp://db:5432', password: 'pw', ssl: { mode: 'require' } } } },
      check: (c) => assert.equal(c.storage.postgres?.tls?.skip_verify, true),
      warns: ['storage.postgres.ssl'],
    },
    {
      rule: 'storage.postgres.sslmode verify-full → ssl.mode → tls with the certificate checked',
      extra: { storage: { postgres: { address: 'tcp://db:5432', password: 'pw', sslmode: 'verify-full' } } },
      check: (c) => assert.equal(c.storage.postgres?.tls?.skip_verify, false),
      warns: ['storage.postgres.sslmode', 'storage.postgres.ssl'],
    },
    {
      rule: 'storage.postgres.ssl mode disable → no tls',
      extra: { storage: { postgres: { address: 'tcp://db:5432', password: 'pw', ssl: { mode: 'disable' } } } },
      check: (c) => assert.equal(c.storage.postgres?.tls, undefined),
      warns: ['storage.postgres.ssl'],
    },
    {
      rule: 'notifier.smtp.host and port 465 → submissions:// address',
      extra: { notifier: { smtp: { host: 'mail.example.com', port: 465, sender: 'a@example.com' } } },
      check: (c) => assert.equal(c.notifier.smtp?.address, 'submissions://mail.example.com:465'),
      warns: ['notifier.smtp.host'],
    },
    {
      rule: 'notifier.smtp port 587 → submission://, other ports smtp://',
      extra: {
        notifier: { smtp: { host: 'mail.example.com', port: 587, sender: 'a@example.com', disable_verify_cert: true } },
      },
      check: (c) => {
        assert.equal(c.notifier.smtp?.address, 'submission://mail.example.com:587');
        assert.equal(c.notifier.smtp?.tls?.skip_verify, true);
      },
      warns: ['notifier.smtp.host', 'notifier.smtp.disable_verify_cert'],
    },
    {
      rule: 'webauthn.selection_criteria.user_verification (Authelia 4.39) → webauthn.user_verification',
      extra: { webauthn: { selection_criteria: { user_verification: 'required' } } },
      check: (c) => assert.equal(c.webauthn.user_verification, 'required'),
      warns: ['webauthn.selection_criteria.user_verification'],
    },
    {
      rule: 'argon2id options beside the algorithm (4.37) → password.argon2.*, memory from MiB to KiB',
      extra: {
        authentication_backend: {
          file: {
            path: './users_database.yml',
            password: { algorithm: 'argon2id', iterations: 4, memory: 128, parallelism: 2 },
          },
        },
      },
      check: (c) =>
        assert.deepEqual(
          [
            c.authentication_backend.file.password.argon2.iterations,
            c.authentication_backend.file.password.argon2.memory,
            c.authentication_backend.file.password.argon2.parallelism,
          ],
          [4, 128 * 1024, 2],
        ),
      warns: ['authentication_backend.file.password.iterations', 'authentication_backend.file.password.memory'],
    },
    {
      rule: "top-level default_redirection_url → the one cookie domain's default_redirection_url",
      extra: { default_redirection_url: 'https://www.example.com' },
      check: (c) => assert.equal(c.session.cookies[0]?.default_redirection_url?.href, 'https://www.example.com/'),
      warns: ['default_redirection_url'],
    },
  ];
  for (const { rule, extra, check, warns } of cases) {
    it(rule, () => {
      const { config, warnings } = loadContent(base(extra));
      check(config);
      for (const key of warns) {
        assert.ok(
          warnings.some(
            (w) => w.startsWith(`key '${key}' is Authelia's older form of `) || w.startsWith(`keys '${key}' and `),
          ),
          `no warning for ${key}:\n${warnings.join('\n')}`,
        );
      }
      assert.ok(!warnings.some((w) => w.includes(SECRET)), 'a secret is never shown');
    });
  }

  it('the warning names the key to write at the end of a chain (host → server.host → server.address)', () => {
    const { warnings } = loadContent(base({ host: '0.0.0.0' }));
    assert.ok(
      warnings.includes(
        `key 'host' is Authelia's older form of 'server.host' and is read as server.host = "0.0.0.0": write 'server.address' instead`,
      ),
      warnings.join('\n'),
    );
  });
});

describe('an older key and its new key both set', () => {
  it('to the same value: a warning to remove the older one', () => {
    const { config, warnings } = loadContent(base({ jwt_secret: SECRET, identity_validation: { jwt_secret: SECRET } }));
    assert.equal(config.identity_validation.jwt_secret, SECRET);
    assert.ok(
      warnings.some((w) =>
        w.startsWith(
          "'jwt_secret' is Authelia's older name for 'identity_validation.jwt_secret', which is also set, to the same value",
        ),
      ),
    );
  });

  it('to different values: a problem naming both, and neither value wins', () => {
    const problem = problemAt(
      problemsOf(() => loadContent(base({ jwt_secret: SECRET, identity_validation: { jwt_secret: OTHER_SECRET } }))),
      'jwt_secret',
    );
    assert.equal(
      problem.message,
      "'jwt_secret' and 'identity_validation.jwt_secret' are both set, to different values: keep only 'identity_validation.jwt_secret'",
    );
    assert.ok(!problem.message.includes(SECRET) && !problem.message.includes(OTHER_SECRET));
  });

  it('two older keys for one new key, differing: the problem names where the first value came from', () => {
    const problems = problemsOf(() =>
      loadContent(base({ jwt_secret: SECRET, identity_validation: { reset_password: { jwt_secret: OTHER_SECRET } } })),
    );
    assert.match(
      problemAt(problems, 'identity_validation.reset_password.jwt_secret').message,
      /'identity_validation.jwt_secret' \(set from 'jwt_secret'\) are both set, to different values/,
    );
  });

  it('server.port beside a different server.address is a problem naming both', () => {
    const problem = problemAt(
      problemsOf(() => loadContent(base({ server: { port: 9092, address: 'tcp://:9091' } }))),
      'server.port',
    );
    assert.match(problem.message, /'server.port' and 'server.address' are both set, to different values/);
  });

  it('storage.postgres.ssl beside storage.postgres.tls, differing, is a problem (Authelia refuses both too)', () => {
    const problems = problemsOf(() =>
      loadContent(
        base({ storage: { postgres: { password: 'pw', ssl: { mode: 'require' }, tls: { server_name: 'db' } } } }),
      ),
    );
    assert.match(problemAt(problems, 'storage.postgres.ssl').message, /'storage.postgres.tls' are both set/);
  });
});

describe('older forms that cannot be mapped say exactly what to write', () => {
  it("session.domain: the portal URL was the proxy's to give; the entry to write is shown", () => {
    const problems = problemsOf(() =>
      loadContent({ session: { domain: 'example.com' }, default_redirection_url: 'https://www.example.com' }),
    );
    const problem = problemAt(problems, 'session.domain');
    assert.match(
      problem.message,
      /session\.cookies: \[\{ domain: 'example\.com', authelia_url: 'https:\/\/auth\.example\.com', default_redirection_url: 'https:\/\/www\.example\.com' \}\]/,
    );
    assert.ok(!problems.some((p) => p.path === 'default_redirection_url'), 'the redirection URL went with the domain');
  });

  it('session.domain beside session.cookies is refused too', () => {
    problemAt(
      problemsOf(() => loadContent(base({ session: { domain: 'example.com' } }))),
      'session.domain',
    );
  });

  it('default_redirection_url with several cookie domains: it must be set on the one it is for', () => {
    const content = {
      default_redirection_url: 'https://www.example.com',
      session: {
        cookies: [
          { domain: 'example.com', authelia_url: 'https://auth.example.com' },
          { domain: 'example.org', authelia_url: 'https://auth.example.org' },
        ],
      },
    };
    assert.match(
      problemAt(
        problemsOf(() => loadContent(content)),
        'default_redirection_url',
      ).message,
      /session\.cookies\[\]\.default_redirection_url/,
    );
  });

  it('server.path (a sub-path portal), a Unix socket for PostgreSQL and a client certificate are refused', () => {
    assert.match(
      problemAt(
        problemsOf(() => loadContent(base({ server: { port: 9091, path: 'auth' } }))),
        'server.port',
      ).message,
      /root only/,
    );
    assert.match(
      problemAt(
        problemsOf(() => loadContent(base({ storage: { postgres: { host: '/var/run/postgresql', password: 'pw' } } }))),
        'storage.postgres.host',
      ).message,
      /Unix socket/,
    );
    assert.match(
      problemAt(
        problemsOf(() =>
          loadContent(
            base({
              storage: {
                postgres: {
                  address: 'tcp://db:5432',
                  password: 'pw',
                  ssl: { mode: 'verify-full', certificate: '/c.pem', key: '/k.pem' },
                },
              },
            }),
          ),
        ),
        'storage.postgres.ssl',
      ).message,
      /client certificate/,
    );
  });

  it('a port that is not a number is a problem at the older key', () => {
    assert.match(
      problemAt(
        problemsOf(() =>
          loadContent(base({ notifier: { smtp: { host: 'mail', port: 'smtp', sender: 'a@example.com' } } })),
        ),
        'notifier.smtp.host',
      ).message,
      /must be a port number/,
    );
  });

  it('notifier.smtp.trusted_cert is refused (Authelia does not map it either): NODE_EXTRA_CA_CERTS', () => {
    const problems = problemsOf(() =>
      loadContent(
        base({ notifier: { smtp: { address: 'smtp://mail:25', sender: 'a@example.com', trusted_cert: '/ca.pem' } } }),
      ),
    );
    assert.match(problemAt(problems, 'notifier.smtp.trusted_cert').message, /NODE_EXTRA_CA_CERTS/);
  });
});
