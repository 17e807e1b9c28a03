// Issue 10 §4: `npm run bench` is not run by CI (it prints figures), so what it builds on is checked here: the
// shipped nginx site it runs still has the text it replaces, its rule sets are valid and decided by their last rule,
// and a goal is marked met, not met, or n/a as its figures say.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { compileAccessControl } from '../../../src/authz/rules.js';
import { configSchema } from '../../../src/config/schema.js';
import { packageRoot } from '../../../src/paths.js';
import { benchNginxSite } from '../../../bench/nginx.js';
import { ratioGoal } from '../../../bench/report.js';
import { BENCH_HOST, BENCH_URL, benchRules } from '../../../bench/rule-sets.js';

describe('the bench runs the shipped nginx site', () => {
  const site = benchNginxSite(18080, 19091, 18081);

  it('points upstream gatehouse at the measured server and includes the shipped snippets', () => {
    assert.match(site, /upstream gatehouse \{\s*server 127\.0\.0\.1:19091;/);
    assert.match(site, /listen 127\.0\.0\.1:18080;/);
    assert.ok(site.includes(`include ${packageRoot}/nginx/gatehouse-authrequest.conf;`));
    assert.ok(site.includes(`server_name ${BENCH_HOST};`), 'the bench asks for a host the shipped site serves');
    assert.doesNotMatch(site, /gatehouse:9091|app:80|listen 80/);
  });
});

describe('the bench rule sets', () => {
  for (const total of [50, 1000]) {
    it(`${total} rules are valid and the bench request is decided by the last`, () => {
      const config = configSchema.parse({ access_control: { default_policy: 'deny', rules: benchRules(total) } });
      const access = compileAccessControl(config.access_control, config.definitions);
      assert.equal(access.ruleCount, total);
      const subject = { username: 'bench', groups: ['dev'] };
      const decision = access.evaluate({ url: new URL(BENCH_URL), method: 'GET', ip: '203.0.113.5', subject });
      assert.deepEqual([decision.rule, decision.policy], [total, 'one_factor']);
    });
  }
});

describe('the bench goals', () => {
  it('are met, not met, or n/a when a figure is missing', () => {
    assert.equal(ratioGoal('cpu', 1.2, 1.3, true, 'x').met, true);
    assert.equal(ratioGoal('cpu', 1.4, 1.3, true, 'x').met, false);
    assert.equal(ratioGoal('rps', 0.9, 0.85, false, '%').value, '90.0%');
    assert.equal(ratioGoal('rps', 0.8, 0.85, false, '%').met, false);
    const missing = ratioGoal('rps', undefined, 0.85, false, '%');
    assert.deepEqual([missing.value, missing.met], [undefined, undefined]);
  });
});
