// How long a session lives (SPEC §3): absolute expiration from creation (the remember-me duration under remember-me)
// and, without remember-me, inactivity since the last refresh. Pure, so that every holder of a session (the service,
// the session cache's mirror in another thread) checks a session's deadlines the same way.
import type { CookieSettings } from '../config/cookies.js';
import type { SessionData } from './model.js';

/** The authz path refreshes the inactivity timestamp at most this often (SPEC §4). */
export const TOUCH_INTERVAL_MS = 1_000;

/** Remember-me counts only while the cookie domain still allows it (0 or less disables it, SPEC §3). */
export function isRememberMe(data: SessionData, cookie: CookieSettings): boolean {
  return data.rememberMe && cookie.rememberMe > 0;
}

/** The session's absolute end (epoch ms): creation plus the remember-me duration under remember-me, else expiration. */
export function absoluteEndMs(data: SessionData, cookie: CookieSettings): number {
  return data.createdAt + (isRememberMe(data, cookie) ? cookie.rememberMe : cookie.expiration) * 1000;
}

/**
 * Milliseconds until the session ends: its absolute end, and without remember-me also inactivity since the last
 * refresh (an inactivity of 0 or less disables that limit).
 */
export function remainingLifeMs(data: SessionData, cookie: CookieSettings, now: number): number {
  const absoluteEnd = absoluteEndMs(data, cookie);
  if (isRememberMe(data, cookie) || cookie.inactivity <= 0) return absoluteEnd - now;
  const idleEnd = data.lastActivity + cookie.inactivity * 1000;
  return Math.min(absoluteEnd, idleEnd) - now;
}

/** Whether `data` may still be used for `cookie`'s domain at `now`: made for that domain and not past its time. */
export function isSessionAlive(data: SessionData, cookie: CookieSettings, now: number): boolean {
  return data.cookieDomain === cookie.domain && remainingLifeMs(data, cookie, now) > 0;
}
