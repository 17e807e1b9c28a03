// Rules the schema cannot express because they span several keys (SPEC §3). Every check adds to one
// list, so the operator sees all problems at once.
import type { Config, CookieConfig } from './schema.js';
import { hostIsWithin, isLocalhostDomain } from './cookies.js';
import { joinKeyPath, type ConfigProblem } from './problems.js';
import { accessControlProblems } from './access-control-syntax.js';
import { shadowedRuleWarnings } from './shadowed-rules.js';

export interface SemanticFindings {
  problems: ConfigProblem[];
  warnings: string[];
}

const MIN_SECRET_LENGTH = 32;
const WEBAUTHN_TIMEOUT_SECONDS = { min: 10, max: 600 };

type Check = (config: Config, findings: SemanticFindings) => void;

export function validateSemantics(config: Config): SemanticFindings {
  const findings: SemanticFindings = { problems: [], warnings: [] };
  for (const check of CHECKS) check(config, findings);
  return findings;
}

const problem = (findings: SemanticFindings, path: string, message: string): void => {
  findings.problems.push({ path, message });
};

// ---- session cookies ----

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `domain` cannot be a cookie domain, or undefined when it can. */
export function cookieDomainProblem(domain: string): string | undefined {
  if (domain.includes('://')) return 'must be a bare domain name, without a scheme (example.com)';
  if (domain.startsWith('.')) return 'must not start with a dot; the cookie covers every subdomain already';
  if (domain.includes('*')) return 'must not contain a wildcard; the cookie covers every subdomain already';
  if (domain !== domain.toLowerCase()) return 'must be lower case';
  if (domain.length > 253 || !domain.split('.').every((label) => HOST_LABEL.test(label))) {
    return 'must be a host name: letters, digits and hyphens, in labels separated by dots';
  }
  if (/^[0-9]+$/.test(domain.slice(domain.lastIndexOf('.') + 1))) return 'must be a host name, not an IP address';
  if (!domain.includes('.') && !isLocalhostDomain(domain))
    return 'must contain a dot (only localhost may go without one)';
  return undefined;
}

/** https everywhere; plain http only for localhost domains, for trying Gatehouse out (SPEC §4). */
function schemeProblem(url: URL, domain: string): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLocalhostDomain(domain)) return undefined;
  return 'must use https (http is allowed only for localhost cookie domains)';
}

function urlProblem(url: URL, domain: string): string | undefined {
  if (!hostIsWithin(url.hostname, domain)) return `host '${url.hostname}' must be '${domain}' or a subdomain of it`;
  return schemeProblem(url, domain);
}

const checkCookies: Check = (config, findings) => {
  const cookies = config.session.cookies;
  if (cookies.length === 0) {
    problem(findings, 'session.cookies', 'must have at least one entry (one per protected root domain)');
    return;
  }
  const seen = new Map<string, number>();
  cookies.forEach((cookie, index) => {
    const at = joinKeyPath('session.cookies', index);
    const domainIssue = cookieDomainProblem(cookie.domain);
    if (domainIssue) problem(findings, `${at}.domain`, domainIssue);
    const first = seen.get(cookie.domain);
    if (first === undefined) seen.set(cookie.domain, index);
    else problem(findings, `${at}.domain`, `duplicates session.cookies[${first}].domain '${cookie.domain}'`);
    checkCookieUrls(cookie, at, domainIssue === undefined, config, findings);
  });
  checkNestedCookies(config, findings);
};

/**
 * A browser sends a parent domain's cookie to every host under a nested one: with the same cookie name, the nested
 * domain would see the parent's session as "made for another cookie domain" and destroy it (SPEC §4), signing the
 * user out everywhere. Nested domains need distinct cookie names.
 */
function checkNestedCookies(config: Config, findings: SemanticFindings): void {
  const cookies = config.session.cookies;
  cookies.forEach((inner, i) => {
    cookies.forEach((outer, j) => {
      if (i === j || inner.domain === outer.domain || !hostIsWithin(inner.domain, outer.domain)) return;
      if ((inner.name ?? config.session.name) !== (outer.name ?? config.session.name)) return;
      problem(
        findings,
        `${joinKeyPath('session.cookies', i)}.domain`,
        `'${inner.domain}' lies within session.cookies[${j}].domain '${outer.domain}' and uses the same cookie name: give one of them another name`,
      );
    });
  });
}

