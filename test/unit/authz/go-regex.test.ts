import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { RE2JS } from 're2js';
import { anchoredPrefix, compileGoRegex, type GoRegex } from '../../../src/config/go-regex.js';

function compiled(pattern: string, options?: { caseInsensitive?: boolean }): GoRegex {
  const result = compileGoRegex(pattern, options);
  if ('error' in result) assert.fail(`'${pattern}' should compile: ${result.error}`);
  return result;
}

describe('Go regular expressions: they match as under Go (RE2)', () => {
  const cases: { pattern: string; matches: string[]; rejects: string[]; why: string }[] = [
    {
      why: 'plain text and anchors',
      pattern: '^/api([/?].*)?$',
      matches: ['/api', '/api/x', '/api?a=1'],
      rejects: ['/apix', 'x/api'],
    },
    {
      why: '(?P<name>) named groups',
      pattern: '^(?P<User>\\w+)\\.example\\.com$',
      matches: ['john.example.com'],
      rejects: ['john.example.org'],
    },
    { why: '(?<name>) named groups (Go 1.22)', pattern: '^(?<Group>\\w+)$', matches: ['admins'], rejects: ['a b'] },
    {
      why: '. does not match \\n but does match \\r (Go knows only \\n as a line end)',
      pattern: '^a.b$',
      matches: ['a\rb', 'a\u2028b', 'aéb'],
      rejects: ['a\nb'],
    },
    { why: '(?s) lets . match \\n', pattern: '(?s)^a.b$', matches: ['a\nb'], rejects: ['ab'] },
    { why: '(?s:...) is scoped', pattern: '(?s:a.)b.', matches: ['a\nbc'], rejects: ['a\nb\n'] },
    { why: '(?m) makes ^ and $ work at \\n only', pattern: '(?m)^b$', matches: ['a\nb\nc'], rejects: ['a\rb\rc'] },
    {
      why: 'without (?m), $ is the very end (not before a final \\n)',
      pattern: '^a$',
      matches: ['a'],
      rejects: ['a\n', 'b\na'],
    },
    {
      why: '(?i) at the start covers the whole pattern',
      pattern: '(?i)^/Admin',
      matches: ['/admin', '/ADMIN'],
      rejects: ['/user'],
    },
    { why: '(?i:...) spanning the whole pattern', pattern: '(?i:^abc$)', matches: ['ABC'], rejects: ['abd'] },
    {
      why: '\\d \\w \\s are ASCII only, as in Go',
      pattern: '^\\d\\w\\s$',
      matches: ['1a ', '9_\t'],
      rejects: ['١a ', '1é ', '1a\u00a0', '1a\v'],
    },
    {
      why: '\\D \\W \\S complement them',
      pattern: '^\\D\\W\\S$',
      matches: ['a-x', '١é\v'],
      rejects: ['1-x', 'a_x', 'a- '],
    },
    { why: 'classes keep \\S exact inside brackets', pattern: '^[\\S]+$', matches: ['ab\v'], rejects: ['a b'] },
    { why: 'POSIX classes', pattern: '^[[:alpha:][:digit:]]+$', matches: ['abc123'], rejects: ['abc-'] },
    { why: 'negated POSIX classes', pattern: '^[[:^alpha:]]+$', matches: ['12-'], rejects: ['1a'] },
    { why: 'a leading ] in a class is a literal', pattern: '^[]a]+$', matches: [']a]'], rejects: ['b'] },
    { why: 'a negated class with a leading ]', pattern: '^[^]a]$', matches: ['b'], rejects: [']', 'a'] },
    { why: '- at either end of a class is a literal', pattern: '^[-a][b-]$', matches: ['-b', 'a-'], rejects: ['bb'] },
    { why: '- after a class escape is a literal', pattern: '^[\\d-z]+$', matches: ['1-z'], rejects: ['y'] },
    { why: '\\Q...\\E quotes text', pattern: '^\\Qa.b*\\E$', matches: ['a.b*'], rejects: ['axb', 'a.bb'] },
    { why: '\\Q without \\E runs to the end', pattern: '^\\Q(x', matches: ['(x'], rejects: ['x'] },
    { why: '\\A and \\z', pattern: '\\Aab\\z', matches: ['ab'], rejects: ['ab\n', 'xab'] },
    { why: 'escaped punctuation is literal', pattern: '^\\-\\#\\ \\/\\_$', matches: ['-# /_'], rejects: ['x'] },
    { why: 'hex escapes', pattern: '^\\x41\\x{1F600}$', matches: ['A😀'], rejects: ['A'] },
    { why: 'octal escapes', pattern: '^\\101\\0$', matches: ['A\0'], rejects: ['A'] },
    { why: 'control escapes', pattern: '^\\a\\f\\t\\n\\r\\v$', matches: ['\x07\f\t\n\r\v'], rejects: [''] },
    { why: 'a { that is no repeat count is literal', pattern: '^a{,2}x{$', matches: ['a{,2}x{'], rejects: ['aa'] },
    { why: 'repeat counts', pattern: '^a{2,3}$', matches: ['aa', 'aaa'], rejects: ['a', 'aaaa'] },
    {
      why: 'Unicode classes: categories and scripts',
      pattern: '^\\pL\\p{Greek}\\PN\\p{^Lu}$',
      matches: ['aαxa'],
      rejects: ['aa1a', 'aαxA'],
    },
    { why: 'characters beyond the BMP count as one', pattern: '^😀{2}$', matches: ['😀😀'], rejects: ['😀'] },
    { why: '(?U) swaps greedy and lazy', pattern: '(?U)^(a+)(a*?)$', matches: ['aaa'], rejects: [] },
    {
      why: '(?i) may start anywhere and covers what follows',
      pattern: '^a(?i)b$',
      matches: ['ab', 'aB'],
      rejects: ['AB'],
    },
    { why: '(?i:...) is scoped', pattern: '^(?i:a)b$', matches: ['Ab'], rejects: ['AB'] },
    { why: '(?-i) switches it off again', pattern: '^(?i)a(?-i)b$', matches: ['Ab'], rejects: ['AB'] },
    { why: 'a character beyond the BMP is one character for .', pattern: '^.$', matches: ['😀'], rejects: ['ab'] },
  ];
  for (const { why, pattern, matches, rejects } of cases) {
    it(`${why}: ${pattern}`, () => {
      const regex = compiled(pattern);
      for (const text of matches) assert.ok(regex.test(text), `${pattern} should match ${JSON.stringify(text)}`);
      for (const text of rejects) assert.ok(!regex.test(text), `${pattern} should not match ${JSON.stringify(text)}`);
      for (const text of matches) assert.notEqual(regex.exec(text), null, 'exec agrees with test');
      for (const text of rejects) assert.equal(regex.exec(text), null, 'exec agrees with test');
    });
  }

  it('(?U) makes quantifiers lazy, and a trailing ? greedy again', () => {
    assert.equal(compiled('(?U)(?P<x>a+)').exec('aaa')?.x, 'a');
    assert.equal(compiled('(?U)(?P<x>a+?)').exec('aaa')?.x, 'aaa');
    assert.equal(compiled('(?P<x>a+)').exec('aaa')?.x, 'aaa');
  });

  it('lists the named groups in order, Go names starting with a digit included, and gives the first match', () => {
    const regex = compiled('(?P<User>a)(?<Group>b)(?P<1x>c)(d)');
    assert.deepEqual(regex.groupNames, ['User', 'Group', '1x']);
    assert.deepEqual({ ...regex.exec('xabcdabcd') }, { User: 'a', Group: 'b', '1x': 'c' });
  });

  it('a named group that takes no part in the match is undefined (Go gives "")', () => {
    assert.deepEqual({ ...compiled('^(?:(?P<User>a)|b)$').exec('b') }, { User: undefined });
  });

  it('leftmost-first alternation, as Go (not leftmost-longest)', () => {
    assert.equal(compiled('(?P<x>a|ab)').exec('ab')?.x, 'a');
  });

  it('caseInsensitive is (?i) over the whole pattern (used for host names)', () => {
    assert.ok(compiled('^App\\.example\\.com$', { caseInsensitive: true }).test('app.example.com'));
    assert.ok(!compiled('^App\\.example\\.com$').test('app.example.com'));
  });
});

