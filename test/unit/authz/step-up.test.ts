// Step-up (issue 11 item 2): a rule's max_auth_age, from the configuration to the rules' decision and check-policy.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { explainAccess } from '../../../src/authz/explain.js';
import { compileAccessControl, secondFactorTooOld } from '../../../src/authz/rules.js';
import type { AccessRequest } from '../../../src/authz/rules-request.js';
import { accessControlProblems } from '../../../src/config/access-control-syntax.js';
import { ConfigError } from '../../../src/config/problems.js';
import { configSchema, type RawConfig } from '../../../src/config/schema.js';

type RawAccessControl = NonNullable<RawConfig['access_control']>;

const parse = (raw: RawAccessControl) => configSchema.parse({ access_control: raw }).access_control;
const problemsOf = (raw: RawAccessControl) => accessControlProblems(parse(raw));

const request = (url: string, user?: string): AccessRequest => ({
  url: new URL(url),
  method: 'GET',
  ip: '10.0.0.1',
  subject: user === undefined ? undefined : { username: user, groups: ['admins'] },
});

const RULES: RawAccessControl = {
  default_policy: 'deny',
  rules: [
    { domain: 'vault.example.com', policy: 'two_factor', max_auth_age: '10m' },
    { domain: 'admin.example.com', subject: 'group:admins', policy: 'two_factor', max_auth_age: '1h30m' },
    { domain: 'secure.example.com', policy: 'two_factor' },
    { domain: 'app.example.com', policy: 'one_factor' },
  ],
};

describe('max_auth_age in the configuration', () => {
  it('is read as an Authelia duration, in seconds, or as a number of seconds', () => {
    const rules = parse({
      rules: [
        { domain: 'a.example.com', policy: 'two_factor', max_auth_age: '10m' },
        { domain: 'b.example.com', policy: 'two_factor', max_auth_age: '1h30m' },
        { domain: 'c.example.com', policy: 'two_factor', max_auth_age: 90 },
        { domain: 'd.example.com', policy: 'two_factor' },
      ],
    }).rules;
    assert.deepEqual(
      rules.map((rule) => rule.max_auth_age),
      [600, 5400, 90, undefined],
    );
  });

  it('refuses what is not a duration, with the key path', () => {
    const parsed = configSchema.safeParse({
      access_control: { rules: [{ domain: 'a.example.com', policy: 'two_factor', max_auth_age: 'soon' }] },
    });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error!.issues[0]!.path, ['access_control', 'rules', 0, 'max_auth_age']);
  });

  it('is valid on a two_factor rule', () => {
    assert.deepEqual(problemsOf(RULES), []);
  });

  for (const policy of ['bypass', 'one_factor', 'deny'] as const) {
    it(`is refused on a '${policy}' rule, naming the key and saying why`, () => {
      const problems = problemsOf({ rules: [{ domain: 'a.example.com', policy, max_auth_age: '5m' }] });
      assert.equal(problems.length, 1);
      assert.equal(problems[0]!.path, 'access_control.rules[0].max_auth_age');
      assert.match(problems[0]!.message, /only applies to 'two_factor' rules/);
      assert.match(problems[0]!.message, new RegExp(`'${policy}'`));
    });
  }

  it('is refused when zero or negative', () => {
    for (const value of ['0s', '-5m', 0]) {
      const problems = problemsOf({ rules: [{ domain: 'a.example.com', policy: 'two_factor', max_auth_age: value }] });
      assert.deepEqual(
        problems.map((p) => [p.path, p.message]),
        [['access_control.rules[0].max_auth_age', 'must be longer than 0 (like 10m)']],
      );
    }
  });

  it('stops compiling: the rules engine never starts with a misplaced max age', () => {
    assert.throws(
      () =>
        compileAccessControl(parse({ rules: [{ domain: 'a.example.com', policy: 'one_factor', max_auth_age: 60 }] })),
      (error: unknown) => error instanceof ConfigError && /max_auth_age/.test(error.message),
    );
  });
});

describe('the rules decision carries the matched rule max age', () => {
  const access = compileAccessControl(parse(RULES));

  it('a rule with max_auth_age gives it, in seconds', () => {
    const decision = access.evaluate(request('https://vault.example.com/', 'john'));
    assert.deepEqual(decision, { policy: 'two_factor', rule: 1, subjectRequired: false, maxAuthAge: 600 });
  });

  it('a rule without it and the default policy give none (the decision is as before)', () => {
    assert.deepEqual(access.evaluate(request('https://secure.example.com/', 'john')), {
      policy: 'two_factor',
      rule: 3,
      subjectRequired: false,
    });
    assert.deepEqual(access.evaluate(request('https://other.example.com/', 'john')), {
      policy: 'deny',
      rule: 0,
      subjectRequired: false,
    });
  });

  it('an anonymous request sent to sign in first still learns the max age', () => {
    const decision = access.evaluate(request('https://admin.example.com/'));
    assert.equal(decision.subjectRequired, true);
    assert.equal(decision.maxAuthAge, 5400);
  });

  it('the same decision object is handed out each time (nothing allocated per request)', () => {
    assert.equal(
      access.evaluate(request('https://vault.example.com/a', 'john')),
      access.evaluate(request('https://vault.example.com/b', 'harry')),
    );
  });
});

describe('secondFactorTooOld', () => {
  const now = 1_700_000_000_000;
  const tenMinutes = { maxAuthAge: 600 };

  it('never without a max age', () => {
    assert.equal(secondFactorTooOld({}, undefined, now), false);
    assert.equal(secondFactorTooOld({}, 0, now), false);
  });

  it('a key used within the max age is fresh, to the millisecond', () => {
    assert.equal(secondFactorTooOld(tenMinutes, now, now), false);
    assert.equal(secondFactorTooOld(tenMinutes, now - 600_000, now), false);
  });

  it('a key used longer ago is too old', () => {
    assert.equal(secondFactorTooOld(tenMinutes, now - 600_001, now), true);
    assert.equal(secondFactorTooOld(tenMinutes, 0, now), true);
  });

  it('a session with no recorded key use is too old (fail closed)', () => {
    assert.equal(secondFactorTooOld(tenMinutes, undefined, now), true);
  });
});

describe('check-policy shows the max age', () => {
  const config = configSchema.parse({ access_control: RULES });

  it('of the deciding rule, as a duration', () => {
    const output = explainAccess(config, request('https://vault.example.com/', 'john'));
    assert.match(output, /The policy 'two_factor' from rule #1 will be applied to this request\.\nMax auth age: 10m /);
    assert.match(output, /\(max_auth_age\): a security key used longer ago than that is asked for again/);
  });

  it('when the rule is only decided after sign-in too', () => {
    assert.match(explainAccess(config, request('https://admin.example.com/')), /Max auth age: 1h30m /);
  });

  it('says nothing of it for a rule without one', () => {
    assert.doesNotMatch(explainAccess(config, request('https://secure.example.com/', 'john')), /Max auth age/);
  });
});
