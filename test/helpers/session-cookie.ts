// The resolved cookie settings that session tests hand to a SessionService of their own, with no configuration loaded.
import type { CookieSettings } from '../../src/config/cookies.js';

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
