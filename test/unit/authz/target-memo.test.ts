// Issue 10: parsed targets remembered by the header texts they were read from. The memo is only right while each
// flavour's row lists every header its readers look at, so that list is checked against what they actually read.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { FLAVOURS, readTarget, readTargetMemoised } from '../../../src/authz/flavours.js';
import { TARGET_MEMO_MAX_KEY, TargetMemo } from '../../../src/authz/target-memo.js';
import type { AuthzFlavour } from '../../../src/config/authz-endpoints.js';

const FLAVOUR_NAMES = Object.keys(FLAVOURS) as AuthzFlavour[];

/** Header sets that take each reader down its different branches (good, partial, conflicting, malformed). */
const HEADER_SETS: IncomingHttpHeaders[] = [
  {},
  { 'x-original-url': 'https://app.example.com/a?b=1', 'x-original-method': 'GET' },
  { 'x-original-url': 'https://app.example.com/a', 'x-forwarded-method': 'POST' },
  {
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'app.example.com',
    'x-forwarded-uri': '/a?b=1',
    'x-forwarded-method': 'GET',
  },
  { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com' },
  {
    'x-original-url': 'https://app.example.com/a',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'app.example.com',
    'x-forwarded-uri': '/b',
    'x-forwarded-method': 'GET',
    'x-original-method': 'GET',
  },
  { 'x-original-url': 'https://app.example.com/a', 'x-forwarded-host': 'other.example.com' },
  { 'x-original-url': 'not a url', 'x-original-method': 'get' },
];

/** The headers object, recording every name read from it (by property access or `in`). */
function recording(headers: IncomingHttpHeaders): { headers: IncomingHttpHeaders; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(headers, {
    get(target, name, receiver) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name, receiver);
    },
    has(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.has(target, name);
    },
    ownKeys(target) {
      read.add('*');
      return Reflect.ownKeys(target);
    },
  });
  return { headers: proxy, read };
}

describe('flavour rows list every header their target readers read', () => {
  for (const flavour of FLAVOUR_NAMES) {
    it(flavour, () => {
      const listed = new Set(FLAVOURS[flavour].targetHeaders);
      for (const set of HEADER_SETS) {
        for (const method of ['GET', 'POST']) {
          const { headers, read } = recording(set);
          readTarget(flavour, headers, method);
          for (const name of read) assert.ok(listed.has(name), `${flavour} reads ${name}, not in its targetHeaders`);
        }
      }
    });
  }
});

describe('TargetMemo', () => {
  const headers = { 'x-original-url': 'https://app.example.com/a?b=1', 'x-original-method': 'GET' };

  it('answers the same texts with the same frozen target, equal to a fresh read', () => {
    const memo = new TargetMemo();
    const first = readTargetMemoised(memo, 'auth-request', { ...headers }, 'GET');
    const second = readTargetMemoised(memo, 'auth-request', { ...headers, cookie: 'a=b' }, 'GET');
    assert.ok('target' in first && 'target' in second);
    assert.equal(second.target, first.target);
    assert.ok(Object.isFrozen(first.target));
    const fresh = readTarget('auth-request', headers, 'GET');
    assert.ok('target' in fresh);
    assert.deepEqual({ ...first.target, url: first.target.url.href }, { ...fresh.target, url: fresh.target.url.href });
    assert.equal(memo.size, 1);
  });

  it('tells apart any change of a read header, and of the request method', () => {
    const memo = new TargetMemo();
    const a = readTargetMemoised(memo, 'auth-request', headers, 'GET');
    const b = readTargetMemoised(memo, 'auth-request', { ...headers, 'x-original-method': 'POST' }, 'GET');
    const c = readTargetMemoised(
      memo,
      'auth-request',
      { ...headers, 'x-original-url': 'https://app.example.com/a' },
      'GET',
    );
    const d = readTargetMemoised(memo, 'verify', { 'x-original-url': headers['x-original-url'] }, 'GET');
    const e = readTargetMemoised(memo, 'verify', { 'x-original-url': headers['x-original-url'] }, 'PUT');
    for (const r of [a, b, c, d, e]) assert.ok('target' in r);
    assert.equal(memo.size, 5);
    assert.ok('target' in b && 'target' in d && 'target' in e);
    assert.equal(b.target.method, 'POST');
    assert.equal(d.target.method, 'GET');
    assert.equal(e.target.method, 'PUT');
  });

  it('makes keys no two sets of texts share, whatever the texts contain', () => {
    const names = ['x-a', 'x-b'];
    const keys = [
      TargetMemo.keyOf('f', names, { 'x-a': 'p|1:q' }, 'GET'),
      TargetMemo.keyOf('f', names, { 'x-a': 'p', 'x-b': 'q' }, 'GET'),
      TargetMemo.keyOf('f', names, { 'x-a': 'p|-' }, 'GET'),
      TargetMemo.keyOf('f', names, { 'x-a': 'p' }, 'GET'),
      TargetMemo.keyOf('f', names, { 'x-a': '' }, 'GET'),
      TargetMemo.keyOf('f', names, {}, 'GET'),
      TargetMemo.keyOf('f', names, { 'x-b': '' }, 'GET'),
    ];
    keys.push(TargetMemo.keyOf('g', names, { 'x-a': 'p' }, 'GET'));
    assert.equal(new Set(keys).size, keys.length, 'and the flavour is part of the key');
    assert.equal(TargetMemo.keyOf('f', names, { 'x-a': ['1', '2'] }, 'GET'), undefined);
  });

  it('reads long texts afresh every time, never holding them', () => {
    const memo = new TargetMemo();
    const long = {
      'x-original-url': `https://app.example.com/${'a'.repeat(TARGET_MEMO_MAX_KEY)}`,
      'x-original-method': 'GET',
    };
    const first = readTargetMemoised(memo, 'auth-request', long, 'GET');
    const second = readTargetMemoised(memo, 'auth-request', long, 'GET');
    assert.ok('target' in first && 'target' in second);
    assert.notEqual(second.target, first.target);
    assert.equal(first.target.url.href, long['x-original-url']);
    assert.equal(memo.size, 0);
  });

  it('never remembers a refusal', () => {
    const memo = new TargetMemo();
    const bad = { 'x-original-url': 'https://app.example.com/a#frag', 'x-original-method': 'GET' };
    assert.ok('error' in readTargetMemoised(memo, 'auth-request', bad, 'GET'));
    assert.ok('error' in readTargetMemoised(memo, 'auth-request', bad, 'GET'));
    assert.equal(memo.size, 0);
  });

  it('holds at most its bound, the oldest read going first', () => {
    const memo = new TargetMemo(3);
    const ask = (path: string) =>
      readTargetMemoised(
        memo,
        'auth-request',
        { ...headers, 'x-original-url': `https://app.example.com/${path}` },
        'GET',
      );
    const first = ask('1');
    ask('2');
    ask('3');
    ask('4');
    assert.equal(memo.size, 3);
    const again = ask('1');
    assert.ok('target' in first && 'target' in again);
    assert.notEqual(again.target, first.target, 'the oldest entry was dropped and read again');
    assert.equal(memo.size, 3);
  });
});
