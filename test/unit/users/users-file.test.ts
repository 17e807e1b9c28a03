import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseUsersFile } from '../../../src/users/users-file.js';
import { verifyPassword } from '../../../src/users/hashing.js';

// Tests run from dist/test/unit/users; the fixtures stay in the source tree.
const FIXTURE = new URL('../../../../test/fixtures/users/users.yml', import.meta.url);
const EXAMPLE = new URL('../../../../users_database.yml', import.meta.url);
const HASH = '$argon2id$v=19$m=1024,t=1,p=1$yb53lzKfjongWMeyUaP64w$BGk1GNl6aDBMt4noyv3UZ9fmSphvHurzc6Ru+bLrSBE';

/** A users file with one user `u` whose YAML body (after the password) is `body`, indented as given. */
function oneUser(body: string, username = 'u'): string {
  return `users:\n  ${username}:\n    password: '${HASH}'\n${body}`;
}

describe('SPEC §3 users file (Authelia’s format)', () => {
  it('reads every user of the fixture with their details', () => {
    const { users, problems } = parseUsersFile(readFileSync(FIXTURE, 'utf8'), 'users.yml');
    assert.deepEqual(problems, []);
    assert.deepEqual([...users.keys()], ['john', 'harry', 'bob', 'sam', 'sally', 'ada']);
    assert.deepEqual(users.get('john')!.details, {
      username: 'john',
      displayName: 'John Doe',
      emails: ['john.doe@example.com'],
      groups: ['admins', 'dev'],
      disabled: false,
    });
    assert.equal(users.get('john')!.passwordHash, HASH);
    assert.deepEqual(users.get('harry')!.details.emails, ['harry.potter@example.com', 'harry@example.org']);
    assert.equal(users.get('bob')!.details.disabled, true);
  });

  it('the example users_database.yml is valid: john and harry sign in with "password", bob is disabled', async () => {
    const { users, problems } = parseUsersFile(readFileSync(EXAMPLE, 'utf8'), 'users_database.yml');
    assert.deepEqual(problems, []);
    assert.deepEqual(users.get('john')!.details.groups, ['admins', 'dev']);
    assert.deepEqual(users.get('harry')!.details.groups, ['dev']);
    assert.equal(users.get('bob')!.details.disabled, true);
    for (const record of users.values()) {
      assert.match(record.passwordHash, /^\$argon2id\$v=19\$m=65536,t=3,p=4\$/);
      assert.equal(await verifyPassword(record.passwordHash, 'password'), true);
    }
  });

  it('defaults: the display name is the username, no emails, no groups, enabled', () => {
    const { users, problems } = parseUsersFile(oneUser(''), 'f');
    assert.deepEqual(problems, []);
    assert.deepEqual(users.get('u')!.details, {
      username: 'u',
      displayName: 'u',
      emails: [],
      groups: [],
      disabled: false,
    });
  });

  it('the details handed out cannot be changed by a caller', () => {
    const { users } = parseUsersFile(oneUser('    groups: [dev]\n'), 'f');
    const details = users.get('u')!.details;
    assert.throws(() => details.groups.push('admins'));
    assert.throws(() => {
      (details as { disabled: boolean }).disabled = true;
    });
  });

  it('Authelia’s newer profile attributes are accepted and ignored', () => {
    const body = [
      'given_name: A',
      'family_name: B',
      'middle_name: C',
      'nickname: D',
      'gender: x',
      'birthdate: 2000-01-01',
      "website: 'https://a.example'",
      "profile: 'https://a.example/p'",
      "picture: 'https://a.example/i.png'",
      'zoneinfo: Europe/Paris',
      'locale: fr-FR',
      "phone_number: '+33 1 23'",
      "phone_extension: '12'",
      'address: { street_address: 1 Main St }',
      'extra: { anything: [1, 2] }',
    ]
      .map((line) => `    ${line}\n`)
      .join('');
    const { users, problems } = parseUsersFile(oneUser(body), 'f');
    assert.deepEqual(problems, []);
    assert.ok(users.has('u'));
  });

  it('an empty users map is valid (nobody can sign in)', () => {
    for (const text of ['users: {}\n', 'users:\n']) {
      const { users, problems } = parseUsersFile(text, 'f');
      assert.deepEqual(problems, []);
      assert.equal(users.size, 0);
    }
  });

  it('duplicate group names and email addresses are kept once', () => {
    const { users } = parseUsersFile(oneUser('    groups: [dev, ops, dev]\n    emails: [a@x.io, a@x.io]\n'), 'f');
    assert.deepEqual(users.get('u')!.details.groups, ['dev', 'ops']);
    assert.deepEqual(users.get('u')!.details.emails, ['a@x.io']);
  });

  /** Each case: the file text, and the path and reason of the problem it must produce. */
  const PROBLEMS: ReadonlyArray<{ name: string; text: string; path: string; message: RegExp }> = [
    { name: 'invalid YAML', text: 'users:\n  u: [\n', path: 'f', message: /is not valid YAML: .*line/ },
    {
      name: 'a duplicate username',
      text: `users:\n  u:\n    password: '${HASH}'\n  u:\n    password: '${HASH}'\n`,
      path: 'f',
      message: /unique/,
    },
    { name: 'a document that is a list', text: '- users\n', path: 'f', message: /top-level 'users'/ },
    { name: 'an empty document', text: '', path: 'f', message: /top-level 'users'/ },
    { name: 'no users key', text: 'people: {}\n', path: 'users', message: /is required/ },
    { name: 'an unknown top-level key', text: 'users: {}\nadmins: [john]\n', path: 'admins', message: /unknown key/ },
    { name: 'users as a list', text: 'users: [john]\n', path: 'users', message: /must be a map/ },
    { name: 'a user that is not a map', text: 'users:\n  u: secret\n', path: 'users.u', message: /must be a map/ },
    {
      name: 'a missing password',
      text: 'users:\n  u:\n    displayname: U\n',
      path: 'users.u.password',
      message: /is required/,
    },
    {
      name: 'a plain-text password',
      text: 'users:\n  u:\n    password: hunter2\n',
      path: 'users.u.password',
      message: /plain-text password/,
    },
    {
      name: 'an unsupported hash',
      text: "users:\n  u:\n    password: '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/'\n",
      path: 'users.u.password',
      message: /md5-crypt/,
    },
    {
      name: 'a malformed hash',
      text: "users:\n  u:\n    password: '$argon2id$v=19$m=65536'\n",
      path: 'users.u.password',
      message: /not a well-formed argon2/,
    },
    { name: 'an unknown user key', text: oneUser('    pasword: x\n'), path: 'users.u.pasword', message: /unknown key/ },
    {
      name: 'a numeric username',
      text: `users:\n  007:\n    password: '${HASH}'\n`,
      path: 'users.7',
      message: /must be a string \(quote it\)/,
    },
    {
      name: 'an empty username',
      text: `users:\n  '':\n    password: '${HASH}'\n`,
      path: 'users.',
      message: /must not be empty/,
    },
    { name: 'a username with a space', text: oneUser('', "'john doe'"), path: 'users.john doe', message: /whitespace/ },
    {
      name: 'a username with a tab',
      text: oneUser('', '"john\\tdoe"'),
      path: 'users.john\\u0009doe',
      message: /whitespace or control/,
    },
    { name: 'a username with a comma', text: oneUser('', "'john,admin'"), path: 'users.john,admin', message: /comma/ },
    {
      name: 'a username over 100 characters',
      text: oneUser('', 'a'.repeat(101)),
      path: `users.${'a'.repeat(101)}`,
      message: /at most 100/,
    },
    {
      name: 'a display name that is a number',
      text: oneUser('    displayname: 42\n'),
      path: 'users.u.displayname',
      message: /must be a string/,
    },
    {
      name: 'a display name over 256 characters',
      text: oneUser(`    displayname: ${'n'.repeat(257)}\n`),
      path: 'users.u.displayname',
      message: /at most 256/,
    },
    {
      name: 'both email and emails',
      text: oneUser('    email: a@x.io\n    emails: [b@x.io]\n'),
      path: 'users.u.emails',
      message: /either 'email' or 'emails'/,
    },
    {
      name: 'an email without @',
      text: oneUser('    email: john.example.com\n'),
      path: 'users.u.email',
      message: /email address/,
    },
    {
      name: 'an email list with a bad item',
      text: oneUser('    emails: [a@x.io, "b@x.io, c@y.io"]\n'),
      path: 'users.u.emails[1]',
      message: /email address/,
    },
    {
      name: 'emails as a string',
      text: oneUser('    emails: a@x.io\n'),
      path: 'users.u.emails',
      message: /must be a list/,
    },
    {
      name: 'groups as a string',
      text: oneUser('    groups: admins\n'),
      path: 'users.u.groups',
      message: /must be a list/,
    },
    {
      name: 'a group with a comma',
      text: oneUser("    groups: ['dev,admins']\n"),
      path: 'users.u.groups[0]',
      message: /comma/,
    },
    {
      name: 'a numeric group',
      text: oneUser('    groups: [dev, 2024]\n'),
      path: 'users.u.groups[1]',
      message: /must be a string/,
    },
    {
      name: 'an empty group',
      text: oneUser("    groups: ['']\n"),
      path: 'users.u.groups[0]',
      message: /must not be empty/,
    },
    {
      name: 'disabled as yes',
      text: oneUser('    disabled: yes\n'),
      path: 'users.u.disabled',
      message: /true or false/,
    },
  ];

  for (const testCase of PROBLEMS) {
    it(`${testCase.name} is a problem at ${testCase.path}`, () => {
      const { users, problems } = parseUsersFile(testCase.text, 'f');
      const found = problems.find((problem) => problem.path === testCase.path);
      assert.ok(found, `no problem at ${testCase.path}; got ${JSON.stringify(problems)}`);
      assert.match(found.message, testCase.message);
      assert.ok(
        ![...users.keys()].some((name) => testCase.path.startsWith(`users.${name}`)),
        'the faulty user was kept',
      );
    });
  }

  it('every problem is reported at once, and valid users are still read', () => {
    const text = [
      'users:',
      '  good:',
      `    password: '${HASH}'`,
      '  bad:',
      '    password: hunter2',
      '    groups: admins',
      '    disabled: no',
      '    role: root',
    ].join('\n');
    const { users, problems } = parseUsersFile(text, 'f');
    assert.deepEqual(problems.map((problem) => problem.path).sort(), [
      'users.bad.disabled',
      'users.bad.groups',
      'users.bad.password',
      'users.bad.role',
    ]);
    assert.deepEqual([...users.keys()], ['good']);
  });

  it('no problem message quotes the password value (it may be a pasted plain-text password)', () => {
    const { problems } = parseUsersFile('users:\n  u:\n    password: my-Secret-pw\n  v:\n    password: "x: [\n', 'f');
    assert.ok(problems.length > 0);
    for (const problem of problems) assert.ok(!JSON.stringify(problem).includes('my-Secret-pw'));
    const syntax = parseUsersFile('users:\n  u:\n    password: my-Secret-pw\n  [broken\n', 'f').problems;
    assert.ok(syntax.length > 0);
    for (const problem of syntax) assert.ok(!JSON.stringify(problem).includes('my-Secret-pw'), JSON.stringify(problem));
  });
});

