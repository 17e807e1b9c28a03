// Issue 9: the schema is the single source. The key table of docs/configuration.md, configuration.schema.json, the
// GATEHOUSE_* variables, the secret keys and the log redaction are generated from its `.meta()`; what is committed
// must be what the generator makes, and the shipped examples point editors at the schema and satisfy it.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../../src/paths.js';
import { configSchema } from '../../../src/config/schema.js';
import { generatedFiles, JSON_SCHEMA_PATH } from '../../../src/config/generate-docs.js';
import { configKeys, dottedKey, secretKeyPaths, type JsonSchemaNode } from '../../../src/config/reference.js';
import { envKeyTable } from '../../../src/config/env.js';
import { createLogger } from '../../../src/observability/logger.js';

const read = (path: string): string => readFileSync(join(packageRoot, path), 'utf8');

/** The shipped example configurations, with the schema line each must start with. */
const EXAMPLES = ['configuration.yml', 'deploy/gatehouse/configuration.yml'];

describe('generated files are committed as the generator makes them', () => {
  for (const file of generatedFiles()) {
    it(`${file.path} is up to date`, () => {
      assert.ok(
        file.matches(read(file.path)),
        `${file.path} differs from what src/config/schema.ts generates: run npm run generate:config and commit it`,
      );
    });
  }
});

describe('every key is described', () => {
  it('each schema node has a description, so the docs table and editors can say what it does', () => {
    const bare = configKeys()
      .filter((key) => !key.node.description)
      .map((key) => dottedKey(key.path));
    assert.deepEqual(bare, [], 'add .meta({ description }) to these keys in src/config/schema.ts');
  });
});

describe('configuration.schema.json', () => {
  const schema = JSON.parse(read(JSON_SCHEMA_PATH)) as JsonSchemaNode & { $schema: string };
  const at = (...path: string[]): JsonSchemaNode =>
    path.reduce((node: JsonSchemaNode, key) => node.properties![key]!, schema);

  it('is draft 2020-12 and refuses unknown keys, as the loader does', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal((schema as { additionalProperties?: unknown }).additionalProperties, false);
  });

  it('carries defaults, descriptions, enums and the secret marks', () => {
    assert.equal(at('server', 'address').default, 'tcp://:9091');
    assert.equal(at('session', 'remember_me').default, '1M');
    assert.deepEqual(at('log', 'level').enum, ['trace', 'debug', 'info', 'warn', 'error']);
    assert.match(at('access_control', 'default_policy').description ?? '', /no rule matches/);
    assert.equal(at('session', 'secret').secret, true);
    assert.equal(at('session', 'name').secret, undefined);
  });

  it('lists the Authelia keys Gatehouse maps or warns about as deprecated, and leaves refused ones unknown', () => {
    assert.equal(at('jwt_secret').deprecated, true);
    assert.match(at('jwt_secret').description ?? '', /identity_validation\.jwt_secret/);
    assert.equal(at('session', 'remember_me_duration').deprecated, true);
    assert.equal(at('totp').deprecated, true);
    assert.equal(schema.properties!.storage!.properties!.mysql, undefined);
    assert.equal(schema.properties!.server!.properties!.tls, undefined);
  });

  for (const example of EXAMPLES) {
    it(`${example} names it on its first line and satisfies the schema it describes`, () => {
      const text = read(example);
      const first = text.split('\n', 1)[0]!;
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      assert.ok(match, `${example} must start with '# yaml-language-server: $schema=<path>'`);
      assert.equal(resolve(packageRoot, dirname(example), match[1]!), join(packageRoot, JSON_SCHEMA_PATH));
      const parsed = configSchema.safeParse(parseYaml(text));
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
    });
  }
});

describe('secrets come from the schema', () => {
  it('the secret keys are the ones marked secret: true', () => {
    assert.deepEqual(secretKeyPaths().sort(), [
      'authentication_backend.ldap.password',
      'authentication_backend.ldap.tls.private_key',
      'identity_token.encryption_key',
      'identity_validation.jwt_secret',
      'notifier.smtp.password',
      'session.redis.high_availability.sentinel_password',
      'session.redis.password',
      'session.secret',
      'storage.postgres.password',
    ]);
  });

  it('each secret has a _FILE variable and every other key has none', () => {
    const table = envKeyTable();
    const fileVariables = [...table.values()].filter((key) => key.fromFile).map((key) => key.dotted);
    assert.deepEqual(fileVariables.sort(), secretKeyPaths().sort());
    assert.equal(table.get('GATEHOUSE_SESSION_REDIS_HIGH_AVAILABILITY_SENTINEL_PASSWORD_FILE')?.secret, true);
  });

  it('the logger redacts every secret by its name, at the top level and one level down', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'json' }, out);
    logger.info(
      { jwt_secret: 'S1', redis: { password: 'S2', sentinel_password: 'S3' }, session: { secret: 'S4' } },
      'x',
    );
    assert.equal(lines.length, 1);
    for (const value of ['S1', 'S2', 'S3', 'S4']) assert.ok(!lines[0]!.includes(value), `${value} leaked`);
  });
});
