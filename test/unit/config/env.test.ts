import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { envKeyTable, schemaLeafPaths } from '../../../src/config/env.js';
import { fixture, loadContent, problemAt, problemsOf, tempFile, withMinimal } from './config-files.js';
import { loadConfig } from '../../../src/config/index.js';

const loadMinimal = (env: Record<string, string | undefined>) => loadConfig({ files: [fixture('minimal.yml')], env });
const LONG_SECRET = 'x'.repeat(40);

describe('environment overrides: GATEHOUSE_ + the key path in capitals', () => {
  it('every schema leaf gets exactly one variable name (no two keys collide)', () => {
    const table = envKeyTable();
    const plain = [...table.values()].filter((key) => !key.fromFile);
    assert.equal(plain.length, schemaLeafPaths().length);
  });

  it('a variable overrides the key from the file', () => {
    const { config } = loadMinimal({ GATEHOUSE_LOG_LEVEL: 'debug', GATEHOUSE_SERVER_ADDRESS: 'tcp://127.0.0.1:8080' });
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.server.address, { host: '127.0.0.1', port: 8080 });
  });

  it('a key with underscores in its name resolves against the schema (session.remember_me, not session.remember.me)', () => {
    const { config } = loadMinimal({
      GATEHOUSE_SESSION_REMEMBER_ME: '-1',
      GATEHOUSE_WEBAUTHN_EXPERIMENTAL_ENABLE_PASSKEY_UV_TWO_FACTORS: 'true',
      GATEHOUSE_AUTHENTICATION_BACKEND_FILE_PATH: '/etc/gatehouse/users.yml',
    });
    assert.equal(config.session.remember_me, -1);
    assert.equal(config.webauthn.experimental_enable_passkey_uv_two_factors, true);
    assert.equal(config.authentication_backend.file.path, '/etc/gatehouse/users.yml');
  });

  it('values are read as YAML scalars: booleans, numbers and durations', () => {
    const { config } = loadMinimal({
      GATEHOUSE_TELEMETRY_METRICS_ENABLED: 'true',
      GATEHOUSE_REGULATION_MAX_RETRIES: '5',
      GATEHOUSE_REGULATION_BAN_TIME: '1h',
      GATEHOUSE_WEBAUTHN_TIMEOUT: '30',
    });
    assert.equal(config.telemetry.metrics.enabled, true);
    assert.equal(config.regulation.max_retries, 5);
    assert.equal(config.regulation.ban_time, 3600);
    assert.equal(config.webauthn.timeout, 30);
  });

  it('a string key keeps the text verbatim even when it looks like a number', () => {
    const { config } = loadMinimal({
      GATEHOUSE_WEBAUTHN_DISPLAY_NAME: '1234',
      GATEHOUSE_SESSION_SECRET: `0x1F${LONG_SECRET}`,
    });
    assert.equal(config.webauthn.display_name, '1234');
    assert.equal(config.session.secret, `0x1F${LONG_SECRET}`);
  });

  it('a variable can create a section the file does not have', () => {
    const { config } = loadMinimal({
      GATEHOUSE_STORAGE_POSTGRES_PASSWORD: 'pw',
      GATEHOUSE_STORAGE_POSTGRES_DATABASE: 'gh',
    });
    assert.equal(config.storage.postgres?.password, 'pw');
    assert.equal(config.storage.postgres?.database, 'gh');
  });

  it('a value of the wrong type is reported at the key path', () => {
    problemAt(
      problemsOf(() => loadMinimal({ GATEHOUSE_WEBAUTHN_DISABLE: 'maybe' })),
      'webauthn.disable',
    );
  });

  it('an unknown GATEHOUSE_ variable is a warning naming it, other variables are ignored', () => {
    const { warnings } = loadMinimal({ GATEHOUSE_SESION_SECRET: 'typo', HOME: '/root', PATH: '/bin' });
    assert.deepEqual(
      warnings.filter((w) => w.includes('environment variable')),
      ['environment variable GATEHOUSE_SESION_SECRET does not name a configuration key Gatehouse knows; it is ignored'],
    );
  });

  it('X_AUTHELIA_CONFIG and X_AUTHELIA_CONFIG_FILTERS are refused, naming what to do instead', () => {
    const problems = problemsOf(() =>
      loadMinimal({ X_AUTHELIA_CONFIG: '/config/configuration.yml', X_AUTHELIA_CONFIG_FILTERS: 'template' }),
    );
    assert.match(problemAt(problems, 'X_AUTHELIA_CONFIG').message, /--config/);
    assert.match(problemAt(problems, 'X_AUTHELIA_CONFIG_FILTERS').message, /templates/);
    assert.equal(problems.length, 2);
  });
  it('a list key cannot be set from the environment', () => {
    const { warnings } = loadMinimal({ GATEHOUSE_SESSION_COOKIES: 'example.com' });
    assert.ok(warnings.some((w) => w.startsWith('environment variable GATEHOUSE_SESSION_COOKIES ')));
  });

  it('a variable under a key that is not a map is a problem', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ storage: 'postgres' }), { GATEHOUSE_STORAGE_POSTGRES_PASSWORD: 'pw' }),
    );
    problemAt(problems, 'storage');
  });
});

