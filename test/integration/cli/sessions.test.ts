// Issue 11 §1 for operators: `gatehouse sessions list --user U` and `sessions revoke --user U` (and the older
// `sessions revoke USER`) as a child process against the real Redis a running Gatehouse uses.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, firstFactor, sessionCookieFrom } from '../../helpers/flows.js';
import { runCli } from '../../helpers/process.js';
import request from 'supertest';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const TARGET = 'https://app.example.com/';

async function signInFrom(t: TestGatehouse, username: string, userAgent: string): Promise<string> {
  const res = await firstFactor(t, { username, password: PASSWORD }).set('User-Agent', userAgent);
  assert.equal(res.status, 200);
  return sessionCookieFrom(res)!;
}

describe('issue 11 §1: gatehouse sessions list|revoke', () => {
  let t: TestGatehouse;

  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the user’s live sessions as a table, naming them by handle only', async () => {
    const cookies = [await signInFrom(t, 'john', FIREFOX), await signInFrom(t, 'john', 'curl/8.5.0')];
    await signInFrom(t, 'harry', FIREFOX);
    const res = await runCli(['sessions', 'list', '--user', 'john', '--config', t.configPath]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^HANDLE +BROWSER \/ OS +ADDRESS +FIRST SEEN +LAST SEEN +LEVEL +COOKIE DOMAIN$/);
    assert.equal(lines.length, 3);
    assert.ok(
      lines.some((line) =>
        /^[A-Za-z0-9_-]{22} {2}Firefox 133 \/ Linux +127\.0\.0\.1 .* one_factor +example\.com$/.test(line),
      ),
      res.stdout,
    );
    assert.ok(
      lines.some((line) => line.includes('curl 8 / Unknown system')),
      res.stdout,
    );
    for (const cookie of cookies) assert.ok(!res.stdout.includes(cookie.split('=')[1]!));
    // The handles are the ones the user sees in the portal.
    const api = await request(t.url).get('/api/sessions').set('Host', 'auth.example.com').set('Cookie', cookies[0]!);
    for (const s of (api.body as { data: { sessions: { handle: string }[] } }).data.sessions)
      assert.ok(res.stdout.includes(s.handle));
  });

  it('revoke --user ends them all, on the running server too; the older form still works', async () => {
    const john = await signInFrom(t, 'john', FIREFOX);
    const res = await runCli(['sessions', 'revoke', '--user', 'john', '--config', t.configPath]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^Ended [1-9]\d* sessions? of user 'john'\n$/);
    assert.equal((await authRequest(t, TARGET, { cookie: john })).status, 401);
    const empty = await runCli(['sessions', 'list', '--user', 'john', '--config', t.configPath]);
    assert.equal(empty.stdout, "User 'john' has no live sessions\n");

    const harry = await signInFrom(t, 'harry', FIREFOX);
    const old = await runCli(['sessions', 'revoke', 'harry', '--config', t.configPath]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /^Ended [1-9]\d* sessions? of user 'harry'\n$/);
    assert.equal((await authRequest(t, TARGET, { cookie: harry })).status, 401);
  });

  it('usage errors exit 2 and point at the command’s help; help lists both commands', async () => {
    const cases: [string[], RegExp, string][] = [
      [['sessions'], /needs a command: list or revoke/, 'help sessions'],
      [['sessions', 'list'], /exactly one --user USER/, 'help sessions list'],
      [['sessions', 'list', 'john'], /takes the user as --user USER/, 'help sessions list'],
      [['sessions', 'revoke', 'john', '--user', 'harry'], /exactly one USER/, 'help sessions revoke'],
      [['sessions', 'frob'], /unknown command 'sessions frob'/, 'help sessions'],
    ];
    for (const [args, message, topic] of cases) {
      const res = await runCli(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      const lines = res.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, message);
      assert.equal(lines[1], `Run 'gatehouse ${topic}' for usage.`);
    }
    const help = await runCli(['help', 'sessions']);
    assert.match(help.stdout, /gatehouse sessions list --user USER/);
    assert.match(help.stdout, /gatehouse sessions revoke \(--user USER \| USER\)/);
  });

  it('without session.redis, says the sessions cannot be reached from here (exit 1)', async () => {
    const res = await runCli(['sessions', 'list', '--user', 'john']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /kept in the memory of the running server/);
  });
});
