// The resolved cookie settings that session tests hand to a SessionService of their own, with no configuration loaded,
// and the session data they store under it.
import type { CookieSettings } from '../../src/config/cookies.js';
import type { SessionData } from '../../src/session/model.js';

/** example.com behind an https portal: an hour long, five minutes' inactivity, "remember me" for 30 days. */
export function testCookie(overrides: Partial<CookieSettings> = {}): CookieSettings {
  return {
    domain: 'example.com',
    name: 'gatehouse_session',
    portalUrl: new URL('https://auth.example.com'),
    sameSite: 'lax',
    expiration: 3600,
    inactivity: 300,
    rememberMe: 30 * 86400,
    secure: true,
    ...overrides,
  };
}

/** john, signed in with a password for testCookie()'s domain; created and last active at 0 unless told. */
export function testSessionData(overrides: Partial<SessionData> = {}): SessionData {
  return {
    username: 'john',
    displayName: 'John',
    emails: [],
    groups: [],
    level: 1,
    cookieDomain: 'example.com',
    createdAt: 0,
    lastActivity: 0,
    rememberMe: false,
    ...overrides,
  };
}
