// Rules-engine micro-benchmark: how evaluation scales from 50 to 1,000 realistic rules (issue 10: 1,000 rules must
// keep at least 95% of the evaluations per second of 50). Both rule sets have the same shape: a few rules for every
// host first, then blocks of rules per app (exact hosts, some per-app wildcards), then a tail with the rules of a
// typical end (a domain_regex, a template, public hosts, subjects). The requests ask about hosts at the start, the
// middle and the end of the list, and about hosts no rule names.
// Run: npx tsc -p . && node dist/bench/rules.js (about 8 s); `npm run bench` can import measureRulesScaling.
import { pathToFileURL } from 'node:url';
import { compileAccessControl, type CompiledAccessControl } from '../src/authz/rules.js';
import type { AccessRequest } from '../src/authz/rules-request.js';
import { configSchema, type RawConfig } from '../src/config/schema.js';

type RawRule = NonNullable<NonNullable<RawConfig['access_control']>['rules']>[number];

const APP_NAMES = ['grafana', 'jellyfin', 'sonarr', 'radarr', 'nextcloud', 'gitea', 'vault', 'paperless', 'immich'];
const appName = (i: number): string => APP_NAMES[i] ?? `app${i}`;

/** The 4 (every third app: 5) rules of one app: an admin area, a share link, the app itself, its subdomains. */
function appRules(app: string, i: number): RawRule[] {
  const rules: RawRule[] = [
    { domain: `${app}.example.com`, resources: '^/admin([/?].*)?$', subject: 'group:admins', policy: 'two_factor' },
    { domain: `${app}.example.com`, resources: '^/admin([/?].*)?$', policy: 'deny' },
    {
      domain: `${app}.example.com`,
      query: [{ operator: 'pattern', key: 'share', value: '^[a-f0-9]{32}$' }],
      methods: ['GET', 'HEAD'],
      policy: 'bypass',
    },
    {
      domain: [`${app}.example.com`, `${app}.example.org`],
      networks: ['internal', '2001:db8::/32'],
      policy: 'one_factor',
    },
  ];
  if (i % 3 === 0) rules.push({ domain: `*.${app}.example.com`, subject: 'group:dev', policy: 'one_factor' });
  return rules;
}

const HEAD: RawRule[] = [
  { domain: 'auth.example.com', policy: 'bypass' },
  { domain: '*.example.com', methods: 'OPTIONS', policy: 'bypass' },
  {
    domain: '*.example.com',
    resources: ['^/api([/?].*)?$', '^/identity.*$', '^/triggers.*$'],
    networks: 'internal',
    policy: 'bypass',
  },
];

const TAIL: RawRule[] = [
  { domain_regex: '^user-(?P<User>\\w+)\\.example\\.com$', policy: 'one_factor' },
  { domain_regex: '^svc-[a-z0-9]+\\.internal\\.example\\.com$', networks: 'internal', policy: 'one_factor' },
  { domain: '{group}.teams.example.com', policy: 'two_factor' },
  { domain: 'public.example.com', policy: 'bypass' },
  { domain: ['example.com', 'www.example.com'], policy: 'bypass' },
  { domain: 'media.example.com', subject: [['group:family'], ['user:john', 'group:friends']], policy: 'one_factor' },
  { domain: '*.example.com', subject: 'group:admins', policy: 'two_factor' },
  { domain: '*.example.org', networks: '192.168.0.0/16', policy: 'one_factor' },
];

/** `count` rules (at least 50): HEAD, app blocks, then TAIL, padded with one-host rules to exactly `count`. */
export function benchRules(count: number): { rules: RawRule[]; apps: number } {
  const middle: RawRule[] = [];
  let apps = 0;
  for (; HEAD.length + middle.length + TAIL.length + 5 <= count; apps++) middle.push(...appRules(appName(apps), apps));
  const rules = [...HEAD, ...middle, ...TAIL];
  while (rules.length < count) rules.push({ domain: `filler${rules.length}.example.net`, policy: 'one_factor' });
  return { rules, apps };
}

function compile(count: number): { access: CompiledAccessControl; apps: number } {
  const { rules, apps } = benchRules(count);
  const config = configSchema.parse({
    access_control: {
      default_policy: 'deny',
      networks: [{ name: 'internal', networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }],
      rules,
    },
  });
  return { access: compileAccessControl(config.access_control, config.definitions), apps };
}

const john = { username: 'john', groups: ['admins', 'dev'] };

