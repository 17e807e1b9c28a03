// Rules-engine micro-benchmark: 50 realistic rules, compiled once, evaluated for a handful of typical requests.
// Run: npx tsc -p . && node dist/bench/rules.js
import { compileAccessControl } from '../src/authz/rules.js';
import type { AccessRequest } from '../src/authz/rules-request.js';
import { configSchema, type RawConfig } from '../src/config/schema.js';

type RawRule = NonNullable<NonNullable<RawConfig['access_control']>['rules']>[number];

const apps = [
  'grafana',
  'jellyfin',
  'sonarr',
  'radarr',
  'nextcloud',
  'gitea',
  'vault',
  'paperless',
  'immich',
  'homeassistant',
];
const rules: RawRule[] = [
  { domain: 'auth.example.com', policy: 'bypass' },
  { domain: '*.example.com', methods: 'OPTIONS', policy: 'bypass' },
  {
    domain: '*.example.com',
    resources: ['^/api([/?].*)?$', '^/identity.*$', '^/triggers.*$'],
    networks: 'internal',
    policy: 'bypass',
  },
];
for (const app of apps) {
  rules.push(
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
  );
}
rules.push(
  { domain_regex: '^user-(?P<User>\\w+)\\.example\\.com$', policy: 'one_factor' },
  { domain: '{group}.teams.example.com', policy: 'two_factor' },
  { domain: 'public.example.com', policy: 'bypass' },
  { domain: ['example.com', 'www.example.com'], policy: 'bypass' },
  { domain: 'media.example.com', subject: [['group:family'], ['user:john', 'group:friends']], policy: 'one_factor' },
  { domain: '*.example.com', subject: 'group:admins', policy: 'two_factor' },
  { domain: '*.example.org', networks: '192.168.0.0/16', policy: 'one_factor' },
);
while (rules.length < 50) rules.push({ domain: `filler${rules.length}.example.net`, policy: 'one_factor' });

const config = configSchema.parse({
  access_control: {
    default_policy: 'deny',
    networks: [{ name: 'internal', networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }],
    rules,
  },
});
const access = compileAccessControl(config.access_control, config.definitions);

const john = { username: 'john', groups: ['admins', 'dev'] };
const requests: [label: string, request: AccessRequest][] = [
  ['early match (rule 1)', { url: new URL('https://auth.example.com/'), method: 'GET', ip: '203.0.113.5' }],
  [
    'middle, network rule',
    { url: new URL('https://paperless.example.com/documents?page=2'), method: 'GET', ip: '10.1.2.3', subject: john },
  ],
  [
    'late, subject rule',
    { url: new URL('https://media.example.com/library'), method: 'GET', ip: '203.0.113.5', subject: john },
  ],
  ['late, anonymous sign-in', { url: new URL('https://media.example.com/library'), method: 'GET', ip: '203.0.113.5' }],
  [
    'no rule: default policy',
    { url: new URL('https://unknown.example.net/x'), method: 'POST', ip: '2001:db8::1', subject: john },
  ],
];

const ITERATIONS = 1_000_000;
let total = 0;
console.log(`${access.ruleCount} rules, ${ITERATIONS.toLocaleString('en')} evaluations per request`);
for (const [label, request] of requests) {
  for (let i = 0; i < 100_000; i++) access.evaluate(request); // warm up
  const start = process.hrtime.bigint();
  let rule = 0;
  for (let i = 0; i < ITERATIONS; i++) rule = access.evaluate(request).rule;
  const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
  total += ns;
  console.log(`${label.padEnd(26)} rule ${String(rule).padStart(2)}  ${ns.toFixed(0).padStart(5)} ns/evaluation`);
}
console.log(`${'mean'.padEnd(34)} ${(total / requests.length).toFixed(0).padStart(5)} ns/evaluation`);
