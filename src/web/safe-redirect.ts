// Where Gatehouse may send a browser after sign-in or sign-out (SPEC §5): only back to a protected app.
import type { CookieSettings } from '../config/cookies.js';
import { cookieForTarget } from '../config/cookies.js';
import { parseTargetUrl } from '../authz/target.js';

export interface SafeTarget {
  url: URL;
  cookie: CookieSettings;
}

/**
 * The target when it is an https URL (http only where that cookie domain's own portal is http, i.e. localhost
 * trials) whose host lies under a configured cookie domain; undefined for anything else: other schemes, other
 * hosts, `//evil`, backslashes, userinfo, control characters, encoded tricks. Never throws.
 */
export function safeRedirectTarget(raw: unknown, cookies: readonly CookieSettings[]): SafeTarget | undefined {
  if (typeof raw !== 'string' || raw.length > 4096) return undefined;
  const url = parseTargetUrl(raw, { allowFragment: true });
  if ('error' in url) return undefined;
  const cookie = cookieForTarget(cookies, url);
  return 'error' in cookie ? undefined : { url, cookie };
}