describe('SPEC §4 Remote-* headers: no header injection through the users file', () => {
  const INJECTIONS: ReadonlyArray<{ field: string; yaml: string; path: string }> = [
    {
      field: 'a display name with CR LF',
      yaml: '    displayname: "John\\r\\nRemote-Groups: admins"\n',
      path: 'users.u.displayname',
    },
    { field: 'a display name with a bare LF', yaml: '    displayname: "John\\nX: y"\n', path: 'users.u.displayname' },
    { field: 'a display name with NUL', yaml: '    displayname: "John\\0"\n', path: 'users.u.displayname' },
    { field: 'a display name with a C1 next-line', yaml: '    displayname: "John\\NX"\n', path: 'users.u.displayname' },
    {
      field: 'a display name with a line separator',
      yaml: '    displayname: "John\\LX"\n',
      path: 'users.u.displayname',
    },
    { field: 'a display name with DEL', yaml: '    displayname: "John\\x7f"\n', path: 'users.u.displayname' },
    { field: 'an email with CR LF', yaml: '    email: "a@x.io\\r\\nRemote-User: admin"\n', path: 'users.u.email' },
    { field: 'an emails item with LF', yaml: '    emails: ["a@x.io\\nb"]\n', path: 'users.u.emails[0]' },
    { field: 'a group with CR LF', yaml: '    groups: ["dev\\r\\nRemote-User: admin"]\n', path: 'users.u.groups[0]' },
    { field: 'a group with a tab', yaml: '    groups: ["dev\\tops"]\n', path: 'users.u.groups[0]' },
  ];

  for (const injection of INJECTIONS) {
    it(`${injection.field} is refused`, () => {
      const { users, problems } = parseUsersFile(oneUser(injection.yaml), 'f');
      const found = problems.find((problem) => problem.path === injection.path);
      assert.ok(found, `no problem at ${injection.path}; got ${JSON.stringify(problems)}`);
      assert.match(found.message, /control characters|email address/);
      assert.equal(users.has('u'), false);
    });
  }

  it('a username with a line break is refused, and the problem path stays on one line', () => {
    const { users, problems } = parseUsersFile(oneUser('', '"john\\r\\nRemote-User: admin"'), 'f');
    assert.equal(users.size, 0);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'users.john\\u000d\\u000aRemote-User: admin');
    assert.ok(!/[\r\n]/.test(problems[0]!.path));
  });

  it('non-ASCII names are allowed (they are not control characters)', () => {
    const { users, problems } = parseUsersFile(
      oneUser('    displayname: "Zoë Łukasiewicz 李"\n    groups: [développeurs]\n', 'zoë'),
      'f',
    );
    assert.deepEqual(problems, []);
    assert.equal(users.get('zoë')!.details.displayName, 'Zoë Łukasiewicz 李');
  });
});