describe('secrets from files: GATEHOUSE_..._FILE', () => {
  it('reads the secret from the named file, trailing newline trimmed', () => {
    const file = tempFile(`${LONG_SECRET}\n`, 'session_secret');
    const { config, generatedSecrets } = loadMinimal({ GATEHOUSE_SESSION_SECRET_FILE: file });
    assert.equal(config.session.secret, LONG_SECRET);
    assert.ok(!generatedSecrets.includes('session.secret'));
  });

  it('every secret key has a _FILE variant', () => {
    const secretFile = tempFile('s3cret\n', 'secret');
    const { config } = loadContent(
      withMinimal({
        session: { redis: { high_availability: { sentinel_name: 'm', nodes: [{ host: 'sentinel.internal' }] } } },
        notifier: { smtp: { address: 'smtp://mail:25', sender: 'a@example.com' } },
      }),
      {
        GATEHOUSE_SESSION_SECRET_FILE: secretFile,
        GATEHOUSE_IDENTITY_VALIDATION_JWT_SECRET_FILE: secretFile,
        GATEHOUSE_SESSION_REDIS_PASSWORD_FILE: secretFile,
        GATEHOUSE_SESSION_REDIS_HIGH_AVAILABILITY_SENTINEL_PASSWORD_FILE: secretFile,
        GATEHOUSE_STORAGE_POSTGRES_PASSWORD_FILE: secretFile,
        GATEHOUSE_NOTIFIER_SMTP_PASSWORD_FILE: secretFile,
      },
    );
    const values = [
      config.session.secret,
      config.identity_validation.jwt_secret,
      config.session.redis?.password,
      config.session.redis?.high_availability?.sentinel_password,
      config.storage.postgres?.password,
      config.notifier.smtp?.password,
    ];
    assert.deepEqual(values, Array(6).fill('s3cret'));
  });

  it('a non-secret key has no _FILE variant', () => {
    const { warnings } = loadMinimal({ GATEHOUSE_LOG_LEVEL_FILE: tempFile('debug') });
    assert.ok(warnings.some((w) => w.startsWith('environment variable GATEHOUSE_LOG_LEVEL_FILE ')));
  });

  it('setting both the plain variable and the _FILE variant is a problem', () => {
    const problems = problemsOf(() =>
      loadMinimal({ GATEHOUSE_SESSION_SECRET: LONG_SECRET, GATEHOUSE_SESSION_SECRET_FILE: tempFile(LONG_SECRET) }),
    );
    assert.match(
      problemAt(problems, 'session.secret').message,
      /GATEHOUSE_SESSION_SECRET and GATEHOUSE_SESSION_SECRET_FILE/,
    );
  });

  it('a secret set both in the file and in the environment is a problem', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ session: { secret: LONG_SECRET } }), { GATEHOUSE_SESSION_SECRET: LONG_SECRET }),
    );
    assert.match(
      problemAt(problems, 'session.secret').message,
      /both in the configuration file and by GATEHOUSE_SESSION_SECRET/,
    );
  });

  it('a _FILE naming a missing file is a problem, and the path is named', () => {
    const problems = problemsOf(() =>
      loadMinimal({ GATEHOUSE_STORAGE_POSTGRES_PASSWORD_FILE: '/nonexistent/pg-password' }),
    );
    assert.equal(
      problemAt(problems, 'storage.postgres.password').message,
      "GATEHOUSE_STORAGE_POSTGRES_PASSWORD_FILE names '/nonexistent/pg-password': file not found",
    );
  });

  it('secret values never appear in problem messages', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ session: { secret: 'file-secret-value' } }), {
        GATEHOUSE_SESSION_SECRET: 'env-secret-value',
      }),
    );
    const text = JSON.stringify(problems);
    assert.ok(!text.includes('file-secret-value') && !text.includes('env-secret-value'));
  });
});

