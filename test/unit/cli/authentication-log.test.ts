// The pure parts of `gatehouse storage authentication-log list`: reading --since and --limit, and printing rows
// whose text a client chose without letting it drive the terminal (cli/authentication-log.ts).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  DEFAULT_LOG_LIMIT,
  displayField,
  formatJsonLines,
  formatTable,
  parseLimit,
  parseSince,
  resultOf,
} from '../../../src/cli/authentication-log.js';
import type { AuthenticationAttempt } from '../../../src/storage/storage.js';

const NOW = Date.parse('2026-11-27T18:00:00Z');

function attempt(over: Partial<AuthenticationAttempt> = {}): AuthenticationAttempt {
  return {
    time: new Date('2026-11-27T17:59:58.123Z'),
    successful: false,
    banned: false,
    username: 'john',
    authType: '1FA',
    remoteIp: '192.0.2.1',
    requestUri: '/api/firstfactor',
    requestMethod: 'POST',
    ...over,
  };
}

const accepted = <T>(parsed: { value: T } | { error: string }): T => {
  assert.ok('value' in parsed, 'error' in parsed ? parsed.error : '');
  return parsed.value;
};
const errorOf = (parsed: { value: unknown } | { error: string }): string => {
  assert.ok('error' in parsed, 'expected a refusal');
  return parsed.error;
};

describe('--since', () => {
  it('takes a duration back from now, as the configuration writes them', () => {
    for (const [text, seconds] of [
      ['1h', 3600],
      ['90m', 5400],
      ['1h30m', 5400],
      ['7d', 7 * 86400],
      ['1w', 7 * 86400],
      ['45s', 45],
      ['3600', 3600],
    ] as const)
      assert.equal(accepted(parseSince(text, NOW)).getTime(), NOW - seconds * 1000, text);
  });

  it('takes an RFC 3339 time in UTC or with an offset, and fractions of a second', () => {
    assert.equal(accepted(parseSince('2026-11-27T10:00:00Z', NOW)).toISOString(), '2026-11-27T10:00:00.000Z');
    assert.equal(accepted(parseSince('2026-11-27T11:00:00+01:00', NOW)).toISOString(), '2026-11-27T10:00:00.000Z');
    assert.equal(accepted(parseSince('2026-11-26T23:30:00-05:00', NOW)).toISOString(), '2026-11-27T04:30:00.000Z');
    assert.equal(accepted(parseSince('2026-11-27 10:00:00.5z', NOW)).toISOString(), '2026-11-27T10:00:00.500Z');
  });

  it('a duration longer than the epoch reaches back to the start: every attempt', () => {
    assert.equal(accepted(parseSince('100000y', NOW)).getTime(), 0);
  });

  it('refuses what is neither, a date that does not exist, a time without its zone, and a time to come', () => {
    for (const text of [
      '',
      'yesterday',
      '-1h',
      '0',
      '0s',
      '1h-',
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-11-27',
      '2026-11-27T10:00:00',
      'Fri, 27 Nov 2026 10:00:00 GMT',
    ])
      assert.match(
        errorOf(parseSince(text, NOW)),
        /^--since takes a duration like 1h or 7d, or an RFC 3339 time/,
        text,
      );
    assert.equal(errorOf(parseSince('2026-11-28T00:00:00Z', NOW)), '--since 2026-11-28T00:00:00Z is in the future');
  });

  it('quotes a refused value escaped and short', () => {
    const message = errorOf(parseSince(`\x1b[2J${'x'.repeat(500)}`, NOW));
    assert.ok(!message.includes('\x1b'));
    assert.ok(message.includes('\\x1b[2J'));
    assert.ok(message.length < 220, String(message.length));
  });
});

describe('--limit', () => {
  it(`is ${DEFAULT_LOG_LIMIT} when absent, else a whole number from 1 to 100000`, () => {
    assert.equal(accepted(parseLimit(undefined)), 100);
    assert.equal(accepted(parseLimit('1')), 1);
    assert.equal(accepted(parseLimit('100000')), 100_000);
    for (const text of ['0', '-1', '1.5', '1e3', '100001', '', 'ten', '0x10'])
      assert.match(errorOf(parseLimit(text)), /^--limit takes a whole number from 1 to 100000/, text);
  });
});

describe('printing attempts', () => {
  it('names the result: success, failure, or banned (refused during a ban, never checked)', () => {
    assert.equal(resultOf({ successful: true, banned: false }), 'success');
    assert.equal(resultOf({ successful: false, banned: false }), 'failure');
    assert.equal(resultOf({ successful: false, banned: true }), 'banned');
  });

  it('a table with a header, times in UTC to the second, columns aligned, the target shortened', () => {
    const table = formatTable([
      attempt({ username: 'harry', successful: true, authType: 'WEBAUTHN', requestUri: `/${'a'.repeat(100)}` }),
      attempt({ banned: true, remoteIp: '2001:db8::1' }),
    ]);
    const lines = table.split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^TIME \(UTC\)\s+USER\s+RESULT\s+TYPE\s+ADDRESS\s+TARGET$/);
    assert.match(lines[1]!, /^2026-11-27 17:59:58 {2}harry\s+success\s+WEBAUTHN\s+192\.0\.2\.1\s+POST \/a+…$/);
    assert.match(lines[2]!, /^2026-11-27 17:59:58 {2}john\s+banned\s+1FA\s+2001:db8::1\s+POST \/api\/firstfactor$/);
    assert.equal(lines[1]!.indexOf('success'), lines[0]!.indexOf('RESULT'));
    assert.equal(lines[2]!.indexOf('2001'), lines[0]!.indexOf('ADDRESS'));
    assert.equal([...lines[1]!.split(/\s{2,}/).at(-1)!].length, 56, 'the target cut to its column');
  });

  it('a sign-in with no target shows a dash', () => {
    const [, row] = formatTable([attempt({ requestUri: '', requestMethod: '' })]).split('\n');
    assert.match(row!, /\s192\.0\.2\.1\s+-$/);
  });

  it('says so when there is nothing to show', () => {
    assert.equal(formatTable([]), 'No authentication attempts match.');
    assert.equal(formatJsonLines([]), '');
  });

  it('escapes controls, separators and bidi marks in the table; a cut never splits a surrogate pair', () => {
    assert.equal(displayField('a\x1b[31mb\nc', 40), 'a\\x1b[31mb\\x0ac');
    assert.equal(displayField('evil\u202etxt.exe\u2066', 40), 'evil\\u202etxt.exe\\u2066');
    assert.equal(displayField('x\u2028y\x7f\u0085', 40), 'x\\u2028y\\x7f\\x85');
    assert.equal(displayField('abcdef', 4), 'abc…');
    assert.equal(displayField('ab😀cd', 4), 'ab…', 'the emoji would be split: dropped whole');
  });

  it('JSON lines hold every value whole and parse back to it, with nothing a terminal acts on left raw', () => {
    const hostile = attempt({
      username: 'eve\x1b]0;title\x07\u009b\u2028\u202e',
      requestUri: `/${'x'.repeat(3000)}\r\n`,
    });
    const out = formatJsonLines([hostile, attempt({ successful: true })]);
    const lines = out.split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: '2026-11-27T17:59:58.123Z',
      username: hostile.username,
      result: 'failure',
      successful: false,
      banned: false,
      auth_type: '1FA',
      remote_ip: '192.0.2.1',
      request_method: 'POST',
      request_uri: hostile.requestUri,
    });
    assert.equal((JSON.parse(lines[1]!) as { result: string }).result, 'success');
  });
});
