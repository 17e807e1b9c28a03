// Issue 8: the CLI as an operator meets it: help and usage errors, the password prompt on a terminal, check-policy
// without secrets, the WebAuthn key commands on real PostgreSQL, and `sessions revoke` on real Redis.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { verifyPassword } from '../../../src/users/hashing.js';
import { packageRoot } from '../../../src/paths.js';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';
import { CLI, runCli } from '../../helpers/process.js';
import type { NewWebAuthnCredential } from '../../../src/storage/storage.js';

describe('help, --version and usage errors', () => {
  it('--version prints the package version', async () => {
    const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    for (const args of [['--version'], ['serve', '--version']]) {
      const res = await runCli(args);
      assert.equal(res.code, 0);
      assert.equal(res.stdout, `${version}\n`);
    }
  });

  it('gatehouse help lists every command', async () => {
    const res = await runCli(['help']);
    assert.equal(res.code, 0);
    for (const command of [
      'serve',
      'validate-config',
      'hash-password',
      'migrate',
      'access-control check-policy',
      'storage authentication-log list',
      'storage user webauthn list',
      'storage user webauthn delete',
      'storage user webauthn import',
      'storage user webauthn export',
      'sessions revoke',
      'help',
    ]) {
      assert.ok(res.stdout.includes(`gatehouse ${command}`), command);
    }
    assert.equal((await runCli(['--help'])).stdout, res.stdout);
  });

  it("each command's --help (and help COMMAND) prints that command's usage only", async () => {
    const own = await runCli(['storage', 'user', 'webauthn', 'delete', '--help']);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /^Usage: gatehouse storage user webauthn delete /);
    assert.match(own.stdout, /--kid KID/);
    assert.doesNotMatch(own.stdout, /hash-password|check-policy/);
    assert.equal((await runCli(['help', 'storage', 'user', 'webauthn', 'delete'])).stdout, own.stdout);
    const hash = await runCli(['hash-password', '--help']);
    assert.match(hash.stdout, /^Usage: gatehouse hash-password/);
    assert.match(hash.stdout, /twice without showing it/);
    // A group of commands: every command under it.
    const storage = await runCli(['help', 'storage']);
    assert.equal((storage.stdout.match(/^Usage: /gm) ?? []).length, 5);
  });

  it('a usage error prints the error and one line pointing at help, and exits 2', async () => {
    const cases: [string[], RegExp, string][] = [
      [['frobnicate'], /unknown command 'frobnicate'/, 'help'],
      [['hash-password', '--nope'], /unknown option --nope/, 'help hash-password'],
      [['sessions', 'revoke'], /takes exactly one USER/, 'help sessions revoke'],
      [
        ['storage', 'user', 'webauthn', 'delete', 'john'],
        /exactly one of --all, --description NAME, --kid KID/,
        'help storage user webauthn delete',
      ],
      [['storage', 'user', 'webauthn', 'delete', '--all'], /need the USER/, 'help storage user webauthn delete'],
      [['access-control', 'check-policy'], /--url is required/, 'help access-control check-policy'],
    ];
    for (const [args, message, topic] of cases) {
      const res = await runCli(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, '');
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, res.stderr);
      assert.match(lines[0]!, message);
      assert.equal(lines[1], `Run 'gatehouse ${topic}' for usage.`);
    }
  });
});

