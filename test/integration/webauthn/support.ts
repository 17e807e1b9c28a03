// What a browser does around the WebAuthn API, for the integration tests: sign in, prove identity through the
// emailed link, ask for options, answer them with the software authenticator, post the result.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import request from 'supertest';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { DEFAULT_USERS, startGatehouse, type TestGatehouse, type TestUser } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { extractLink, readMessages, type FileMessage } from '../../helpers/mail.js';
import {
  createCredential,
  getAssertion,
  type CreateOptions,
  type GetOptions,
  type SoftCredential,
} from '../../helpers/soft-authenticator.js';
import type { Session } from '../../../src/session/model.js';
import type { WebAuthnCredential } from '../../../src/storage/storage.js';

export const HOST = 'auth.example.com';
export const ORIGIN = 'https://auth.example.com';
export const RP_ID = 'auth.example.com';

/** Many users, so each test has its own (the identity email is limited to one per user every few seconds). */
export function testUsers(count = 60): Record<string, TestUser> {
  const users: Record<string, TestUser> = { ...DEFAULT_USERS };
  for (let i = 1; i <= count; i += 1) {
    const name = `user${String(i).padStart(2, '0')}`;
    users[name] = { displayname: `User ${i}`, email: `${name}@example.com`, groups: ['dev'] };
  }
  return users;
}

/** The Gatehouse the key tests run against: real Redis and PostgreSQL, the many test users, passkey sign-in on. */
export function startKeysGatehouse(): Promise<TestGatehouse> {
  return startGatehouse({
    sessions: 'redis',
    storage: 'postgres',
    users: testUsers(),
    config: { webauthn: { enable_passkey_login: true } },
  });
}

/** Hands out the next unused test user. */
export function userPool(count = 60): () => string {
  let next = 0;
  return () => {
    next += 1;
    if (next > count) throw new Error('the test user pool is exhausted');
    return `user${String(next).padStart(2, '0')}`;
  };
}

export function api(
  t: TestGatehouse,
  method: 'get' | 'post' | 'put' | 'delete',
  path: string,
  cookie?: string,
  body?: unknown,
) {
  const req = request(t.url)[method](path).set('Host', HOST);
  if (method !== 'get') req.set('Origin', ORIGIN);
  if (cookie) req.set('Cookie', cookie);
  if (body === undefined)
    return method === 'get' || method === 'delete' ? req : req.set('Content-Type', 'application/json').send('{}');
  return req.set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
}

export interface State {
  username: string;
  authentication_level: number;
  elevated: boolean;
}

export async function state(t: TestGatehouse, cookie: string | undefined): Promise<State> {
  const res = await api(t, 'get', '/api/state', cookie);
  assert.equal(res.status, 200);
  return res.body.data as State;
}

export function mailbox(t: TestGatehouse): string {
  return join(t.dir, 'notification.txt');
}

export function messagesTo(t: TestGatehouse, username: string): FileMessage[] {
  return readMessages(mailbox(t)).filter((m) => m.recipient.endsWith(`<${username}@example.com>`));
}

/** SPEC §5: asks for the emailed link, opens it, and returns the elevated session's (new) cookie. */
export async function elevate(t: TestGatehouse, cookie: string, username: string): Promise<string> {
  const start = await api(t, 'post', '/api/identity/start', cookie, { action: 'register_webauthn' });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const message = messagesTo(t, username).at(-1);
  assert.ok(message, `no identity email for ${username}`);
  const token = new URL(extractLink(message.body)).searchParams.get('token');
  const finish = await api(t, 'post', '/api/identity/finish', cookie, { token });
  assert.equal(finish.status, 200, JSON.stringify(finish.body));
  return sessionCookieFrom(finish) ?? cookie;
}

/** A signed-in, elevated session for `username`. */
export async function elevatedSession(t: TestGatehouse, username: string): Promise<string> {
  return elevate(t, await signIn(t, username), username);
}

export async function registrationOptions(
  t: TestGatehouse,
  cookie: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const res = await api(t, 'post', '/api/webauthn/registration/options', cookie);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as PublicKeyCredentialCreationOptionsJSON;
}

export async function authenticationOptions(
  t: TestGatehouse,
  cookie: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const res = await api(t, 'post', '/api/webauthn/authentication/options', cookie);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as PublicKeyCredentialRequestOptionsJSON;
}

