// Reading the session cookie from a Cookie header, and writing Set-Cookie values for it (SPEC §8).
import { serialize, type SerializeOptions } from 'cookie';
import type { Session } from './model.js';
import type { CookieSettings } from '../config/cookies.js';

/** Enough for a duplicate set by a sibling subdomain; anything beyond is not worth scanning for. */
const MAX_VALUES = 4;

const isBlank = (code: number) => code === 0x20 || code === 0x09;

/**
 * Every value of the cookie `name`, in header order, at most four. Runs on every authz call, so it scans the
 * header in place instead of building an object of all cookies, and never throws on garbage. Values are returned
 * as sent (surrounding double quotes removed, no percent-decoding): session IDs are base64url and need none, and
 * the caller checks their exact shape.
 */
export function readCookieValues(cookieHeader: string | undefined, name: string): string[] {
  const values: string[] = [];
  if (cookieHeader === undefined || name === '') return values;
  const length = cookieHeader.length;
  let pairStart = 0;
  while (pairStart < length && values.length < MAX_VALUES) {
    let pairEnd = cookieHeader.indexOf(';', pairStart);
    if (pairEnd === -1) pairEnd = length;
    const equals = cookieHeader.indexOf('=', pairStart);
    if (equals !== -1 && equals < pairEnd && nameMatches(cookieHeader, pairStart, equals, name)) {
      values.push(valueBetween(cookieHeader, equals + 1, pairEnd));
    }
    pairStart = pairEnd + 1;
  }
  return values;
}

function nameMatches(header: string, start: number, end: number, name: string): boolean {
  while (start < end && isBlank(header.charCodeAt(start))) start++;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--;
  return end - start === name.length && header.startsWith(name, start);
}

function valueBetween(header: string, start: number, end: number): string {
  while (start < end && isBlank(header.charCodeAt(start))) start++;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--;
  if (end - start >= 2 && header.charCodeAt(start) === 0x22 && header.charCodeAt(end - 1) === 0x22) {
    start++;
    end--;
  }
  return header.slice(start, end);
}

/**
 * Attributes shared by setting and clearing the cookie, so a clear always hits the cookie that was set.
 * Browsers refuse `Domain=localhost`, so for that domain the attribute is omitted and the cookie is host-only
 * (which on localhost is what the operator trying Gatehouse out wants anyway).
 */
function baseAttributes(cookie: CookieSettings): SerializeOptions {
  return {
    httpOnly: true,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
    domain: cookie.domain === 'localhost' ? undefined : cookie.domain,
    path: '/',
  };
}

/**
 * The Set-Cookie value for a session: a browser-session cookie, persistent (Max-Age = the remaining remember-me
 * lifetime) only under remember-me, so closing the browser signs out otherwise.
 */
export function sessionCookie(session: Session, cookie: CookieSettings, now: number = Date.now()): string {
  const options = baseAttributes(cookie);
  if (session.data.rememberMe && cookie.rememberMe > 0) {
    const remainingMs = session.data.createdAt + cookie.rememberMe * 1000 - now;
    options.maxAge = Math.max(0, Math.floor(remainingMs / 1000));
  }
  return serialize(cookie.name, session.id, options);
}

/** A Set-Cookie value that makes the browser drop the session cookie. */
export function clearSessionCookie(cookie: CookieSettings): string {
  return serialize(cookie.name, '', { ...baseAttributes(cookie), maxAge: 0, expires: new Date(0) });
}
