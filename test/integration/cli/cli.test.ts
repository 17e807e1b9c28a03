// SPEC §2: the `gatehouse` commands, run as the compiled binary.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { verifyPassword } from '../../../src/users/hashing.js';
import { DEFAULT_USERS, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { runCli } from '../../helpers/process.js';

describe('gatehouse CLI', () => {
  let dir: string;
  let configPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    const { raw } = await testConfig({ dir, usersPath, storage: 'embedded', sessions: 'memory' });
    configPath = join(dir, 'configuration.yml');
    writeFileSync(configPath, stringify(raw));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('validate-config', () => {
    it('prints "Configuration is valid" and exits 0 for a valid file', async () => {
      const res = await runCli(['validate-config', '--config', configPath]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Configuration is valid/);
    });

    it('prints every problem with its key path and exits 1', async () => {
      const bad = join(dir, 'bad.yml');
      writeFileSync(
        bad,
        stringify({
          session: { cookies: [{ domain: 'example.com', authelia_url: 'https://auth.other.com' }], inactivity: 'soon' },
          access_control: {
            default_policy: 'maybe',
            rules: [{ domain: 'x.example.com', resources: ['(unclosed'], policy: 'one_factor' }],
          },
          unknown_key: true,
        }),
      );
      const res = await runCli(['validate-config', '--config', bad]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /unknown_key/);
      assert.match(res.stderr, /session\.inactivity/);
      assert.match(res.stderr, /access_control\.default_policy/);
    });

    it('reports malformed YAML with the file and line', async () => {
      const bad = join(dir, 'malformed.yml');
      writeFileSync(bad, 'session:\n  cookies: [\n    - domain\n');
      const res = await runCli(['validate-config', '--config', bad]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /malformed\.yml:\d+/);
    });

    it('takes overrides from GATEHOUSE_* variables', async () => {
      const res = await runCli(['validate-config', '--config', configPath], {
        env: { GATEHOUSE_SESSION_INACTIVITY: 'never' },
      });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /session\.inactivity/);
    });
  });

  describe('hash-password', () => {
    it('prints an argon2id PHC string that verifies', async () => {
      const res = await runCli(['hash-password', '--password', 'hunter2']);
      assert.equal(res.code, 0, res.stderr);
      const hash = res.stdout.trim();
      assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
      assert.equal(await verifyPassword(hash, 'hunter2'), true);
    });

    it('reads the password from standard input', async () => {
      const res = await runCli(['hash-password'], { input: 's3cret line\n' });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(await verifyPassword(res.stdout.trim(), 's3cret line'), true);
    });
  });

  describe('migrate', () => {
    let pg: PostgresTestTarget;
    beforeAll(async () => {
      pg = await postgresTestTarget();
    });
    afterAll(async () => pg.cleanup());

    it('applies pending migrations once, then finds nothing to do', async () => {
      const env = {
        GATEHOUSE_STORAGE_POSTGRES_ADDRESS: `tcp://${pg.config.address.host}:${pg.config.address.port}`,
        GATEHOUSE_STORAGE_POSTGRES_DATABASE: pg.config.database,
        GATEHOUSE_STORAGE_POSTGRES_SCHEMA: pg.config.schema,
        GATEHOUSE_STORAGE_POSTGRES_USERNAME: pg.config.username,
        GATEHOUSE_STORAGE_POSTGRES_PASSWORD: pg.config.password || 'unused-with-trust-auth',
      };
      const first = await runCli(['migrate', '--config', configPath], { env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /Applied migrations: 0001_initial/);
      const second = await runCli(['migrate', '--config', configPath], { env });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /up to date/);
    });
  });

  describe('access-control check-policy', () => {
    it('names the deciding rule for a user', async () => {
      const res = await runCli([
        'access-control',
        'check-policy',
        '--config',
        configPath,
        '--url',
        'https://admin.example.com/',
        '--username',
        'john',
        '--groups',
        'admins',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /one_factor/);
      assert.match(res.stdout, /#4/);
    });

    it('falls back to the default policy', async () => {
      const res = await runCli([
        'access-control',
        'check-policy',
        '--config',
        configPath,
        '--url',
        'https://nothing.example.com/',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /default/);
      assert.match(res.stdout, /deny/);
    });
  });

  it('an unknown command or option is a usage error (exit 2, see commands.test.ts)', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    assert.equal((await runCli(['serve', '--nope'])).code, 2);
  });

  it('a wrong configuration stops start-up with the key and the reason', async () => {
    const res = await runCli(['serve', '--config', configPath], { env: { GATEHOUSE_REGULATION_MAX_RETRIES: '-5' } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /regulation\.max_retries/);
  });
});
