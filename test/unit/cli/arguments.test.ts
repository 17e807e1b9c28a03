// The command line as node:util parseArgs reads it: the same options and usage errors as the hand-written reader
// it replaced, each error pointing at the help of the command it was given to.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { parseCommandLine, UsageError } from '../../../src/cli/arguments.js';

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('options', () => {
  it('reads commands, repeatable options (in order) and the last of a single-valued one', () => {
    const { command, options } = parseCommandLine([
      'access-control',
      'check-policy',
      '-c',
      'a.yml',
      '--config=b.yml',
      '--url',
      'https://x.example.com/',
      '--groups',
      'a,b',
      '--groups=c',
      '--method',
      'GET',
      '--method',
      'POST',
    ]);
    assert.deepEqual([...command], ['access-control', 'check-policy']);
    assert.deepEqual([...(options.config ?? [])], ['a.yml', 'b.yml']);
    assert.deepEqual([...(options.groups ?? [])], ['a,b', 'c']);
    assert.equal(options.method, 'POST');
    assert.equal(options.url, 'https://x.example.com/');
    assert.equal(options.verbose, false);
    assert.equal(options.help, false);
  });

  it('takes -h as --help, and an empty value as a value', () => {
    const { options } = parseCommandLine(['hash-password', '-h', '--password=']);
    assert.equal(options.help, true);
    assert.equal(options.password, '');
  });

  it('keeps --verbose=true and --verbose=false, the last one winning', () => {
    assert.equal(parseCommandLine(['--verbose']).options.verbose, true);
    assert.equal(parseCommandLine(['--verbose=true']).options.verbose, true);
    assert.equal(parseCommandLine(['--verbose', '--verbose=false']).options.verbose, false);
    assert.equal(parseCommandLine(['--verbose=false', '--verbose']).options.verbose, true);
  });
});

describe('usage errors', () => {
  it('an unknown option is named, with the help of the command before it', () => {
    const error = usageError(['hash-password', '--nope']);
    assert.equal(error.message, 'unknown option --nope');
    assert.deepEqual([...error.command], ['hash-password']);
    assert.deepEqual(
      [...usageError(['storage', 'user', 'webauthn', 'list', '-x']).command],
      ['storage', 'user', 'webauthn', 'list'],
    );
  });

  it('a value missing, a value given to a switch, and `--` are refused', () => {
    assert.equal(usageError(['serve', '--config']).message, '--config needs a value');
    assert.equal(usageError(['serve', '-c']).message, '--config needs a value');
    assert.equal(usageError(['storage', '--all=yes']).message, '--all takes no value');
    assert.equal(usageError(['serve', '--']).message, 'unknown option --');
  });

  it('a value that looks like an option must be attached with =', () => {
    assert.match(usageError(['hash-password', '--password', '-x']).message, /--password=VALUE/);
    assert.equal(parseCommandLine(['hash-password', '--password=-x']).options.password, '-x');
  });
});
