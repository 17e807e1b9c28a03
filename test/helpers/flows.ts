// What a browser and a proxy do, as small functions the integration tests share.
import request from 'supertest';
import type { TestGatehouse } from './gatehouse.js';
import { PASSWORD } from './gatehouse.js';
import type { AuthLevel } from '../../src/session/model.js';

export const PORTAL = 'https://auth.example.com';

/** The `name=value` pair of the session cookie in a response, or undefined. */
export function sessionCookieFrom(
  res: { headers: Record<string, unknown> },
  name = 'gatehouse_session',
): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const found = list.find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  return found?.split(';')[0];
}

export function setCookieHeaders(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
}

/** POST /api/firstfactor as the portal's own page would. */
export function firstFactor(
  t: TestGatehouse,
  body: Record<string, unknown>,
  options: { cookie?: string; host?: string; origin?: string } = {},
) {
  const host = options.host ?? 'auth.example.com';
  const req = request(t.url)
    .post('/api/firstfactor')
    .set('Host', host)
    .set('Origin', options.origin ?? `https://${host}`)
    .set('Content-Type', 'application/json');
  if (options.cookie) req.set('Cookie', options.cookie);
  return req.send(JSON.stringify(body));
}

/** Signs in with the password and returns the session cookie pair. */
export async function signIn(
  t: TestGatehouse,
  username: string,
  extra: Record<string, unknown> = {},
  host = 'auth.example.com',
): Promise<string> {
  const res = await firstFactor(t, { username, password: PASSWORD, ...extra }, { host });
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  const cookie = sessionCookieFrom(res);
  if (!cookie) throw new Error('no session cookie after sign-in');
  return cookie;
}

/**
 * A session at the given level made directly through the session service (the second factor arrives with the
 * WebAuthn issue; authz decisions at level 2 are tested through this).
 */
export async function sessionAtLevel(
  t: TestGatehouse,
  username: string,
  level: AuthLevel,
  domain = 'example.com',
): Promise<string> {
  const cookie = t.loaded.cookies.find((c) => c.domain === domain)!;
  const user = t.gatehouse.adapters.users.get(username)!;
  const session = await t.gatehouse.services.sessions.create(
    {
      username,
      displayName: user.displayName,
      emails: user.emails,
      groups: user.groups,
      level,
      rememberMe: false,
      secondFactorAt: level === 2 ? Date.now() : undefined,
    },
    cookie,
  );
  return `${cookie.name}=${session.id}`;
}

/** nginx's auth_request subrequest. */
export function authRequest(
  t: TestGatehouse,
  target: string,
  options: { method?: string; cookie?: string; headers?: Record<string, string> } = {},
) {
  const req = request(t.url)
    .get('/api/authz/auth-request')
    .set('X-Original-URL', target)
    .set('X-Original-Method', options.method ?? 'GET');
  if (options.cookie) req.set('Cookie', options.cookie);
  for (const [k, v] of Object.entries(options.headers ?? {})) req.set(k, v);
  return req;
}

/** Traefik's / Caddy's forwardAuth request. */
export function forwardAuth(
  t: TestGatehouse,
  target: string,
  options: { method?: string; cookie?: string; headers?: Record<string, string> } = {},
) {
  const url = new URL(target);
  const req = request(t.url)
    .get('/api/authz/forward-auth')
    .set('X-Forwarded-Method', options.method ?? 'GET')
    .set('X-Forwarded-Proto', url.protocol.replace(':', ''))
    .set('X-Forwarded-Host', url.host)
    .set('X-Forwarded-Uri', `${url.pathname}${url.search}`)
    .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
  if (options.cookie) req.set('Cookie', options.cookie);
  for (const [k, v] of Object.entries(options.headers ?? {})) req.set(k, v);
  return req;
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * The authz answer for `cookie` once it is `status`, asking again for up to a generous bound: another replica's cache
 * hears of a change through Redis, a moment after the replica that made it has answered.
 */
export async function eventualAuthz(t: TestGatehouse, target: string, cookie: string, status: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const got = (await authRequest(t, target, { cookie })).status;
    if (got === status || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
