import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { parseGoQuery } from '../../../src/authz/go-query.js';

const read = (search: string) => Object.fromEntries(parseGoQuery(search));

// What Go's url.ParseQuery gives for each query string (the values Authelia's query conditions see).
describe("parseGoQuery: a query string read as Go's url.ParseQuery reads it", () => {
  const cases: [search: string, expected: Record<string, string[]>, why: string][] = [
    ['', {}, 'no query'],
    ['?', {}, 'an empty query'],
    ['?a=1&b=2', { a: ['1'], b: ['2'] }, 'pairs split on &'],
    ['a=1', { a: ['1'] }, 'without the leading ?'],
    ['?a=1&a=2', { a: ['1', '2'] }, 'repeated keys keep their order'],
    ['?flag', { flag: [''] }, "a key without '=' has the value ''"],
    ['?flag=', { flag: [''] }, "a key with '=' and nothing after"],
    ['?=v', { '': ['v'] }, 'an empty key'],
    ['?a=1&&b=2&', { a: ['1'], b: ['2'] }, 'empty pairs are skipped'],
    ['?a=1=2', { a: ['1=2'] }, "the value runs past a second '='"],
    ['?q=a+b', { q: ['a b'] }, "'+' is a space"],
    ['?q=a%2Bb', { q: ['a+b'] }, "'%2B' is a plus"],
    ['?%61=%62', { a: ['b'] }, 'keys and values are percent-decoded'],
    ['?q=%C3%A9', { q: ['é'] }, 'UTF-8 is decoded'],
    ['?q=%E9', { q: ['\ufffd'] }, 'bytes that are not UTF-8 decode to U+FFFD'],
    ['?a=1;b=2&c=3', { c: ['3'] }, "a pair holding ';' is dropped (Go refuses ';' as a separator)"],
    ['?a=%zz&b=2', { b: ['2'] }, 'a pair with a malformed escape is dropped'],
    ['?a=%4&b=2', { b: ['2'] }, 'a truncated escape'],
    ['?a=1%&b=2', { b: ['2'] }, "a lone '%'"],
    ['?%zz=1&b=2', { b: ['2'] }, 'a malformed escape in the key'],
    ['?q=é', { q: ['é'] }, 'raw non-ASCII text (a caller that did not encode it)'],
  ];
  for (const [search, expected, why] of cases) {
    it(`${why}: ${JSON.stringify(search)}`, () => assert.deepEqual(read(search), expected));
  }
});