/** Runs `hash-password` under a real terminal (util-linux `script` makes the pty), typing once each prompt shows. */
function hashOnTerminal(answers: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(packageRoot, CLI))} hash-password`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb' },
    });
    let output = '';
    let prompts = 0;
    const onData = (data: Buffer) => {
      output += data.toString();
      const seen = (output.match(/Password: |Confirm password: /g) ?? []).length;
      while (prompts < seen && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('hash-password on a terminal', () => {
  it('prompts twice, never echoes the password, and prints a hash of it', async () => {
    const res = await hashOnTerminal(['Tr0ub4dor&3', 'Tr0ub4dor&3']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /Password: /);
    assert.match(res.output, /Confirm password: /);
    assert.ok(!res.output.includes('Tr0ub4dor'), 'the password was echoed');
    const hash = /\$argon2id\$\S+/.exec(res.output)![0];
    assert.equal(await verifyPassword(hash, 'Tr0ub4dor&3'), true);
  });

  it('refuses when the confirmation differs, and hashes nothing', async () => {
    const res = await hashOnTerminal(['one password', 'another']);
    assert.equal(res.code, 1);
    assert.match(res.output, /do not match/);
    assert.doesNotMatch(res.output, /\$argon2id\$/);
  });
});

describe('access-control check-policy needs no secrets, and answers for hosts as the endpoints do', () => {
  let t: TestGatehouse;
  let withRedisNoSecrets: string;
  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis' });
    const raw = parse(readFileSync(t.configPath, 'utf8')) as {
      session: Record<string, unknown>;
      identity_validation?: unknown;
    };
    delete raw.session.secret;
    delete raw.identity_validation;
    withRedisNoSecrets = join(t.dir, 'no-secrets.yml');
    writeFileSync(withRedisNoSecrets, stringify(raw));
  });
  afterAll(() => t.close());

  it('runs with session.redis and no secrets (which serve would refuse), without generated-secret warnings', async () => {
    assert.equal((await runCli(['validate-config', '--config', withRedisNoSecrets])).code, 1);
    const res = await runCli([
      'access-control',
      'check-policy',
      '--config',
      withRedisNoSecrets,
      '--url',
      'https://app.example.com/',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    assert.match(res.stdout, /one_factor/);
  });

  it('a host under no cookie domain is reported as the endpoints answer it: 400, not deny', async () => {
    const res = await runCli([
      'access-control',
      'check-policy',
      '--config',
      withRedisNoSecrets,
      '--url',
      'https://elsewhere.test/',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /400 Bad Request/);
    assert.doesNotMatch(res.stdout, /deny/);
    assert.equal((await authRequest(t, 'https://elsewhere.test/')).status, 400);
  });
});

function key(username: string, description: string, kid: string): NewWebAuthnCredential {
  return {
    createdAt: new Date('2026-01-02T03:04:05Z'),
    rpid: 'auth.example.com',
    username,
    description,
    kid,
    aaguid: null,
    attestationType: 'none',
    attachment: 'cross-platform',
    transports: ['usb'],
    signCount: 0,
    discoverable: false,
    present: true,
    verified: false,
    backupEligible: false,
    backupState: false,
    publicKey: new Uint8Array([1, 2, 3]),
    attestation: null,
    legacyU2fAppid: null,
  };
}

describe('storage user webauthn list and delete (real PostgreSQL)', () => {
  let t: TestGatehouse;
  const cli = (...args: string[]) => runCli([...args, '--config', t.configPath]);
  beforeAll(async () => {
    t = await startGatehouse({ storage: 'postgres' });
    const storage = t.gatehouse.adapters.storage;
    for (const k of [
      key('john', 'Blue key', 'AAAAAAAAAAAAAAAAAAAA-w'),
      key('john', 'Phone', 'BBBBBBBBBBBBBBBBBBBB_w'),
      key('john', 'Spare', 'CCCCCCCCCCCCCCCCCCCC'),
      key('harry', 'Harry\x1b[31m key', 'DDDDDDDDDDDDDDDDDDDD'),
      key('harry', 'Other', 'EEEEEEEEEEEEEEEEEEEE'),
    ]) {
      assert.ok((await storage.saveWebAuthnCredential(k)).saved);
    }
  });
  afterAll(() => t.close());

  it("list shows a user's keys (ID, KID, name), everyone's without USER, with names escaped", async () => {
    const john = await cli('storage', 'user', 'webauthn', 'list', 'john');
    assert.equal(john.code, 0, john.stderr);
    assert.match(john.stdout, /WebAuthn credentials of user 'john'/);
    assert.match(john.stdout, /AAAAAAAAAAAAAAAAAAAA-w.*Blue key/);
    assert.doesNotMatch(john.stdout, /harry/);
    const all = await cli('storage', 'user', 'webauthn', 'list');
    assert.match(all.stdout, /Harry\\x1b\[31m key/);
    assert.ok(!all.stdout.includes('\x1b'));
    const nobody = await cli('storage', 'user', 'webauthn', 'list', 'nobody');
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /user 'nobody' has no WebAuthn credentials/);
  });

  it('delete --description removes that key only; an unknown name changes nothing (exit 1)', async () => {
    const res = await cli('storage', 'user', 'webauthn', 'delete', 'john', '--description', 'Phone');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Deleted WebAuthn credential \d+ \('Phone'\) of user 'john'/);
    assert.deepEqual(
      (await t.gatehouse.adapters.storage.listWebAuthnCredentials('john')).map((k) => k.description),
      ['Blue key', 'Spare'],
    );
    assert.equal((await cli('storage', 'user', 'webauthn', 'delete', 'john', '--description', 'Phone')).code, 1);
  });

  it("delete --kid takes the key ID as list shows it or in Authelia's base64; with USER it must be theirs", async () => {
    assert.equal(
      (await cli('storage', 'user', 'webauthn', 'delete', 'harry', '--kid', 'AAAAAAAAAAAAAAAAAAAA-w')).code,
      1,
    );
    const res = await cli('storage', 'user', 'webauthn', 'delete', '--kid', 'AAAAAAAAAAAAAAAAAAAA+w==');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /\('Blue key'\) of user 'john'/);
  });

  it("delete USER --all removes every key of that user and nobody else's", async () => {
    const res = await cli('storage', 'user', 'webauthn', 'delete', 'harry', '--all');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trimEnd().split('\n').length, 2);
    assert.deepEqual(await t.gatehouse.adapters.storage.listWebAuthnCredentials('harry'), []);
    assert.equal((await t.gatehouse.adapters.storage.listWebAuthnCredentials('john')).length, 1);
  });
});

describe('sessions revoke (real Redis)', () => {
  it("ends every session of the user on the running server at once, and nobody else's", async () => {
    const t = await startGatehouse({ sessions: 'redis', storage: 'postgres' });
    try {
      const johns = [await signIn(t, 'john'), await signIn(t, 'john')];
      const harry = await signIn(t, 'harry');
      for (const cookie of [...johns, harry])
        assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 200);
      const res = await runCli(['sessions', 'revoke', 'john', '--config', t.configPath]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "Ended 2 sessions of user 'john'\n");
      for (const cookie of johns)
        assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 401);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: harry })).status, 200);
      // Signing in again works as before.
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: await signIn(t, 'john') })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('without session.redis, says where the sessions are and fails (exit 1)', async () => {
    const t = await startGatehouse();
    try {
      const res = await runCli(['sessions', 'revoke', 'john', '--config', t.configPath]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /kept in the memory of the running server .* restart it/);
    } finally {
      await t.close();
    }
  });
});
