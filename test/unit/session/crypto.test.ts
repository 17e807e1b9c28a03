import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isWellFormedSessionId, newSessionId, SessionCipher, sessionStoreKey } from '../../../src/session/crypto.js';

describe('SPEC §8 session IDs', () => {
  it('are 256 random bits in base64url, and every one issued is well formed', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newSessionId()));
    assert.equal(ids.size, 200);
    for (const id of ids) {
      assert.equal(Buffer.from(id, 'base64url').length, 32);
      assert.ok(isWellFormedSessionId(id), id);
    }
  });

  const wellFormed = newSessionId();
  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['one short', wellFormed.slice(1)],
    ['one long', `${wellFormed}A`],
    ['padded', `${wellFormed}=`],
    ['standard base64 alphabet', `${wellFormed.slice(0, 42).replace(/./, '+')}A`],
    ['non-canonical last character', `${wellFormed.slice(0, 42)}B`],
    ['a space inside', `${wellFormed.slice(0, 20)} ${wellFormed.slice(21)}`],
    ['non-ASCII', `${wellFormed.slice(0, 42)}é`],
    ['path traversal', '../../../../etc/passwd/../../../../../../../..'],
  ];
  for (const [label, value] of malformed) {
    it(`anything else is never looked up: ${label}`, () => assert.equal(isWellFormedSessionId(value), false));
  }

  it('are stored under prefix + "session:" + the SHA-256 of the ID, never the ID itself', () => {
    const key = sessionStoreKey('gatehouse:', wellFormed);
    assert.equal(key, `gatehouse:session:${createHash('sha256').update(wellFormed).digest('hex')}`);
    assert.ok(!key.includes(wellFormed));
  });
});

describe('SPEC §8 session data encrypted with session.secret', () => {
  const cipher = new SessionCipher('a long random session secret');
  const aad = 'gatehouse:session:abc';
  const plaintext = JSON.stringify({ username: 'john', groups: ['admins'], note: 'ünïcödé ✓' });
  const sealed = cipher.seal(plaintext, aad);

  it('round-trips, in the versioned compact form, without the plaintext showing', () => {
    assert.equal(cipher.open(sealed, aad), plaintext);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    assert.ok(!sealed.includes('john'));
  });

  it('uses a fresh IV each time', () => {
    assert.notEqual(cipher.seal(plaintext, aad), sealed);
  });

  it('derives the same key from the same secret (another replica opens the blob)', () => {
    assert.equal(new SessionCipher('a long random session secret').open(sealed, aad), plaintext);
  });

  it('does not open under another secret', () => {
    assert.equal(new SessionCipher('another secret').open(sealed, aad), undefined);
  });

  it('does not open under another store key (a blob cannot be moved)', () => {
    assert.equal(cipher.open(sealed, 'gatehouse:session:abd'), undefined);
  });

  const [version = '', iv = '', body = '', tag = ''] = sealed.split('.');
  const flip = (text: string) => {
    const bytes = Buffer.from(text, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    return bytes.toString('base64url');
  };
  const tampered: Array<[string, string]> = [
    ['a flipped ciphertext bit', [version, iv, flip(body), tag].join('.')],
    ['a flipped IV bit', [version, flip(iv), body, tag].join('.')],
    ['a flipped tag bit', [version, iv, body, flip(tag)].join('.')],
    ['a truncated tag', [version, iv, body, tag.slice(0, 11)].join('.')],
    ['a short IV', [version, iv.slice(0, 8), body, tag].join('.')],
    ['an unknown version', ['v2', iv, body, tag].join('.')],
    ['a missing part', [version, iv, body].join('.')],
    ['an extra part', [version, iv, body, tag, tag].join('.')],
    ['foreign characters', [version, iv, `${body}!`, tag].join('.')],
    ['an empty ciphertext', [version, iv, '', tag].join('.')],
    ['plain JSON', plaintext],
    ['the empty string', ''],
  ];
  for (const [label, blob] of tampered) {
    it(`answers undefined, never throws, for ${label}`, () => assert.equal(cipher.open(blob, aad), undefined));
  }

  it('refuses an empty secret', () => {
    assert.throws(() => new SessionCipher(''), /must not be empty/);
  });
});
