// A page of the portal itself, named by its path: where an emailed identity link returns once it has confirmed
// the user (the settings page, to finish a rename or delete). Only a same-origin absolute path passes, normalised,
// so the value can never lead off the portal, whatever the request carried.

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