/** Asks for options, makes a credential and posts it: the reply and the credential. */
export async function register(t: TestGatehouse, cookie: string, description: string, options: CreateOptions = {}) {
  const creation = await registrationOptions(t, cookie);
  const { credential, response } = createCredential(creation, { origin: ORIGIN, ...options });
  const res = await api(t, 'post', '/api/webauthn/registration', cookie, { description, response });
  return { res, credential, creation };
}

/** Registers and expects a 201. */
export async function enrol(
  t: TestGatehouse,
  cookie: string,
  description: string,
  options: CreateOptions = {},
): Promise<SoftCredential> {
  const { res, credential } = await register(t, cookie, description, options);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return credential;
}

/** A user with one enrolled key, signed in again afresh at level 1 (not elevated). */
export async function userWithKey(
  t: TestGatehouse,
  username: string,
  options: CreateOptions = {},
): Promise<{ cookie: string; credential: SoftCredential }> {
  const credential = await enrol(t, await elevatedSession(t, username), 'First key', options);
  return { cookie: await signIn(t, username), credential };
}

/** Answers the second-factor options with `credential` and posts the assertion. */
export async function secondFactor(
  t: TestGatehouse,
  cookie: string,
  credential: SoftCredential,
  options: GetOptions = {},
  extra: Record<string, unknown> = {},
) {
  const request = await authenticationOptions(t, cookie);
  const response = getAssertion(credential, request, { origin: ORIGIN, ...options });
  return api(t, 'post', '/api/webauthn/authentication', cookie, { response, ...extra });
}

export async function passkeyOptions(
  t: TestGatehouse,
  cookie?: string,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; cookie: string }> {
  const res = await api(t, 'post', '/api/webauthn/passkey/options', cookie);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { options: res.body.data as PublicKeyCredentialRequestOptionsJSON, cookie: sessionCookieFrom(res) ?? cookie! };
}

export async function passkeySignIn(
  t: TestGatehouse,
  credential: SoftCredential,
  options: GetOptions = {},
  extra: Record<string, unknown> = {},
) {
  const { options: request, cookie } = await passkeyOptions(t);
  const response = getAssertion(credential, request, { origin: ORIGIN, ...options });
  const res = await api(t, 'post', '/api/webauthn/passkey', cookie, { response, ...extra });
  return { res, cookie };
}

export function portalCookie(t: TestGatehouse) {
  return t.loaded.cookies.find((c) => c.domain === 'example.com')!;
}

/** The stored session behind a cookie pair (tests read and bend it: expiry of challenges, age of a second factor). */
export async function storedSession(t: TestGatehouse, cookie: string): Promise<Session | undefined> {
  return t.gatehouse.services.sessions.load([cookie.split('=')[1]!], portalCookie(t));
}

export async function changeSession(
  t: TestGatehouse,
  cookie: string,
  change: (session: Session) => void,
): Promise<void> {
  const session = await storedSession(t, cookie);
  assert.ok(session, 'the session is gone');
  change(session);
  await t.gatehouse.services.sessions.save(session, portalCookie(t));
}

export async function storedKeys(t: TestGatehouse, username: string): Promise<WebAuthnCredential[]> {
  return t.gatehouse.adapters.storage.listWebAuthnCredentials(username);
}

/**
 * Stores a key record directly, as an earlier enrolment (or a migration from U2F) would have left it: for users
 * who cannot enrol today (disabled) and for keys no browser can enrol any more (U2F AppID).
 */
export async function storeKey(
  t: TestGatehouse,
  username: string,
  credential: SoftCredential,
  extra: Partial<WebAuthnCredential> = {},
): Promise<void> {
  const storage = t.gatehouse.adapters.storage;
  credential.userHandle = Buffer.from(await storage.getOrCreateWebAuthnUserHandle(RP_ID, username), 'base64url');
  const saved = await storage.saveWebAuthnCredential({
    createdAt: new Date(),
    rpid: RP_ID,
    username,
    description: `Stored key ${credential.kid.slice(0, 8)}`,
    kid: credential.kid,
    aaguid: null,
    attestationType: 'none',
    attachment: '',
    transports: ['usb'],
    signCount: credential.counter,
    discoverable: true,
    present: true,
    verified: true,
    backupEligible: false,
    backupState: false,
    publicKey: credential.cosePublicKey,
    attestation: null,
    legacyU2fAppid: null,
    ...extra,
  });
  assert.ok(saved.saved);
}
