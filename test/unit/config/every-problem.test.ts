// Issue 7 item 3: validation reports every problem at once. Type errors no longer hide the checks that span keys:
// the semantic checks run on what did parse, and the list comes sorted by key path.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfigCommand } from '../../../src/cli/load-config.js';
import { compareKeyPaths, parsePartially } from '../../../src/config/partial-parse.js';
import { loadContent, problemAt, problemsOf, tempFile, withMinimal } from './config-files.js';

describe('every problem at once', () => {
  it('a type error, a semantic error, an unknown key and a refused Authelia key come together, sorted by key path', () => {
    const problems = problemsOf(() =>
      loadContent({
        log: { level: 'loud' },
        session: { cookies: [{ domain: 'example.com', authelia_url: 'https://auth.other.com' }], remember_me: 0 },
        colour: 'blue',
        storage: { mysql: { address: 'tcp://db:3306' } },
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['colour', 'log.level', 'session.cookies[0].authelia_url', 'session.remember_me', 'storage.mysql'],
    );
  });

  it('a type error inside a section does not hide a semantic error beside it', () => {
    const problems = problemsOf(() => loadContent(withMinimal({ regulation: { max_retries: 'three', modes: [] } })));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['regulation.max_retries', 'regulation.modes'],
    );
  });

  it('a bad list entry does not hide the problems of the entries after it, which keep their own index', () => {
    const problems = problemsOf(() =>
      loadContent({
        session: {
          cookies: [
            { domain: 'example.com', authelia_url: 'https://auth.example.com', colour: 1 },
            { domain: 'example.net', authelia_url: 'https://auth.example.net', expiration: true },
            { domain: 'Example.org', authelia_url: 'https://auth.example.org' },
          ],
        },
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['session.cookies[0].colour', 'session.cookies[1].expiration', 'session.cookies[2].domain'],
    );
    assert.match(problemAt(problems, 'session.cookies[2].domain').message, /lower case/);
  });

  it('a missing required key does not bring false problems from the defaults left in its place', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ notifier: { smtp: { address: 'smtp://mail.example.com:25' } } })),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['notifier.smtp.sender'],
    );
  });

  it('the semantic problems about a value that failed its type are not reported twice', () => {
    const problems = problemsOf(() => loadContent({ session: { cookies: 'example.com' } }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['session.cookies'],
    );
  });

  it('validate-config prints them all, one per line, in that order', () => {
    const file = tempFile(withMinimal({ webauthn: { timeout: '1s', disable: 'no' }, log: { format: 'xml' }, zzz: 1 }));
    const result = validateConfigCommand([file], {});
    assert.equal(result.exitCode, 1);
    assert.deepEqual(
      result.output.split('\n').map((line) => line.split(':')[0]),
      ['log.format', 'webauthn.disable', 'webauthn.timeout', 'zzz'],
    );
  });
});

describe('partial parsing', () => {
  it('a configuration that parses is returned as is, with nothing tainted', () => {
    const parsed = parsePartially({ session: { cookies: [] } });
    assert.ok(parsed.config);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.isTainted('session'), false);
  });

  it('list entries taken out map later paths back to where they were written', () => {
    const parsed = parsePartially({
      access_control: { rules: [{ policy: 'nope' }, { policy: 'deny' }, { policy: 'maybe' }, { policy: 'bypass' }] },
    });
    assert.equal(parsed.config?.access_control.rules.length, 2);
    assert.equal(parsed.originalPath('access_control.rules[0]'), 'access_control.rules[1]');
    assert.equal(parsed.originalPath('access_control.rules[1].domain'), 'access_control.rules[3].domain');
    assert.equal(parsed.isTainted('access_control.rules[2].policy'), true);
    assert.equal(parsed.isTainted('access_control.rules[1]'), false);
  });

  it('key paths sort segment by segment, list indices as numbers', () => {
    const paths = ['b', 'a.rules[10]', 'a.rules[2].x', 'a', 'a.rules[2]'];
    assert.deepEqual(paths.sort(compareKeyPaths), ['a', 'a.rules[2]', 'a.rules[2].x', 'a.rules[10]', 'b']);
  });
});

describe('the files the configuration names (checked by validate-config and serve alike)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-referenced-'));
  const withUsers = (path: string, extra: Record<string, unknown> = {}) =>
    withMinimal({ authentication_backend: { file: { path } }, ...extra });
  const check = (content: object) => loadConfig({ files: [tempFile(content)], env: {}, checkReferencedFiles: true });

  it('a missing users file is named with its key', () => {
    const problems = problemsOf(() => check(withUsers(join(dir, 'missing.yml'))));
    assert.match(
      problemAt(problems, 'authentication_backend.file.path').message,
      /users file '.*missing\.yml': file not found/,
    );
  });

  it('without the check (tests that build Gatehouse themselves) the files are not read', () => {
    assert.doesNotThrow(() => loadContent(withUsers(join(dir, 'missing.yml'))));
  });

  it('a plain-text or truncated hash, and an email given as a list, are named by file and user', () => {
    const users = join(dir, 'users.yml');
    writeFileSync(
      users,
      [
        'users:',
        '  plain:',
        '    password: hunter2',
        '    email: plain@example.com',
        '  cut:',
        "    password: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ'",
        '  listed:',
        "    password: '$2b$10$abcdefghijklmnopqrstuuNdWcL0uS3iM2sMuO6k6n1lYVdQJgY8e'",
        '    email: [a@example.com, b@example.com]',
      ].join('\n'),
    );
    const problems = problemsOf(() => check(withUsers(users)));
    problemAt(problems, `${users}: users.plain.password`);
    problemAt(problems, `${users}: users.cut.password`);
    problemAt(problems, `${users}: users.listed.email`);
  });

  it("an SQLite file at storage.local.path (Authelia's local storage) is refused", () => {
    const sqlite = join(dir, 'db.sqlite3');
    writeFileSync(sqlite, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(84)]));
    const problems = problemsOf(() =>
      check(withUsers('./users_database.yml', { storage: { local: { path: sqlite } } })),
    );
    assert.match(
      problemAt(problems, 'storage.local.path').message,
      /is an SQLite database \(Authelia's local storage\)/,
    );
  });

  it('any other regular file at storage.local.path is refused too; a directory or a new path is fine', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'hello');
    assert.match(
      problemAt(
        problemsOf(() => check(withUsers('./users_database.yml', { storage: { local: { path: file } } }))),
        'storage.local.path',
      ).message,
      /is a file, not a directory/,
    );
    assert.doesNotThrow(() => check(withUsers('./users_database.yml', { storage: { local: { path: dir } } })));
    assert.doesNotThrow(() =>
      check(withUsers('./users_database.yml', { storage: { local: { path: join(dir, 'new-db') } } })),
    );
  });

  it('storage.local.path is not checked when storage.postgres is used', () => {
    const file = join(dir, 'other.txt');
    writeFileSync(file, 'x');
    assert.doesNotThrow(() =>
      check(
        withUsers('./users_database.yml', {
          storage: { local: { path: file }, postgres: { address: 'tcp://127.0.0.1:5432', password: 'x' } },
        }),
      ),
    );
  });
});
