// The resolved cookie domains (session-level defaults applied) and the lookup of the one that covers a host.
import type { Config } from './schema.js';

/** The resolved settings of one `session.cookies[]` entry, with session-level defaults applied. */
export interface CookieSettings {
  domain: string;
  name: string;
  portalUrl: URL;
  defaultRedirectionUrl?: URL;
  sameSite: 'lax' | 'strict' | 'none';
  /** Seconds. */
  expiration: number;
  inactivity: number;
  /** Seconds; 0 or less disables "remember me". */
  rememberMe: number;
  /** Secure when the portal is https. */
  secure: boolean;
}

/** True when `host` is `domain` or a subdomain of it, on a label boundary (`evilexample.com` is not under `example.com`). */
export function hostIsWithin(host: string, domain: string): boolean {
  if (host.length === domain.length) return host === domain;
  // A subdomain needs at least one character before the dot: `.example.com` has an empty label.
  return (
    host.length > domain.length + 1 &&
    host.charCodeAt(host.length - domain.length - 1) === 46 /* '.' */ &&
    host.endsWith(domain)
  );
}

export function isLocalhostDomain(domain: string): boolean {
  return domain === 'localhost' || domain.endsWith('.localhost');
}

/** One entry per `session.cookies[]`; expects a configuration that passed validation. */
export function resolveCookies(config: Config): CookieSettings[] {
  const session = config.session;
  return session.cookies.map((cookie, index) => {
    const portalUrl = cookie.authelia_url ?? cookie.portal_url;
    if (!portalUrl)
      throw new Error(`session.cookies[${index}] has no portal URL (the configuration was not validated)`);
    const settings: CookieSettings = {
      domain: cookie.domain,
      name: cookie.name ?? session.name,
      portalUrl,
      sameSite: cookie.same_site ?? session.same_site,
      expiration: cookie.expiration ?? session.expiration,
      inactivity: cookie.inactivity ?? session.inactivity,
      rememberMe: cookie.remember_me ?? session.remember_me,
      secure: portalUrl.protocol === 'https:',
    };
    if (cookie.default_redirection_url) settings.defaultRedirectionUrl = cookie.default_redirection_url;
    return settings;
  });
}

/**
 * The most specific cookie domain that is the host or a parent of it (hot path: called on every authz request).
 * `host` is a host name without port. A host with a trailing dot matches nothing: access-control rules are
 * written without it, so letting `secret.example.com.` in under `example.com` could slip past a rule for
 * `secret.example.com`; refusing fails closed.
 */
export function findCookieForHost(cookies: readonly CookieSettings[], host: string): CookieSettings | undefined {
  if (host.length === 0 || host.charCodeAt(host.length - 1) === 46 /* '.' */) return undefined;
  const name = host.toLowerCase(); // domains are validated lower-case at load time
  let best: CookieSettings | undefined;
  for (const cookie of cookies) {
    if ((best === undefined || cookie.domain.length > best.domain.length) && hostIsWithin(name, cookie.domain))
      best = cookie;
  }
  return best;
}

/**
 * The cookie domain that governs a target URL, for the authz endpoints and for redirects alike: the target must lie
 * under a configured cookie domain and be https (plain http only where that domain's own portal is http, i.e.
 * localhost trials, SPEC §4).
 */
export function cookieForTarget(cookies: readonly CookieSettings[], url: URL): CookieSettings | { error: string } {
  const cookie = findCookieForHost(cookies, url.hostname);
  if (cookie === undefined) return { error: 'target host is not under any configured cookie domain' };
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && cookie.portalUrl.protocol === 'http:'))
    return { error: 'target URL must be https' };
  return cookie;
}
