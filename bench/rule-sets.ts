// The access rules of the bench's Gatehouse: 50 (a realistic small site) or 1,000 (the scaling case).
// Every request of the bench asks for BENCH_URL, decided by the very last rule, so a Gatehouse that scans the rules
// in order looks at all of them first, and one that indexes the domains does not.

/** The cookie domain: the one the shipped nginx site (deploy/nginx/gatehouse.conf) serves its apps under. */
export const BENCH_DOMAIN = 'nginx.localhost';
/** The portal, on that domain (plain http is allowed for localhost domains). */
export const PORTAL_URL = `http://auth.${BENCH_DOMAIN}`;
/** What every measured request asks for: the shipped site's `app` server, which nginx routes to. */
export const BENCH_HOST = `app.${BENCH_DOMAIN}`;
export const BENCH_URL = `http://${BENCH_HOST}/dashboard?tab=1`;

type Rule = Record<string, unknown>;

/** The 47 rules in front of the deciding ones in the small set: exact, wildcard, regex, network, subject rules. */
function smallSiteRules(): Rule[] {
  const list: Rule[] = [];
  for (let i = 0; i < 20; i++)
    list.push({ domain: `app${i}.${BENCH_DOMAIN}`, policy: i % 2 ? 'one_factor' : 'two_factor' });
  for (let i = 0; i < 10; i++)
    list.push({ domain: `*.team${i}.${BENCH_DOMAIN}`, subject: [[`group:team${i}`]], policy: 'one_factor' });
  for (let i = 0; i < 10; i++)
    list.push({
      domain_regex: `^svc${i}-[a-z]+\\.nginx\\.localhost$`,
      resources: ['^/api([/?].*)?$'],
      methods: ['GET', 'POST'],
      policy: 'one_factor',
    });
  for (let i = 0; i < 7; i++)
    list.push({ domain: `intra${i}.${BENCH_DOMAIN}`, networks: ['10.0.0.0/8', '192.168.0.0/16'], policy: 'bypass' });
  return list;
}

/** An app with an admin area for admins only (denied to everyone else) and the rest for anyone signed in. */
function appRules(host: string): Rule[] {
  return [
    { domain: host, resources: ['^/admin([/?].*)?$'], subject: 'group:admins', policy: 'two_factor' },
    { domain: host, resources: ['^/admin([/?].*)?$'], policy: 'deny' },
    { domain: host, policy: 'one_factor' },
  ];
}

/**
 * What a site with many apps adds: appRules per app (exact domains), and one wildcard domain in ten. No further
 * regexes: an operator with a thousand rules mostly names hosts, and a regex cannot be indexed by anyone.
 */
function manyAppRules(count: number): Rule[] {
  const list: Rule[] = [];
  for (let i = 0; list.length < count; i++) {
    if (i % 10 === 9)
      list.push({ domain: `*.dept${i}.${BENCH_DOMAIN}`, subject: [[`group:dept${i}`]], policy: 'one_factor' });
    else list.push(...appRules(`tool${i}.${BENCH_DOMAIN}`));
  }
  return list.slice(0, count);
}

/** `total` rules (50 or 1,000), BENCH_HOST's last: the very last decides BENCH_URL (the two before ask for /admin). */
export function benchRules(total: number): Rule[] {
  const front = smallSiteRules();
  const deciding = appRules(BENCH_HOST);
  return [...front, ...manyAppRules(Math.max(0, total - front.length - deciding.length)), ...deciding];
}
