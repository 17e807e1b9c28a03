// Paths of the portal itself: the links Gatehouse builds to its own pages (emailed links, sign-in's rd), and the
// return page an emailed identity link names (the settings page, to finish a rename or delete). Only a same-origin
// absolute path passes as a return page, normalised, so the value can never lead off the portal.

/**
 * `<portal URL>/<path>?<query>`, keeping a path the portal URL may have (`https://example.org/auth` →
 * `https://example.org/auth/webauthn/register`).
 */
export function portalLink(portalUrl: URL, path: string, query: Record<string, string> = {}): string {
  const url = new URL(portalUrl.href);
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

/** Far above any portal page's path and query. */
export const PORTAL_PATH_MAX_LENGTH = 256;

const BASE = new URL('https://portal.invalid/');

/** The normalised path and query of `value` when it is a path on the portal (not the API), else undefined. */
export function portalPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > PORTAL_PATH_MAX_LENGTH) return undefined;
  // "//host" and "/\host" are read by browsers as another host; control characters and backslashes have no
  // place in a portal path and browsers rewrite them.
  if (!value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value) || value.startsWith('//')) return undefined;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return undefined;
  }
  if (url.origin !== BASE.origin || url.pathname.startsWith('/api/')) return undefined;
  return `${url.pathname}${url.search}`;
}
