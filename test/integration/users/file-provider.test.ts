import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { FileUserProvider, UsersFileError, type UsersChange } from '../../../src/users/file-provider.js';
import { DEFAULT_ARGON2_PARAMS } from '../../../src/users/hashing.js';

const FIXTURE = new URL('../../../../test/fixtures/users/users.yml', import.meta.url);
const FAST_ARGON2 = { ...DEFAULT_ARGON2_PARAMS, memory: 1024, iterations: 1, parallelism: 1 };
const HASH = '$argon2id$v=19$m=1024,t=1,p=1$yb53lzKfjongWMeyUaP64w$BGk1GNl6aDBMt4noyv3UZ9fmSphvHurzc6Ru+bLrSBE';

function usersText(users: Record<string, { groups?: string[]; disabled?: boolean }>): string {
  const lines = ['users:'];
  for (const [name, user] of Object.entries(users)) {
    lines.push(
      `  ${name}:`,
      `    password: '${HASH}'`,
      `    groups: [${(user.groups ?? []).join(', ')}]`,
      `    disabled: ${user.disabled ?? false}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A pino logger whose lines are kept as parsed objects, to wait on and to inspect. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

describe('SPEC §3 authentication_backend.file: the users file backend', () => {
  let provider: FileUserProvider;
  beforeAll(async () => {
    provider = await FileUserProvider.open({ path: FIXTURE.pathname, watch: false, dummyHashParams: FAST_ARGON2 });
  });
  afterAll(() => provider.close());

  it('get() answers from memory, disabled users included', () => {
    assert.deepEqual(provider.get('john'), {
      username: 'john',
      displayName: 'John Doe',
      emails: ['john.doe@example.com'],
      groups: ['admins', 'dev'],
      disabled: false,
    });
    assert.equal(provider.get('bob')?.disabled, true);
    assert.equal(provider.get('nobody'), undefined);
    assert.equal(provider.get('__proto__'), undefined);
    assert.equal(provider.get('John'), undefined, 'usernames are matched exactly');
  });

  it('the right password gives the user, whatever the hash algorithm', async () => {
    assert.equal((await provider.checkPassword('john', 'password'))?.username, 'john');
    assert.equal((await provider.checkPassword('sam', 'bcrypt password'))?.username, 'sam');
    assert.equal((await provider.checkPassword('sally', 'sha password'))?.displayName, 'Sally');
    assert.equal((await provider.checkPassword('ada', 's3cret words'))?.username, 'ada');
  });

  const REFUSED: ReadonlyArray<[string, string, string]> = [
    ['a wrong password', 'john', 'Password'],
    ['an empty password', 'john', ''],
    ['another user’s password', 'ada', 'password'],
    ['an unknown user', 'nobody', 'password'],
    ['a disabled user with the right password', 'bob', 'password'],
    ['a password over 1024 bytes', 'john', 'x'.repeat(1025)],
  ];
  for (const [name, username, password] of REFUSED) {
    it(`${name} gives undefined`, async () => {
      assert.equal(await provider.checkPassword(username, password), undefined);
    });
  }

  it('an unknown user costs at least about what a known user costs (SPEC §8)', async () => {
    // The dummy hash uses the fixture's own parameters here, so both sides do the same work.
    await provider.checkPassword('john', 'warm-up');
    const known = await median(9, () => provider.checkPassword('john', 'wrong password'));
    const unknown = await median(9, () => provider.checkPassword('nobody-at-all', 'wrong password'));
    console.log(`checkPassword median: known user ${known.toFixed(2)} ms, unknown user ${unknown.toFixed(2)} ms`);
    assert.ok(unknown >= known / 2, `unknown ${unknown} ms vs known ${known} ms`);
  });

  it('with the default dummy parameters an unknown user still pays for a full argon2id verification', async () => {
    const strict = await FileUserProvider.open({ path: FIXTURE.pathname, watch: false });
    try {
      const known = await median(5, () => strict.checkPassword('john', 'wrong password'));
      const unknown = await median(5, () => strict.checkPassword('nobody-at-all', 'wrong password'));
      console.log(
        `default dummy: known user (m=1024 fixture) ${known.toFixed(2)} ms, unknown user ${unknown.toFixed(2)} ms`,
      );
      assert.ok(unknown >= known / 2);
    } finally {
      await strict.close();
    }
  });
});

describe('a users file without users', () => {
  it('loads, with a warning that nobody can sign in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-users-empty-'));
    const path = join(dir, 'users.yml');
    writeFileSync(path, 'users: {}\n');
    const logs = capturingLogger();
    const provider = await FileUserProvider.open({
      path,
      watch: false,
      logger: logs.logger,
      dummyHashParams: FAST_ARGON2,
    });
    try {
      const warning = logs.lines.find((line) => line.level === 40);
      assert.match(String(warning?.msg), /no users: nobody can sign in/);
      assert.equal(warning?.path, path);
    } finally {
      await provider.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FileUserProvider.open refuses an unusable file, naming it and every problem', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-users-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file', async () => {
    const path = join(dir, 'absent.yml');
    await assert.rejects(FileUserProvider.open({ path, watch: false }), (error: Error) => {
      assert.ok(error instanceof UsersFileError);
      assert.match(error.message, new RegExp(`${path}.*\\n.*ENOENT`));
      return true;
    });
  });

  it('a directory', async () => {
    await assert.rejects(FileUserProvider.open({ path: dir, watch: false }), /not a regular file/);
  });

  it('an invalid file: every problem is in the error', async () => {
    const path = join(dir, 'invalid.yml');
    writeFileSync(path, 'users:\n  a:\n    password: plain\n  b:\n    password: x\n    groups: "dev"\n');
    await assert.rejects(FileUserProvider.open({ path, watch: false }), (error: Error) => {
      assert.ok(error instanceof UsersFileError);
      assert.deepEqual(
        error.problems.map((problem) => problem.path),
        ['users.a.password', 'users.b.password', 'users.b.groups'],
      );
      for (const path of ['users.a.password', 'users.b.password', 'users.b.groups'])
        assert.ok(error.message.includes(path));
      assert.ok(error.message.includes(path));
      return true;
    });
  });
});

describe('SPEC §3 watch: true reloads the users file without a restart', () => {
  let dir: string;
  let path: string;
  let provider: FileUserProvider;
  let logs: ReturnType<typeof capturingLogger>;
  const changes: UsersChange[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-users-watch-'));
    path = join(dir, 'users_database.yml');
    writeFileSync(path, usersText({ john: { groups: ['dev'] }, harry: {} }));
    logs = capturingLogger();
    provider = await FileUserProvider.open({
      path,
      watch: true,
      logger: logs.logger,
      dummyHashParams: FAST_ARGON2,
      pollIntervalMs: 500,
    });
    provider.onChange((change) => changes.push(change));
  });
  afterAll(async () => {
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rewrite in place is seen within a few seconds', async () => {
    writeFileSync(path, usersText({ john: { groups: ['dev'] }, harry: {}, newbie: {} }));
    await waitFor(() => provider.get('newbie') !== undefined, 'the new user');
    assert.equal((await provider.checkPassword('newbie', 'password'))?.username, 'newbie');
    await waitFor(
      () => logs.lines.some((line) => line.msg === 'users file reloaded' && line.users === 3),
      'the reload log',
    );
  });

  it('a replace by rename (editors, ConfigMaps) is seen too', async () => {
    const staged = join(dir, '.users_database.yml.tmp');
    writeFileSync(staged, usersText({ john: { groups: ['dev', 'admins'] }, harry: {}, newbie: {}, renamed: {} }));
    renameSync(staged, path);
    await waitFor(() => provider.get('renamed') !== undefined, 'the user from the renamed file');
    assert.deepEqual(provider.get('john')?.groups, ['dev', 'admins']);
  });

  it('listeners hear who was removed and who was disabled', async () => {
    const before = changes.length;
    writeFileSync(path, usersText({ john: { groups: ['dev', 'admins'] }, harry: { disabled: true }, renamed: {} }));
    await waitFor(() => provider.get('newbie') === undefined, 'the removal');
    await waitFor(() => changes.length > before, 'the change event');
    assert.deepEqual(changes.at(-1), { added: [], removed: ['newbie'], changed: ['harry'], disabled: ['harry'] });
    assert.equal(await provider.checkPassword('harry', 'password'), undefined);
  });

  it('an invalid rewrite keeps the previous users and logs every problem (without the hashes)', async () => {
    const failuresBefore = logs.lines.filter(
      (line) => line.msg === 'users file reload failed; keeping the previous users',
    ).length;
    writeFileSync(path, `${usersText({ john: {} })}  mallory:\n    password: letmein\n    groups: [admins]\n`);
    await waitFor(
      () =>
        logs.lines.filter((line) => line.msg === 'users file reload failed; keeping the previous users').length >
        failuresBefore,
      'the failed-reload log',
    );
    const failure = logs.lines.findLast((line) => line.msg === 'users file reload failed; keeping the previous users')!;
    assert.deepEqual(failure.problems, [
      'users.mallory.password: is not a password hash (a plain-text password?); use argon2id (gatehouse hash-password), bcrypt or sha512-crypt',
    ]);
    assert.equal(failure.level, 50);
    assert.equal(provider.get('mallory'), undefined);
    assert.deepEqual(provider.get('john')?.groups, ['dev', 'admins']);
    assert.ok(provider.get('renamed'));
    assert.ok(!JSON.stringify(logs.lines).includes('$argon2id$'), 'a hash was logged');
    assert.ok(!JSON.stringify(logs.lines).includes('letmein'), 'a password was logged');
  });

  it('a file that disappears keeps the users; when it comes back it is read again', async () => {
    rmSync(path);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(provider.get('john'));
    writeFileSync(path, usersText({ john: {}, back: {} }));
    await waitFor(() => provider.get('back') !== undefined, 'the user of the restored file');
  });
});

describe('the poll fallback sees changes that directory events miss', () => {
  it('a users path that is a symlink to a file elsewhere (as a Kubernetes ConfigMap mount) is reloaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-users-poll-'));
    const elsewhere = join(dir, 'data');
    mkdirSync(elsewhere);
    mkdirSync(join(dir, 'mount'));
    const target = join(elsewhere, 'users.yml');
    writeFileSync(target, usersText({ john: {} }));
    const path = join(dir, 'mount', 'users_database.yml');
    symlinkSync(target, path);
    const provider = await FileUserProvider.open({
      path,
      watch: true,
      dummyHashParams: FAST_ARGON2,
      pollIntervalMs: 300,
    });
    try {
      // The watched directory is `mount`; this write happens in `data`, so only the poll can notice it.
      writeFileSync(target, usersText({ john: {}, polled: {} }));
      await waitFor(() => provider.get('polled') !== undefined, 'the polled change');
    } finally {
      await provider.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after close() nothing is reloaded any more', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-users-close-'));
    const path = join(dir, 'users.yml');
    copyFileSync(FIXTURE, path);
    const provider = await FileUserProvider.open({
      path,
      watch: true,
      dummyHashParams: FAST_ARGON2,
      pollIntervalMs: 100,
    });
    await provider.close();
    writeFileSync(path, usersText({ late: {} }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(provider.get('late'), undefined);
    assert.ok(provider.get('john'));
    assert.ok(readFileSync(path, 'utf8').includes('late'));
    rmSync(dir, { recursive: true, force: true });
  });
});
