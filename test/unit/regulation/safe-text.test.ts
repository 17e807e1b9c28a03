// Issue 7: text from a request is escaped and bounded before it is stored or used as a regulation subject, so a
// NUL byte or a megabyte cannot turn an attempt into a storage error (no delay, no log, no count).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { hasUnsafeCharacters, MAX_LOGGED_LENGTH, safeText } from '../../../src/text/safe-text.js';

describe('safe text for the authentication log', () => {
  const cases: Array<[string, string]> = [
    ['john', 'john'],
    ['Jöhn Doe 🔑', 'Jöhn Doe 🔑'],
    ['DOMAIN\\john', 'DOMAIN\\john'],
    ['john\u0000', 'john\\x00'],
    ['a\r\nforged: yes', 'a\\x0d\\x0aforged: yes'],
    ['\u001b[2J\u007f\u0085', '\\x1b[2J\\x7f\\x85'],
    ['x\u2028y\u2029', 'x\\u2028y\\u2029'],
    ['lone \ud800 high', 'lone \\ud800 high'],
    ['lone \udfff low', 'lone \\udfff low'],
  ];
  for (const [input, output] of cases) {
    it(`${JSON.stringify(input)} is stored as ${JSON.stringify(output)}`, () => {
      assert.equal(safeText(input), output);
      assert.equal(hasUnsafeCharacters(input), input !== output);
      assert.equal(hasUnsafeCharacters(safeText(input)), false);
    });
  }

  it('cuts long text to the bound, never between the halves of a surrogate pair', () => {
    assert.equal(safeText('x'.repeat(1_000_000)).length, MAX_LOGGED_LENGTH);
    const cut = safeText(`${'x'.repeat(9)}🔑`, 10);
    assert.equal(cut, 'x'.repeat(9));
    assert.equal(hasUnsafeCharacters(cut), false);
  });
});