describe('Go regular expressions: linear time, whatever the pattern', () => {
  // A backtracking engine takes exponential time on these (seconds at 30 characters); RE2 takes linear time, so the
  // 5,000-character inputs below finish at once. The assertions are on the result: a regression would hang the test.
  const long = 'a'.repeat(5000);
  it('nested quantifiers: ^/api/(a+)+$', () => {
    const regex = compiled('^/api/(a+)+$');
    assert.equal(regex.test(`/api/${long}!`), false);
    assert.equal(regex.test(`/api/${long}`), true);
  });
  it('overlapping alternatives: ^(a|aa)+$ and ^(a|a?)+b$', () => {
    assert.equal(compiled('^(a|aa)+$').test(`${long}!`), false);
    assert.equal(compiled('^(a|a?)+b$').test(long), false);
  });
  it('with a named group, through exec: ^/(?P<User>a*)*x$', () => {
    assert.equal(compiled('^/(?P<User>a*)*x$').exec(`/${long}`), null);
  });
});

describe("Go regular expressions: refused as Go refuses them, with Go's reason", () => {
  const cases: { pattern: string; reason: RegExp }[] = [
    { pattern: '(?=a)', reason: /invalid or unsupported Perl syntax: `\(\?=`/ },
    { pattern: '(?<!a)b', reason: /invalid named capture/ },
    { pattern: '(a)\\1', reason: /invalid escape sequence: `\\1`/ },
    { pattern: '(?x)a', reason: /invalid or unsupported Perl syntax/ },
    { pattern: '(?i-)a', reason: /invalid or unsupported Perl syntax/ },
    { pattern: '(?#comment)', reason: /invalid or unsupported Perl syntax/ },
    { pattern: 'a{1001}', reason: /invalid repeat count/ },
    { pattern: 'a{3,2}', reason: /invalid repeat count/ },
    { pattern: '(a', reason: /missing closing \)/ },
    { pattern: 'a)', reason: /unexpected \)/ },
    { pattern: '[a', reason: /missing closing \]/ },
    { pattern: '[z-a]', reason: /invalid character class range/ },
    { pattern: '[a-\\d]', reason: /invalid escape sequence|invalid character class range/ },
    { pattern: '[[:alfa:]]', reason: /invalid character class range/ },
    { pattern: 'a\\', reason: /trailing backslash/ },
    { pattern: '\\C', reason: /invalid escape sequence: `\\C`/ },
    { pattern: '\\Z', reason: /invalid escape sequence: `\\Z`/ },
    { pattern: '[\\b]', reason: /invalid escape sequence/ },
    { pattern: '\\xZZ', reason: /invalid escape sequence/ },
    { pattern: '\\x{110000}', reason: /invalid escape sequence/ },
    { pattern: '\\p{Klingon}', reason: /invalid character class range/ },
    { pattern: '(?P<a b>x)', reason: /invalid named capture/ },
    { pattern: '(?P<a>x)(?P<a>y)', reason: /duplicate capture group name/ },
    { pattern: '*a', reason: /missing argument to repetition operator/ },
    { pattern: 'a**', reason: /invalid nested repetition operator/ },
    { pattern: 'a{2}{3}', reason: /invalid nested repetition operator/ },
  ];
  for (const { pattern, reason } of cases) {
    it(`${pattern} → ${reason.source}`, () => {
      const result = compileGoRegex(pattern);
      assert.ok('error' in result, `'${pattern}' should be refused`);
      assert.match(result.error, reason);
      assert.ok(
        result.error.startsWith(`invalid regular expression '${pattern}': `),
        'the message quotes the pattern as written',
      );
    });
  }
});

