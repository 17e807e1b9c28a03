// Issue 8: the operators' guide's homelab path works as written. The blocks marked `<!-- guide-step: NAME -->` in
// docs/operators-guide.md are run here with a shell, moved to a scratch folder (for /etc/gatehouse), this checkout
// (for /opt/gatehouse) and a throw-away PostgreSQL role and database: secrets made, role and database created by
// the guide's own SQL, the configuration validated and the storage migrated by the guide's own commands.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import pg from 'pg';
import { SHIPPED_NODE_FLAGS } from '../../../src/node-flags.js';
import { packageRoot } from '../../../src/paths.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';

const guide = readFileSync(join(packageRoot, 'docs', 'operators-guide.md'), 'utf8');

/** The fenced block right after `<!-- guide-step: NAME -->`. */
function step(name: string): string {
  const marker = `<!-- guide-step: ${name} -->`;
  const at = guide.indexOf(marker);
  assert.ok(at >= 0, `the guide has step ${name}`);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(guide.slice(at + marker.length));
  assert.ok(block, `step ${name} has a code block`);
  return block[1]!;
}

describe("operators' guide: the homelab install runs as written", () => {
  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-guide-'));
  const etc = join(scratch, 'etc-gatehouse');
  const name = `gh_guide_${randomBytes(4).toString('hex')}`;
  let target: PostgresTestTarget;
  let admin: string;
  let pgUrl: URL;

  /** The guide's shell text, moved to this machine: no sudo, scratch paths, the throw-away role and database. */
  function localise(text: string): string {
    return text
      .replaceAll('sudo -u postgres psql', `psql '${admin}'`)
      .replaceAll('sudo -u gatehouse sh -c', 'sh -c')
      .replaceAll('sudo ', '')
      .replaceAll('-o root -g gatehouse', '')
      .replaceAll('chgrp gatehouse', 'chgrp root')
      .replaceAll('/etc/gatehouse', etc)
      .replaceAll('/opt/gatehouse', packageRoot);
  }
  const sh = (script: string) =>
    execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    target = await postgresTestTarget();
    admin = target.url;
    pgUrl = new URL(admin);
    sh(localise(step('secrets')));
  });
  afterAll(async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${name}`);
    await client.end();
    await target.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('makes four secrets, readable by owner and group only, named in gatehouse.env', () => {
    const env = readFileSync(join(etc, 'gatehouse.env'), 'utf8');
    for (const secret of ['session_secret', 'jwt_secret', 'postgres_password', 'redis_password']) {
      const path = join(etc, 'secrets', secret);
      assert.ok(env.includes(`_FILE=${path}`), `${secret} is named in gatehouse.env`);
      assert.equal(statSync(path).mode & 0o007, 0, `${secret} is not readable by others`);
      assert.ok(readFileSync(path, 'utf8').trim().length >= 60, `${secret} is long`);
    }
  });

  it("creates the role and the database with the guide's SQL", async () => {
    // The role and database are named `gatehouse` in the guide: here a throw-away name (the scratch paths are kept).
    const sql = step('postgres')
      .replaceAll('/etc/gatehouse', '\u0000')
      .replaceAll(/\bgatehouse\b/g, name)
      .replaceAll('\u0000', '/etc/gatehouse');
    sh(localise(sql));
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    const owner = await client.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [
      name,
    ]);
    await client.end();
    assert.equal(owner.rows[0]?.owner, name);
  });

  it("validates the guide's configuration and migrates the storage with the guide's commands", () => {
    sh(localise(step('users')));
    const config = parse(step('configuration')) as Record<string, any>;
    config.authentication_backend.file.path = join(etc, 'users_database.yml');
    config.storage.postgres.address = `tcp://${pgUrl.host}`;
    config.storage.postgres.database = name;
    config.storage.postgres.username = name;
    writeFileSync(join(etc, 'configuration.yml'), stringify(config));

    assert.match(sh(localise(step('validate'))), /Configuration is valid/);
    const migrate = step('upgrade')
      .split('\n')
      .filter((line) => line.includes(' migrate '));
    assert.equal(migrate.length, 1, 'the upgrade step runs migrate once');
    sh(localise(migrate[0]!));
  });

  it('the shipped systemd unit runs the built CLI with the files the guide makes', () => {
    const unit = readFileSync(join(packageRoot, 'deploy', 'systemd', 'gatehouse.service'), 'utf8');
    const value = (key: string) =>
      /^(\S+)=(.*)$/m.exec(
        unit
          .split('\n')
          .filter((line) => line.startsWith(`${key}=`))
          .join('\n'),
      )?.[2];
    const words = value('ExecStart')!.split(' ');
    assert.equal(words[0], '/usr/bin/node');
    // node's own flags (src/node-flags.ts, checked in test/unit/deploy/node-flags.test.ts), then the CLI
    assert.deepEqual(words.slice(1, 1 + SHIPPED_NODE_FLAGS.length), SHIPPED_NODE_FLAGS);
    const exec = [words[0], ...words.slice(1 + SHIPPED_NODE_FLAGS.length)];
    assert.equal(exec[1], '/opt/gatehouse/dist/src/cli.js');
    assert.ok(
      statSync(join(packageRoot, 'dist', 'src', 'cli.js')).isFile(),
      'the built CLI is where the unit looks (relative to /opt/gatehouse)',
    );
    assert.deepEqual(exec.slice(2), ['serve', '--config', '/etc/gatehouse/configuration.yml']);
    assert.equal(value('EnvironmentFile'), '/etc/gatehouse/gatehouse.env');
    assert.ok(step('secrets').includes('/etc/gatehouse/gatehouse.env'), 'the guide writes that environment file');
    assert.equal(value('User'), 'gatehouse');
  });
});