describe("Authelia's AUTHELIA_* variables: honoured as their GATEHOUSE_* equivalent, never silently ignored", () => {
  it('AUTHELIA_X is read as GATEHOUSE_X, with a warning naming GATEHOUSE_X', () => {
    const secretFile = tempFile(`${LONG_SECRET}\n`, 'session_secret');
    const { config, warnings } = loadMinimal({
      AUTHELIA_STORAGE_POSTGRES_ADDRESS: 'tcp://db:5433',
      AUTHELIA_SESSION_SECRET_FILE: secretFile,
    });
    assert.deepEqual(config.storage.postgres?.address, { host: 'db', port: 5433 });
    assert.equal(config.session.secret, LONG_SECRET);
    assert.ok(
      warnings.includes(
        "environment variable AUTHELIA_STORAGE_POSTGRES_ADDRESS is Authelia's name for GATEHOUSE_STORAGE_POSTGRES_ADDRESS and is read as GATEHOUSE_STORAGE_POSTGRES_ADDRESS: rename it",
      ),
    );
    assert.ok(
      warnings.some(
        (w) =>
          w.startsWith('environment variable AUTHELIA_SESSION_SECRET_FILE ') &&
          w.includes('GATEHOUSE_SESSION_SECRET_FILE'),
      ),
    );
  });

  it('both set to the same value is a warning; to different values a problem naming both', () => {
    const same = loadMinimal({ AUTHELIA_LOG_LEVEL: 'debug', GATEHOUSE_LOG_LEVEL: 'debug' });
    assert.equal(same.config.log.level, 'debug');
    assert.ok(
      same.warnings.includes(
        'environment variables AUTHELIA_LOG_LEVEL and GATEHOUSE_LOG_LEVEL are both set, to the same value: remove AUTHELIA_LOG_LEVEL',
      ),
    );
    const problem = problemAt(
      problemsOf(() =>
        loadMinimal({
          AUTHELIA_SESSION_SECRET: 'a'.repeat(40),
          GATEHOUSE_SESSION_SECRET_FILE: tempFile(LONG_SECRET, 's'),
        }),
      ),
      'session.secret',
    );
    assert.match(
      problem.message,
      /AUTHELIA_SESSION_SECRET and GATEHOUSE_SESSION_SECRET_FILE, to different values: keep only GATEHOUSE_SESSION_SECRET_FILE/,
    );
  });

  it("a renamed key's variable goes through the mapping: AUTHELIA_JWT_SECRET_FILE sets identity_validation.jwt_secret", () => {
    const { config, warnings } = loadMinimal({ AUTHELIA_JWT_SECRET_FILE: tempFile(`${LONG_SECRET}\n`, 'jwt') });
    assert.equal(config.identity_validation.jwt_secret, LONG_SECRET);
    assert.ok(
      warnings.some(
        (w) =>
          w.startsWith('environment variable AUTHELIA_JWT_SECRET_FILE ') &&
          w.endsWith('rename it GATEHOUSE_IDENTITY_VALIDATION_JWT_SECRET_FILE'),
      ),
    );
    assert.ok(!warnings.some((w) => w.includes(LONG_SECRET)), 'the secret is never shown');
  });

  it('older keys folded into one (server.host and server.port) are read from their variables too', () => {
    const { config, warnings } = loadMinimal({ AUTHELIA_SERVER_HOST: '127.0.0.1', AUTHELIA_SERVER_PORT: '9095' });
    assert.deepEqual(config.server.address, { host: '127.0.0.1', port: 9095 });
    assert.ok(
      warnings.some((w) =>
        w.startsWith("environment variable AUTHELIA_SERVER_PORT is Authelia's and is read as key 'server.port'"),
      ),
      warnings.join('\n'),
    );
  });

  it('a variable for an Authelia key Gatehouse warns about or refuses is treated as that key in a file', () => {
    const { warnings } = loadMinimal({
      AUTHELIA_STORAGE_ENCRYPTION_KEY_FILE: '/nonexistent/key',
      AUTHELIA_TOTP_ISSUER: 'example.com',
    });
    assert.ok(
      warnings.some((w) => w.startsWith("key 'storage.encryption_key' is an Authelia option")),
      'warned like the key',
    );
    assert.ok(warnings.some((w) => w.startsWith("key 'totp' is an Authelia option")));
    const problems = problemsOf(() =>
      loadMinimal({ AUTHELIA_AUTHENTICATION_BACKEND_LDAP_PASSWORD: 'pw', AUTHELIA_WEBAUTHN_METADATA_ENABLED: 'true' }),
    );
    // A real key now: read like the key in a file, so the rest of the ldap section is asked for.
    assert.match(problemAt(problems, 'authentication_backend.ldap.address').message, /is required/);
    assert.match(problemAt(problems, 'webauthn.metadata').message, /metadata service/);
  });

  it('a variable that names no key Gatehouse knows or maps is refused', () => {
    const problems = problemsOf(() => loadMinimal({ AUTHELIA_NO_SUCH_KEY: '1' }));
    assert.match(
      problemAt(problems, 'AUTHELIA_NO_SUCH_KEY').message,
      /names no configuration key Gatehouse knows or maps/,
    );
  });
});

describe('empty secret files are named', () => {
  it('GATEHOUSE_..._FILE naming an empty file (or only a newline) is a problem naming the variable and the file', () => {
    for (const content of ['', '\n']) {
      const file = tempFile(content, 'empty_secret');
      const problem = problemAt(
        problemsOf(() => loadMinimal({ GATEHOUSE_SESSION_SECRET_FILE: file })),
        'session.secret',
      );
      assert.equal(
        problem.message,
        `GATEHOUSE_SESSION_SECRET_FILE names '${file}', which is empty: write the secret into it`,
      );
    }
  });
});
