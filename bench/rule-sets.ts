// The access rules of the bench's Gatehouse: about 50 (a realistic small site) or about 1,000 (the scaling
// case). Every request of the bench asks for BENCH_URL, decided by the last two rules, so a Gatehouse that scans
// the rules in order looks at all of them first, and one that indexes the domains does not.

/** The cookie domain: the one the shipped nginx site (deploy/nginx/gatehouse.conf) serves its apps under. */
export const BENCH_DOMAIN = 'nginx.localhost';
/** The portal, on that domain (plain http is allowed for localhost domains). */
export const PORTAL_URL = `http://auth.${BENCH_DOMAIN}`;
/** What every measured request asks for: the shipped site's `app` server, which nginx routes to. */
export const BENCH_HOST = `app.${BENCH_DOMAIN}`;
export const BENCH_URL = `http://${BENCH_HOST}/dashboard?tab=1`;

type Rule = Record<string, unknown>;

/** The rules in front of the deciding ones in the ~50 set: exact, wildcard, regex, network and subject rules. */
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
  for (let i = 0; i < 8; i++)
    list.push({ domain: `intra${i}.${BENCH_DOMAIN}`, networks: ['10.0.0.0/8', '192.168.0.0/16'], policy: 'bypass' });
  return list;
}

/**
 * What a site with many apps adds: per app an admin area for admins and the rest for everyone signed in (exact
 * domains), and per team a wildcard domain. No further regexes: an operator with a thousand rules mostly names
 * hosts, and a regex cannot be indexed by anyone.
 */
function manyAppRules(count: number): Rule[] {
  const list: Rule[] = [];
  for (let i = 0; list.length < count; i++) {
    if (i % 20 === 19) {
      list.push({ domain: `*.dept${i}.${BENCH_DOMAIN}`, subject: [[`group:dept${i}`]], policy: 'one_factor' });
      continue;
    }
    list.push({
      domain: `tool${i}.${BENCH_DOMAIN}`,
      resources: ['^/admin([/?].*)?$'],
      subject: 'group:admins',
      policy: 'two_factor',
    });
    if (list.length < count) list.push({ domain: `tool${i}.${BENCH_DOMAIN}`, policy: 'one_factor' });
  }
  return list;
}

/** The two rules that decide BENCH_URL (the first does not match it: wrong path). */
function decidingRules(): Rule[] {
  return [
    { domain: BENCH_HOST, resources: ['^/admin([/?].*)?$'], subject: 'group:admins', policy: 'two_factor' },
    { domain: BENCH_HOST, policy: 'one_factor' },
  ];
}

/** About `total` rules (50 or 1,000), the deciding ones last. */
export function benchRules(total: number): Rule[] {
  const front = smallSiteRules();
  const filler = manyAppRules(Math.max(0, total - front.length - 2));
  return [...front, ...filler, ...decidingRules()];
}