function checkCookieUrls(
  cookie: CookieConfig,
  at: string,
  domainValid: boolean,
  config: Config,
  findings: SemanticFindings,
): void {
  if (cookie.authelia_url && cookie.portal_url) {
    problem(findings, at, 'set authelia_url or its alias portal_url, not both');
    return;
  }
  const portalKey = cookie.portal_url ? 'portal_url' : 'authelia_url';
  const portal = cookie.authelia_url ?? cookie.portal_url;
  if (!portal) {
    problem(findings, `${at}.authelia_url`, 'is required: the portal URL for this cookie domain (alias: portal_url)');
    return;
  }
  // With a broken domain every URL comparison would only repeat that one mistake.
  if (!domainValid) return;
  const portalIssue = urlProblem(portal, cookie.domain);
  if (portalIssue) problem(findings, `${at}.${portalKey}`, portalIssue);
  const redirect = cookie.default_redirection_url;
  if (redirect) {
    const redirectIssue =
      urlProblem(redirect, cookie.domain) ??
      (redirect.href === portal.href ? `must not be the portal URL (${portalKey})` : undefined);
    if (redirectIssue) problem(findings, `${at}.default_redirection_url`, redirectIssue);
  }
  // Browsers drop SameSite=None cookies that are not Secure, so sign-in would silently never stick.
  if ((cookie.same_site ?? config.session.same_site) === 'none' && portal.protocol !== 'https:') {
    problem(
      findings,
      cookie.same_site ? `${at}.same_site` : 'session.same_site',
      "'none' needs an https portal: browsers drop SameSite=None cookies that are not Secure",
    );
  }
}

// ---- durations ----

const positive = (seconds: number) => (seconds > 0 ? undefined : 'must be greater than 0');
const rememberMe = (seconds: number) =>
  seconds === -1 || seconds > 0 ? undefined : 'must be -1 (disabled) or greater than 0';

const checkDurations: Check = (config, findings) => {
  const { session, identity_validation: identity } = config;
  const cases: [string, number | undefined, (seconds: number) => string | undefined][] = [
    ['session.expiration', session.expiration, positive],
    ['session.inactivity', session.inactivity, positive],
    ['session.remember_me', session.remember_me, rememberMe],
    ['identity_validation.token_lifetime', identity.token_lifetime, positive],
    ['identity_validation.elevation_lifetime', identity.elevation_lifetime, positive],
    ...session.cookies.flatMap(
      (cookie, index): [string, number | undefined, (seconds: number) => string | undefined][] => {
        const at = joinKeyPath('session.cookies', index);
        return [
          [`${at}.expiration`, cookie.expiration, positive],
          [`${at}.inactivity`, cookie.inactivity, positive],
          [`${at}.remember_me`, cookie.remember_me, rememberMe],
        ];
      },
    ),
  ];
  for (const [path, seconds, rule] of cases) {
    const issue = seconds === undefined ? undefined : rule(seconds);
    if (issue) problem(findings, path, issue);
  }
};

// ---- secrets ----

const checkSecrets: Check = (config, findings) => {
  const secrets: [string, string | undefined][] = [
    ['session.secret', config.session.secret],
    ['identity_validation.jwt_secret', config.identity_validation.jwt_secret],
  ];
  for (const [path, value] of secrets) {
    // Replicas behind Redis must share the secret; a random one per process would split them.
    if (value === undefined && config.session.redis)
      problem(findings, path, 'is required when session.redis is set: every replica must share it');
    if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
      findings.warnings.push(`${path} is shorter than ${MIN_SECRET_LENGTH} characters; use a long random value`);
    }
  }
};

// ---- notifier, regulation, webauthn, telemetry, storage ----

const checkNotifier: Check = (config, findings) => {
  if (config.notifier.filesystem && config.notifier.smtp)
    problem(findings, 'notifier', 'configure one of filesystem or smtp, not both');
};

