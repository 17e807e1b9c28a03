// Issue 7: what `validate-config` accepts, `serve` starts with, and what `serve` refuses, `validate-config` refuses
// first, with the same lines (one load, `checkReferencedFiles`, behind both). Run as the compiled binary.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_USERS, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { freePort, runCli } from '../../helpers/process.js';

type Raw = Record<string, unknown>;

interface RefusedCase {
  rule: string;
  /** Changes the valid test configuration (a copy), and may write files into `dir`. */
  edit: (raw: Raw, dir: string) => Raw | string;
  /** Every line that must be among the problems, as `path: reason` patterns. */
  expect: RegExp[];
  cwd?: (dir: string) => string;
}

/** The problem lines of either command: validate-config prints them bare, serve after "Configuration is invalid:". */
const problemLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('warning: ') && line !== 'Configuration is invalid:');

describe('validate-config refuses exactly what serve refuses', () => {
  let dir: string;
  let valid: Raw;
  let count = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-agree-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    ({ raw: valid } = await testConfig({ dir, usersPath, storage: 'embedded', sessions: 'memory' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeCase = (edit: RefusedCase['edit']): string => {
    const caseDir = mkdtempSync(join(dir, `case-${count++}-`));
    const content = edit(structuredClone(valid), caseDir);
    const path = join(caseDir, 'configuration.yml');
    writeFileSync(path, typeof content === 'string' ? content : stringify(content));
    return path;
  };

  const usersWith =
    (text: string) =>
    (raw: Raw, caseDir: string): Raw => {
      const path = join(caseDir, 'users.yml');
      writeFileSync(path, text);
      return { ...raw, authentication_backend: { file: { path } } };
    };

  const cases: RefusedCase[] = [
    {
      rule: 'an incomplete authentication_backend.ldap is refused (never a fall-back to a users_database.yml in the working directory)',
      edit: (raw, caseDir) => {
        writeFileSync(
          join(caseDir, 'users_database.yml'),
          'users:\n  authelia:\n    password: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"\n',
        );
        return {
          ...raw,
          authentication_backend: { ldap: { address: 'ldap://ldap.example.com', base_dn: 'dc=example,dc=com' } },
        };
      },
      cwd: (caseDir) => caseDir,
      expect: [
        /^authentication_backend\.ldap\.user: is required/,
        /^authentication_backend\.ldap\.users_filter: is required/,
      ],
    },
    {
      rule: 'authentication_backend without file is refused rather than reading the default users file',
      edit: (raw) => ({ ...raw, authentication_backend: { refresh_interval: '5m' } }),
      expect: [/^authentication_backend\.file: is required/],
    },
    {
      rule: 'storage.mysql is refused',
      edit: (raw) => ({ ...raw, storage: { mysql: { address: 'tcp://db:3306', database: 'authelia' } } }),
      expect: [/^storage\.mysql: .*configure storage\.postgres/],
    },
    {
      rule: "an SQLite database at storage.local.path (Authelia's) is refused",
      edit: (raw, caseDir) => {
        const db = join(caseDir, 'db.sqlite3');
        writeFileSync(db, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(84)]));
        return { ...raw, storage: { local: { path: db } } };
      },
      expect: [/^storage\.local\.path: .*is an SQLite database/],
    },
    {
      rule: 'a configuration template is refused, not taken literally',
      edit: (raw) => stringify(raw).replace(/^( {2}secret: ).*$/m, '$1{{ secret "/run/secrets/session" }}'),
      expect: [/^session\.secret: uses Authelia's configuration templating/],
    },
    {
      rule: 'a missing users file is refused naming the key and the file',
      edit: (raw, caseDir) => ({ ...raw, authentication_backend: { file: { path: join(caseDir, 'nope.yml') } } }),
      expect: [/^authentication_backend\.file\.path: users file '.*nope\.yml': file not found/],
    },
    {
      rule: 'a plain-text password is refused naming the file and the user',
      edit: usersWith('users:\n  john:\n    password: hunter2\n'),
      expect: [/users\.yml: users\.john\.password: is not a password hash/],
    },
    {
      rule: 'a truncated hash is refused naming the file and the user',
      edit: usersWith("users:\n  john:\n    password: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0'\n"),
      expect: [/users\.yml: users\.john\.password: /],
    },
    {
      rule: "an 'email' given as a list is refused, as Authelia refuses it",
      edit: usersWith(
        "users:\n  john:\n    password: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'\n    email: [a@example.com, b@example.com]\n",
      ),
      expect: [/users\.yml: users\.john\.email: must be one address/],
    },
    {
      rule: 'a type error, a semantic error and an unknown key are reported together',
      edit: (raw) => ({ ...raw, log: { level: 'loud' }, regulation: { modes: [] }, colour: 'blue' }),
      expect: [/^colour: /, /^log\.level: /, /^regulation\.modes: /],
    },
  ];

  for (const { rule, edit, expect, cwd } of cases) {
    it(`${rule}: validate-config exits 1 and serve refuses with the same lines`, async () => {
      const config = writeCase(edit);
      const options = {
        ...(cwd ? { cwd: cwd(join(config, '..')) } : {}),
        env: { GATEHOUSE_SERVER_ADDRESS: `tcp://127.0.0.1:${await freePort()}` },
      };
      const [validate, serve] = await Promise.all([
        runCli(['validate-config', '--config', config], options),
        runCli(['serve', '--config', config], options),
      ]);
      assert.equal(validate.code, 1, validate.stdout);
      assert.equal(serve.code, 1, serve.stdout + serve.stderr);
      assert.match(serve.stderr, /^Configuration is invalid:/);
      const lines = problemLines(validate.stderr);
      for (const pattern of expect)
        assert.ok(
          lines.some((line) => pattern.test(line)),
          `no line matching ${pattern}:\n${validate.stderr}`,
        );
      assert.deepEqual(problemLines(serve.stderr), lines);
    });
  }

  it('the valid configuration passes validate-config (and serve starts with it: see cli.test.ts)', async () => {
    const res = await runCli(['validate-config', '--config', writeCase((raw) => raw)]);
    assert.equal(res.code, 0, res.stderr);
  });
});
