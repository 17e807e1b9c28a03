// The rules engine alone, in this process: nanoseconds per evaluation of the bench's request against the ~50 and
// the ~1,000 rule sets (rule-sets.ts). Steadier than the end-to-end figure, which the load generator's noise
// blurs: together they show whether 1,000 rules cost the hot path anything.
import { compileAccessControl } from '../src/authz/rules.js';
import { configSchema } from '../src/config/schema.js';
import { BENCH_URL, benchRules } from './rule-sets.js';

export interface RulesScaling {
  rules: number;
  nsPerEvaluation: number;
  /** The rule that decided (1-based), to show the request went past every other rule. */
  decidedBy: number;
}

export function measureRuleEvaluation(total: number, iterations = 200_000): RulesScaling {
  const config = configSchema.parse({ access_control: { default_policy: 'deny', rules: benchRules(total) } });
  const access = compileAccessControl(config.access_control, config.definitions);
  const request = {
    url: new URL(BENCH_URL),
    method: 'GET',
    ip: '203.0.113.5',
    subject: { username: 'bench', groups: ['dev'] },
  };
  for (let i = 0; i < iterations / 4; i++) access.evaluate(request); // warm up (JIT)
  const start = process.hrtime.bigint();
  let decidedBy = 0;
  for (let i = 0; i < iterations; i++) decidedBy = access.evaluate(request).rule;
  return {
    rules: access.ruleCount,
    nsPerEvaluation: Number(process.hrtime.bigint() - start) / iterations,
    decidedBy,
  };
}
