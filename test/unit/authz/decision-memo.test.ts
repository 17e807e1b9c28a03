// Issue 10: the rules' decisions remembered by target, client address and user record. A remembered decision must be
// exactly what the rules decide for that request, for every combination; a different address, user, group list or
// target must never be answered with another's decision.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { DecisionMemo } from '../../../src/authz/decision-memo.js';
import { readTargetMemoised } from '../../../src/authz/flavours.js';
import { compileAccessControl } from '../../../src/authz/rules.js';
import { TargetMemo } from '../../../src/authz/target-memo.js';
import type { Target } from '../../../src/authz/target.js';
import { configSchema } from '../../../src/config/schema.js';

const access = compileAccessControl(
  configSchema.parse({
    access_control: {
      default_policy: 'deny',
      networks: [{ name: 'internal', networks: ['10.0.0.0/8'] }],
      rules: [
        { domain: 'public.example.com', policy: 'bypass' },
        { domain: 'app.example.com', networks: ['internal'], policy: 'bypass' },
        { domain: 'app.example.com', resources: ['^/admin([/?].*)?$'], subject: 'group:admins', policy: 'two_factor' },
        { domain: 'app.example.com', resources: ['^/admin([/?].*)?$'], policy: 'deny' },
        { domain: 'app.example.com', methods: ['POST'], subject: 'user:john', policy: 'two_factor' },
        { domain: '{user}.home.example.com', policy: 'one_factor' },
        { domain: 'app.example.com', policy: 'one_factor' },
      ],
    },
  }).access_control,
);

const URLS = [
  'https://public.example.com/',
  'https://app.example.com/',
  'https://app.example.com/admin',
  'https://app.example.com/admin?x=1',
  'https://john.home.example.com/',
  'https://harry.home.example.com/',
  'https://other.example.com/',
];
const METHODS = ['GET', 'POST'];
const ADDRESSES = [undefined, '10.1.2.3', '203.0.113.5'];
const frozenUser = (username: string, groups: string[]) =>
  Object.freeze({ username, groups: Object.freeze(groups) as string[] });
const USERS = [undefined, frozenUser('john', ['admins']), frozenUser('harry', []), frozenUser('john', [])];

function target(memo: TargetMemo, url: string, method: string): Target {
  const read = readTargetMemoised(memo, 'auth-request', { 'x-original-url': url, 'x-original-method': method }, 'GET');
  assert.ok('target' in read, url);
  return read.target;
}

const fresh = (t: Target, ip: string | undefined, subject: (typeof USERS)[number]) =>
  access.evaluate({ url: t.url, resource: t.resource, method: t.method, ip, subject });

describe('DecisionMemo', () => {
  it('answers every combination with what the rules decide, remembered or not', () => {
    const targets = new TargetMemo();
    const memo = new DecisionMemo();
    let remembered = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const url of URLS)
        for (const method of METHODS)
          for (const ip of ADDRESSES)
            for (const user of USERS) {
              const t = target(targets, url, method);
              const expected = fresh(t, ip, user);
              const known = memo.get(t, ip, user);
              if (pass === 0) {
                assert.equal(known, undefined, 'nothing is known before it is remembered');
                memo.remember(t, ip, user, expected);
              } else {
                assert.deepEqual(known, expected, `${method} ${url} ${ip} ${user?.username}/${user?.groups}`);
                remembered++;
              }
            }
    }
    assert.equal(remembered, URLS.length * METHODS.length * ADDRESSES.length * USERS.length);
  });

  it('remembers only frozen user records, and never for another record', () => {
    const targets = new TargetMemo();
    const memo = new DecisionMemo();
    const t = target(targets, 'https://app.example.com/admin', 'GET');
    const user = { username: 'john', groups: ['admins'] };
    memo.remember(t, undefined, user, fresh(t, undefined, user));
    assert.equal(memo.get(t, undefined, user), undefined, 'a record that is not frozen is not remembered');
    const frozenGroups = { username: 'john', groups: Object.freeze(['admins']) as string[] };
    Object.freeze(frozenGroups);
    memo.remember(t, undefined, frozenGroups, fresh(t, undefined, frozenGroups));
    assert.ok(memo.get(t, undefined, frozenGroups));
    const sameObjectOtherGroups = Object.freeze({ ...frozenGroups, groups: [] });
    assert.equal(memo.get(t, undefined, sameObjectOtherGroups), undefined);
  });

  it('tells a target read from other texts apart, even with an equal URL', () => {
    const memo = new DecisionMemo();
    const a = target(new TargetMemo(), 'https://app.example.com/', 'GET');
    const b = target(new TargetMemo(), 'https://app.example.com/', 'GET');
    memo.remember(a, undefined, undefined, fresh(a, undefined, undefined));
    assert.equal(memo.get(b, undefined, undefined), undefined);
  });

  it('holds at most its bound, then starts afresh', () => {
    const targets = new TargetMemo();
    const memo = new DecisionMemo(4);
    const t = target(targets, 'https://app.example.com/', 'GET');
    const ips = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'];
    for (const ip of ips) memo.remember(t, ip, undefined, fresh(t, ip, undefined));
    for (const ip of ips) assert.ok(memo.get(t, ip, undefined));
    memo.remember(t, '203.0.113.9', undefined, fresh(t, '203.0.113.9', undefined));
    assert.equal(memo.get(t, ips[0], undefined), undefined);
    assert.ok(memo.get(t, '203.0.113.9', undefined));
  });
});