/** The requests, by label; the apps they name are in the middle of the list whatever its length. */
function benchRequests(apps: number): [label: string, request: AccessRequest][] {
  // A multiple of 3 has a wildcard rule (appRules).
  const middle = appName(Math.floor(apps / 6) * 3);
  const get = (url: string, ip: string, subject?: typeof john): AccessRequest => ({
    url: new URL(url),
    method: 'GET',
    ip,
    subject,
  });
  return [
    ['first rule', get('https://auth.example.com/', '203.0.113.5')],
    ['middle, network rule', get(`https://${middle}.example.com/documents?page=2`, '10.1.2.3', john)],
    ['middle, app wildcard', get(`https://files.${middle}.example.com/x`, '203.0.113.5', john)],
    ['end, domain_regex', get('https://user-john.example.com/', '203.0.113.5', john)],
    ['end, subject rule', get('https://media.example.com/library', '203.0.113.5', john)],
    ['end, anonymous sign-in', get('https://media.example.com/library', '203.0.113.5')],
    ['no rule: default policy', get('https://unknown.example.net/x', '2001:db8::1', john)],
  ];
}

export interface RulesSizeFigures {
  rules: number;
  /** Evaluations per second over the request mix, each request taken at its best round. */
  evaluationsPerSecond: number;
  /** Nanoseconds per evaluation of each request (best round), by label. */
  perRequestNs: Record<string, number>;
  /** The rule that decides each request (0: default policy), by label. */
  decidedBy: Record<string, number>;
}

export interface RulesScaling {
  sizes: RulesSizeFigures[];
  /** Evaluations per second of the largest rule set / of the smallest (goal: >= 0.95). */
  ratio: number;
}

export interface RulesScalingOptions {
  /** Rule counts, smallest first. */
  counts?: readonly number[];
  /** Evaluations of each request per round. */
  iterations?: number;
  /** Rounds, the sizes taking turns in each; the best round counts (the machine is noisy). */
  rounds?: number;
}

/** Measures evaluations per second at each rule count, the sizes taking turns so that noise hits them alike. */
export function measureRulesScaling(options: RulesScalingOptions = {}): RulesScaling {
  const { counts = [50, 1000], iterations = 50_000, rounds = 5 } = options;
  const sizes = counts.map((count) => {
    const { access, apps } = compile(count);
    const requests = benchRequests(apps);
    const figures: RulesSizeFigures = {
      rules: access.ruleCount,
      evaluationsPerSecond: 0,
      perRequestNs: Object.fromEntries(requests.map(([label]) => [label, Number.POSITIVE_INFINITY])),
      decidedBy: Object.fromEntries(requests.map(([label, request]) => [label, access.evaluate(request).rule])),
    };
    for (const [, request] of requests) for (let i = 0; i < 20_000; i++) access.evaluate(request); // warm up
    return { access, requests, figures };
  });
  for (let round = 0; round < rounds; round++) {
    for (const { access, requests, figures } of sizes) {
      for (const [label, request] of requests) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) access.evaluate(request);
        const ns = Number(process.hrtime.bigint() - start) / iterations;
        figures.perRequestNs[label] = Math.min(figures.perRequestNs[label]!, ns);
      }
    }
  }
  // From each request's best round: steadier than the best whole round when other work shares the cores.
  for (const { figures } of sizes) {
    const ns = Object.values(figures.perRequestNs);
    figures.evaluationsPerSecond = (1e9 * ns.length) / ns.reduce((sum, each) => sum + each, 0);
  }
  const result = sizes.map(({ figures }) => figures);
  return { sizes: result, ratio: result.at(-1)!.evaluationsPerSecond / result[0]!.evaluationsPerSecond };
}

/** The figures as a small table (lines), for this script and for the combined table of `npm run bench`. */
export function formatRulesScaling(scaling: RulesScaling): string[] {
  const labels = Object.keys(scaling.sizes[0]!.perRequestNs);
  const cell = (text: string) => text.padStart(18);
  const lines = [`${'rules'.padEnd(26)}${scaling.sizes.map((size) => cell(String(size.rules))).join('')}`];
  for (const label of labels) {
    const cells = scaling.sizes.map((size) =>
      cell(`${size.perRequestNs[label]!.toFixed(0)} ns (#${size.decidedBy[label]})`),
    );
    lines.push(`${label.padEnd(26)}${cells.join('')}`);
  }
  const rates = scaling.sizes.map((size) => cell(`${(size.evaluationsPerSecond / 1e6).toFixed(2)} M/s`));
  lines.push(`${'evaluations per second'.padEnd(26)}${rates.join('')}`);
  const verdict = scaling.ratio >= 0.95 ? 'goal met' : 'goal NOT met';
  lines.push(`${'ratio (goal >= 0.95)'.padEnd(26)}${cell(scaling.ratio.toFixed(3))}  ${verdict}`);
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.env.BENCH_RULES_ROUNDS ?? 5);
  console.log(`rules engine, ns per evaluation (deciding rule), best of ${rounds} rounds`);
  for (const line of formatRulesScaling(measureRulesScaling({ rounds }))) console.log(line);
}