describe('the literal-prefix shortcut never changes an answer', () => {
  const prefixes: [pattern: string, prefix: string][] = [
    ['^/api([/?].*)?$', '/api'],
    ['^/admin/.*$', '/admin/'],
    ['^user-(?P<User>\\w+)\\.example\\.com$', 'user-'],
    ['^/ab*', '/a'],
    ['^/ab+c', '/a'],
    ['^/ab?c', '/a'],
    ['^/ab{0}c', '/a'],
    ['^/a.b', '/a'],
    ['^/a\\.b', '/a'],
    ['^/a|^/b', ''],
    ['^/a(b|c)', ''],
    ['^(?i)/admin', ''],
    ['/admin', ''],
    ['^', ''],
    ['^a*', ''],
  ];
  for (const [pattern, prefix] of prefixes) {
    it(`${pattern} → '${prefix}'`, () => assert.equal(anchoredPrefix(pattern), prefix));
  }

  const patterns = [...prefixes.map(([pattern]) => pattern), '^/ADMIN', '^kS/x', '^/admin(?i)X$', '^/a(?m)$'];
  const texts = [
    '',
    '/',
    '/a',
    '/api',
    '/api/x',
    '/apix',
    '/admin/',
    '/ADMIN/',
    '/Admin/x',
    'user-john.example.com',
    'USER-john.example.com',
    '/abc',
    '/ac',
    '/a.b',
    '/aXb',
    '/b',
    'kS/x',
    'KS/x',
    '\u212aS/x',
    'k\u017f/x',
    '/adminx',
    '/adminX',
    '/a\n',
  ];
  for (const caseInsensitive of [false, true]) {
    it(`agrees with re2js without it on every pattern and text (caseInsensitive: ${caseInsensitive})`, () => {
      for (const pattern of patterns) {
        const plain = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
        const regex = compiled(pattern, { caseInsensitive });
        for (const text of texts) {
          assert.equal(regex.test(text), plain.test(text), `${pattern} on ${JSON.stringify(text)}`);
          assert.equal(regex.exec(text) !== null, plain.test(text), `exec: ${pattern} on ${JSON.stringify(text)}`);
        }
      }
    });
  }
});