const checkRegulation: Check = (config, findings) => {
  const regulation = config.regulation;
  if (regulation.modes.length === 0) problem(findings, 'regulation.modes', 'must list at least one of: user, ip');
  regulation.modes.forEach((mode, index) => {
    if (regulation.modes.indexOf(mode) !== index)
      problem(findings, `regulation.modes[${index}]`, `duplicates '${mode}'`);
  });
  if (regulation.max_retries > 0) {
    for (const key of ['find_time', 'ban_time'] as const) {
      if (!(regulation[key] > 0))
        problem(findings, `regulation.${key}`, 'must be greater than 0 when max_retries is greater than 0');
    }
  }
};

const checkWebauthn: Check = (config, findings) => {
  const { filtering, timeout } = config.webauthn;
  if (filtering.permitted_aaguids.length > 0 && filtering.prohibited_aaguids.length > 0) {
    problem(findings, 'webauthn.filtering', 'set permitted_aaguids or prohibited_aaguids, not both');
  }
  if (timeout < WEBAUTHN_TIMEOUT_SECONDS.min || timeout > WEBAUTHN_TIMEOUT_SECONDS.max) {
    problem(findings, 'webauthn.timeout', 'must be between 10s and 10m');
  }
};

const checkTelemetry: Check = (config, findings) => {
  const metrics = config.telemetry.metrics;
  const serverPort = config.server.address.port;
  if (metrics.enabled && metrics.address.port !== 0 && metrics.address.port === serverPort) {
    problem(findings, 'telemetry.metrics.address', `must use another port than server.address (${serverPort})`);
  }
};

const checkStorage: Check = (config, findings) => {
  // Trust authentication is common for a local PostgreSQL, so an empty password is only worth a warning.
  if (config.storage.postgres && config.storage.postgres.password === '') {
    findings.warnings.push('storage.postgres.password is empty; that only works with trust authentication');
  }
  // Redis suggests several replicas; embedded storage would give each its own security keys and its own count of
  // failed sign-ins (regulation), multiplying the attempts an attacker gets. One replica with Redis is fine.
  if (config.session.redis && !config.storage.postgres) {
    findings.warnings.push(
      'session.redis is set but storage.postgres is not: embedded storage (storage.local.path) serves one replica only; ' +
        'with several replicas each would keep its own security keys and failed-attempt counts: configure storage.postgres',
    );
  }
};

// Bans are counted from the authentication log: a retention shorter than the window regulation reads would delete
// the failures a ban rests on, so the operator is told rather than the value silently raised.
const checkAuthenticationLog: Check = (config, findings) => {
  const retention = config.storage.authentication_log.retention;
  if (retention === undefined) return;
  const path = 'storage.authentication_log.retention';
  if (!(retention > 0)) return problem(findings, path, 'must be greater than 0');
  const { max_retries, find_time, ban_time } = config.regulation;
  if (max_retries > 0 && retention < find_time + ban_time)
    problem(
      findings,
      path,
      `must be at least regulation.find_time + regulation.ban_time (${find_time + ban_time}s): bans are counted from this log`,
    );
};

// A cluster has one database (0) and no Sentinel; a hash tag in the prefix would put every key in one slot, on one
// primary, which is what a cluster is meant to avoid.
const checkRedisCluster: Check = (config, findings) => {
  const redis = config.session.redis;
  if (redis?.cluster === undefined) return;
  if (redis.high_availability !== undefined)
    problem(findings, 'session.redis', 'configure one of cluster or high_availability (Sentinel), not both');
  if (redis.database_index !== 0)
    problem(findings, 'session.redis.database_index', 'must be 0 with cluster: a Redis Cluster has only database 0');
  if (/[{}]/.test(redis.key_prefix))
    problem(
      findings,
      'session.redis.key_prefix',
      'must not contain { or } with cluster: a hash tag would put every key in one hash slot, on one node',
    );
};

const checkAccessControl: Check = (config, findings) => {
  const problems = accessControlProblems(config.access_control, config.definitions);
  findings.problems.push(...problems);
  // Reasoning about rules that do not compile would only add noise to their problems.
  if (problems.length === 0) findings.warnings.push(...shadowedRuleWarnings(config.access_control));
};

const CHECKS: readonly Check[] = [
  checkCookies,
  checkDurations,
  checkSecrets,
  checkNotifier,
  checkRegulation,
  checkWebauthn,
  checkTelemetry,
  checkStorage,
  checkAuthenticationLog,
  checkRedisCluster,
  checkAccessControl,
];
