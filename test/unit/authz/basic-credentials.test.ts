// Authorization / Proxy-Authorization values read as Authelia reads them (internal/model/authorization.go):
// `<scheme> <value>` split at the first space, the scheme in any case, Basic base64 padded as Go's decoder wants.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { parseAuthorization } from '../../../src/authz/basic-credentials.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseAuthorization', () => {
  it('reads Basic credentials, the scheme in any case', () => {
    for (const scheme of ['Basic', 'basic', 'BASIC', 'BaSIc']) {
      assert.deepEqual(parseAuthorization(`${scheme} ${b64('john:password')}`), {
        scheme: 'basic',
        username: 'john',
        password: 'password',
      });
    }
  });

  it('keeps colons in the password and UTF-8 in both', () => {
    assert.deepEqual(parseAuthorization(`Basic ${b64('jöhn:pa:ss wörd')}`), {
      scheme: 'basic',
      username: 'jöhn',
      password: 'pa:ss wörd',
    });
  });

  it('recognises a well-formed bearer token (the caller passes it by)', () => {
    assert.deepEqual(parseAuthorization('Bearer abc.DEF-123_~+/=='), { scheme: 'bearer' });
    assert.equal(parseAuthorization('Bearer '), 'malformed');
    assert.equal(parseAuthorization('Bearer a b'), 'malformed');
  });

  const malformed: [string, string | string[]][] = [
    ['no space', 'Basic'],
    ['another scheme', 'Digest username="john"'],
    ['two spaces', `Basic  ${b64('john:password')}`],
    ['a trailing space', `Basic ${b64('john:password')} `],
    ['unpadded base64', `Basic ${b64('john:password1').replace(/=+$/, '')}`],
    ['not base64', 'Basic %%%'],
    ['no colon', `Basic ${b64('johnpassword')}`],
    ['an empty user name', `Basic ${b64(':password')}`],
    ['an empty password', `Basic ${b64('john:')}`],
    ['a control character in the user name', `Basic ${b64('jo\nhn:password')}`],
    ['a NUL in the password', `Basic ${b64('john:pass\u0000word')}`],
    ['an over-long value', `Basic ${'A'.repeat(5000)}`],
    ['a repeated header', ['Basic a', 'Basic b']],
  ];
  for (const [name, value] of malformed) {
    it(`is malformed for ${name}`, () => {
      assert.equal(parseAuthorization(value), 'malformed');
    });
  }
});
