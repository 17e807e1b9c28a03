// `gatehouse storage authentication-log list` as an operator runs it: the real CLI against a real PostgreSQL, reading
// rows a running Gatehouse wrote (real sign-ins) and rows seeded at known times. Filters, --since, ordering, limits,
// JSON lines, hostile values printed escaped, and usage errors (exit 2) before the database is opened.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor, signIn } from '../../helpers/flows.js';
import { runCli } from '../../helpers/process.js';
import type { AuthenticationAttempt } from '../../../src/storage/storage.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** A username an attacker typed: colour escape, a forged newline and line, a bidi override, a C1 control. */
const HOSTILE_USER = 'eve\x1b[31m\nFORGED 2020-01-01 admin success\u202eoops\u0085';
const HOSTILE_URI = 'https://app.example.com/?\x07bell\r\nX: y';

interface JsonRow {
  time: string;
  username: string;
  result: string;
  successful: boolean;
  banned: boolean;
  auth_type: string;
  remote_ip: string;
  request_method: string;
  request_uri: string;
}

describe('storage authentication-log list (real CLI, real PostgreSQL)', () => {
  let t: TestGatehouse;
  const now = Date.now();
  const cli = (...args: string[]) =>
    runCli(['storage', 'authentication-log', 'list', ...args, '--config', t.configPath]);
  const jsonRows = (stdout: string): JsonRow[] =>
    stdout
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JsonRow);

  const seeded = (minutesAgo: number, over: Partial<AuthenticationAttempt>): AuthenticationAttempt => ({
    time: new Date(now - minutesAgo * MINUTE),
    successful: false,
    banned: false,
    username: 'harry',
    authType: '1FA',
    remoteIp: '192.0.2.10',
    requestUri: 'https://app.example.com/inbox',
    requestMethod: 'GET',
    ...over,
  });

  beforeAll(async () => {
    t = await startGatehouse({ storage: 'postgres' });
    const storage = t.gatehouse.adapters.storage;
    for (const attempt of [
      seeded(3 * 24 * 60, { username: 'old-timer', successful: true }),
      seeded(120, {
        username: 'harry',
        successful: true,
        authType: 'WEBAUTHN',
        requestUri: 'https://secure.example.com/',
      }),
      seeded(90, { username: 'harry' }),
      seeded(30, { username: 'harry', banned: true }),
      seeded(20, { username: HOSTILE_USER, requestUri: HOSTILE_URI, remoteIp: '2001:db8::7' }),
    ])
      await storage.appendAuthenticationLog(attempt);
    // Two real attempts through the portal, written by the running server as every sign-in is.
    await signIn(t, 'john');
    const failed = await firstFactor(t, { username: 'john', password: 'not the password' });
    assert.equal(failed.status, 401);
  });
  afterAll(() => t.close());

  it('prints a table newest first: time (UTC), user, result, type, address, target', async () => {
    const res = await cli();
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME \(UTC\)\s+USER\s+RESULT\s+TYPE\s+ADDRESS\s+TARGET$/);
    assert.equal(lines.length, 1 + 7, 'a header and one line per attempt, whatever the values hold');
    // The two real attempts are the newest: the failure after the success (signed in at the portal: no target).
    assert.match(lines[1]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+john\s+failure\s+1FA\s+127\.0\.0\.1\s+-$/);
    assert.match(lines[2]!, /\bjohn\s+success\s+1FA\b/);
    assert.match(lines[4]!, /\bharry\s+banned\s+1FA\b/);
    assert.match(lines[6]!, /\bharry\s+success\s+WEBAUTHN\s+192\.0\.2\.10\s+GET https:\/\/secure\.example\.com\/$/);
    assert.match(lines[7]!, /\bold-timer\s+success\b/);
    const times = lines.slice(1).map((line) => line.slice(0, 19));
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    assert.equal(times[6], new Date(now - 3 * DAY).toISOString().replace('T', ' ').slice(0, 19), 'in UTC');
  });

  it('prints client-chosen values escaped: no escape sequence, forged line or bidi override reaches the terminal', async () => {
    const res = await cli('--user', HOSTILE_USER);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, 'the forged newline stays inside its row');
    assert.doesNotMatch(res.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    assert.ok(lines[1]!.includes('eve\\x1b[31m\\x0aFORGED'), lines[1]);
    assert.ok(!/^\S+ \S+\s+FORGED/m.test(res.stdout));

    const json = await cli('--user', HOSTILE_USER, '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
    const [row] = jsonRows(json.stdout);
    assert.equal(row?.username, HOSTILE_USER, 'JSON parses back to exactly what was stored');
    assert.equal(row?.request_uri, HOSTILE_URI);
    assert.equal(row?.remote_ip, '2001:db8::7');
  });

  it('--user keeps one username; --since takes a duration or an RFC 3339 time; --limit keeps the newest N', async () => {
    const harry = jsonRows((await cli('--user', 'harry', '--json')).stdout);
    assert.deepEqual(
      harry.map((row) => row.result),
      ['banned', 'failure', 'success'],
    );
    assert.ok(harry.every((row) => row.username === 'harry'));

    const lastHour = jsonRows((await cli('--since', '1h', '--json')).stdout);
    assert.deepEqual(
      lastHour.map((row) => row.username),
      ['john', 'john', HOSTILE_USER, 'harry'],
    );
    const since = new Date(now - 100 * MINUTE).toISOString();
    const fromTime = jsonRows((await cli('--user', 'harry', '--since', since, '--json')).stdout);
    assert.equal(fromTime.length, 2);
    const week = jsonRows((await cli('--since', '1w', '--json')).stdout);
    assert.equal(week.length, 7);

    const newest = jsonRows((await cli('--limit', '2', '--json')).stdout);
    assert.deepEqual(
      newest.map((row) => [row.username, row.result]),
      [
        ['john', 'failure'],
        ['john', 'success'],
      ],
    );
    assert.equal(newest[0]!.remote_ip, '127.0.0.1');
    assert.ok(Date.parse(newest[0]!.time) >= now);
  });

  it('says so when nothing matches (exit 0), and prints nothing with --json', async () => {
    const none = await cli('--user', 'nobody');
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'No authentication attempts match.\n');
    const json = await cli('--user', 'nobody', '--json');
    assert.equal(json.code, 0);
    assert.equal(json.stdout, '');
  });

  it('refuses a bad --since, --limit, argument or sub-command with one clear line (exit 2)', async () => {
    for (const [args, message] of [
      [['--since', 'yesterday'], /--since takes a duration like 1h or 7d, or an RFC 3339 time/],
      [['--since=-1h'], /--since takes a duration/],
      [['--since', '0'], /--since takes a duration/],
      [['--since', '2026-02-30T00:00:00Z'], /--since takes a duration/],
      [['--since', '2026-01-02'], /--since takes a duration/],
      [['--since', '2999-01-01T00:00:00Z'], /--since 2999-01-01T00:00:00Z is in the future/],
      [['--limit', '0'], /--limit takes a whole number from 1 to 100000/],
      [['--limit', 'ten'], /--limit takes a whole number/],
      [['--user', ''], /--user needs a username/],
      [['harry'], /unexpected argument 'harry': give the user as --user U/],
    ] as const) {
      const res = await cli(...args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /Run 'gatehouse help storage authentication-log list' for usage\./);
      assert.equal(res.stdout, '');
    }
    const unknown = await runCli(['storage', 'authentication-log', 'purge', '--config', t.configPath]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'storage authentication-log purge'/);
  });

  it('help storage authentication-log list shows the options', async () => {
    const res = await runCli(['help', 'storage', 'authentication-log', 'list']);
    assert.equal(res.code, 0);
    assert.match(res.stdout, /^Usage: gatehouse storage authentication-log list \[--user U\] \[--since 1h\|TIME\]/);
    for (const option of ['--user U', '--since 1h|TIME', '--limit N', '--json', 'storage.authentication_log.retention'])
      assert.ok(res.stdout.includes(option), option);
  });
});
