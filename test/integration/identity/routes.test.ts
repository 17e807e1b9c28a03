// SPEC §5 "Registering a key", §6 `/api/identity/start|finish`: through the real app, with Redis + PostgreSQL and
// with in-memory sessions + embedded storage; the email is read back from the filesystem notifier's file.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { DEFAULT_USERS, startGatehouse, type StartOptions, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { extractLink, lastIdentityToken, lastMessage, readMessages } from '../../helpers/mail.js';
import { IdentityVerifier } from '../../../src/identity/tokens.js';
import { portalLink } from '../../../src/web/portal-paths.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { Relay } from '../../helpers/relay.js';

const START = '/api/identity/start';
const FINISH = '/api/identity/finish';

function post(t: TestGatehouse, path: string, body: unknown, cookie?: string, origin = 'https://auth.example.com') {
  const req = request(t.url)
    .post(path)
    .set('Host', 'auth.example.com')
    .set('Origin', origin)
    .set('Content-Type', 'application/json');
  if (cookie) req.set('Cookie', cookie);
  return req.send(JSON.stringify(body));
}

async function state(t: TestGatehouse, cookie: string) {
  const res = await request(t.url).get('/api/state').set('Host', 'auth.example.com').set('Cookie', cookie);
  return res.body.data as { username: string; authentication_level: number; elevated: boolean };
}

const backends: Array<{ name: string; options: StartOptions }> = [
  { name: 'Redis + PostgreSQL', options: { sessions: 'redis', storage: 'postgres' } },
  { name: 'memory + embedded', options: { sessions: 'memory', storage: 'embedded' } },
];

for (const backend of backends) {
  describe(`identity verification API (${backend.name})`, () => {
    let t: TestGatehouse;
    let mailbox: string;
    beforeAll(async () => {
      // One user per test: the per-user email interval never links two tests.
      const more = Object.fromEntries(
        ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon'].map((name) => [
          name,
          { displayname: `${name[0]!.toUpperCase()}${name.slice(1)} Example` },
        ]),
      );
      t = await startGatehouse({ ...backend.options, users: { ...DEFAULT_USERS, ...more } });
      mailbox = join(t.dir, 'notification.txt');
    });
    afterAll(async () => t.close());

    /** Signs in, asks for the link, and returns the session cookie and the emailed token. */
    async function askForLink(username: string): Promise<{ cookie: string; token: string }> {
      const cookie = await signIn(t, username);
      const res = await post(t, START, { action: 'register_webauthn' }, cookie);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { cookie, token: lastIdentityToken(mailbox) };
    }

    describe('POST /api/identity/start', () => {
      it('needs a signed-in session (401), and sends nothing otherwise', async () => {
        const before = readMessages(mailbox).length;
        const res = await post(t, START, { action: 'register_webauthn' });
        assert.equal(res.status, 401);
        assert.equal(res.body.status, 'KO');
        assert.equal(readMessages(mailbox).length, before);
      });

      it("emails the link to the user's address and answers OK without the token", async () => {
        const cookie = await signIn(t, 'ann');
        const res = await post(t, START, { action: 'register_webauthn' }, cookie);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { status: 'OK' });
        const message = lastMessage(mailbox);
        assert.equal(message.recipient, 'Ann Example <ann@example.com>');
        assert.equal(message.subject, '[Gatehouse] Confirm your identity');
        const link = new URL(extractLink(message.body));
        assert.equal(`${link.origin}${link.pathname}`, 'https://auth.example.com/webauthn/register');
        assert.deepEqual([...link.searchParams.keys()], ['token']);
        assert.ok(!JSON.stringify(res.body).includes(link.searchParams.get('token')!));
        assert.match(message.body, /127\.0\.0\.1|::ffff:127\.0\.0\.1/, 'says from which address');
      });

      it('refuses an unknown or missing action (400)', async () => {
        const cookie = await signIn(t, 'harry');
        for (const body of [
          { action: 'reset_password' },
          {},
          { action: ['register_webauthn'] },
          [],
          'register_webauthn',
        ]) {
          const res = await post(t, START, body, cookie);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.equal(res.body.status, 'KO');
        }
      });

      it('sends at most one email per user per 10 seconds (429), other users unaffected', async () => {
        const ben = await signIn(t, 'ben');
        const before = readMessages(mailbox).length;
        assert.equal((await post(t, START, { action: 'register_webauthn' }, ben)).status, 200);
        const again = await post(t, START, { action: 'register_webauthn' }, ben);
        assert.equal(again.status, 429);
        assert.equal(again.body.status, 'KO');
        assert.equal(again.headers['retry-after'], '10');
        assert.equal(
          (await post(t, START, { action: 'register_webauthn' }, await signIn(t, 'ben'))).status,
          429,
          'per user, not per session',
        );
        assert.equal((await post(t, START, { action: 'register_webauthn' }, await signIn(t, 'cat'))).status, 200);
        assert.equal(readMessages(mailbox).length, before + 2);
      });

      it('refuses a cross-origin request (403)', async () => {
        const cookie = await signIn(t, 'harry');
        const res = await post(t, START, { action: 'register_webauthn' }, cookie, 'https://evil.example.net');
        assert.equal(res.status, 403);
      });

      it('with returnTo (a rename or delete without a key): the link only confirms and names the portal page to return to', async () => {
        const cookie = await signIn(t, 'hal');
        const res = await post(
          t,
          START,
          { action: 'register_webauthn', returnTo: '/settings?resume=delete&key=4' },
          cookie,
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const message = lastMessage(mailbox);
        const link = new URL(extractLink(message.body, '/identity/confirm'));
        assert.equal(`${link.origin}${link.pathname}`, 'https://auth.example.com/identity/confirm');
        assert.equal(link.searchParams.get('then'), '/settings?resume=delete&key=4');
        assert.match(message.body, /asked to change their security keys/);
      });

      it('refuses a returnTo that is not a path on the portal (400), sending nothing', async () => {
        const cookie = await signIn(t, 'harry');
        const before = readMessages(mailbox).length;
        for (const returnTo of [
          'https://evil.example.net/',
          '//evil.example.net/',
          '/\\evil.example.net',
          'settings',
          '/api/identity/start',
          '/x\u0000y',
          `/${'a'.repeat(300)}`,
          42,
        ]) {
          const res = await post(t, START, { action: 'register_webauthn', returnTo }, cookie);
          assert.equal(res.status, 400, JSON.stringify(returnTo));
        }
        assert.equal(readMessages(mailbox).length, before);
      });
    });

    describe("GET the emailed link's page: checked as it opens, spent only by its button", () => {
      const page = (path: string, cookie: string) =>
        request(t.url).get(path).set('Host', 'auth.example.com').set('Cookie', cookie);

      it('a live link shows its form; a used one says so at once (400), with "Email me a new link"', async () => {
        const { cookie, token } = await askForLink('ivy');
        const open = await page(`/webauthn/register?token=${token}`, cookie);
        assert.equal(open.status, 200);
        assert.match(open.text, /Name for the new key/);
        const finished = await post(t, FINISH, { token }, cookie);
        assert.equal(finished.status, 200, 'opening the page did not spend the link');
        const used = await page(`/webauthn/register?token=${token}`, sessionCookieFrom(finished)!);
        assert.equal(used.status, 400);
        assert.match(used.text, /<h1>This link was already used<\/h1>/);
        assert.match(used.text, /id="request-new-link" class="button primary"/);
        assert.doesNotMatch(used.text, /Name for the new key/);
      });

      it("another user's link says so at once (403) and offers to sign in as someone else, coming back to it", async () => {
        const { token } = await askForLink('jon');
        const harry = await signIn(t, 'harry');
        const res = await page(`/webauthn/register?token=${token}`, harry);
        assert.equal(res.status, 403);
        assert.match(res.text, /This link is for another user/);
        const back = `https://auth.example.com/webauthn/register?token=${token}`;
        assert.ok(
          res.text.includes(`href="/logout?${new URLSearchParams({ rd: back }).toString().replace(/&/g, '&amp;')}"`),
          res.text,
        );
      });

      it('the confirm-only page needs a portal path to return to (400 otherwise)', async () => {
        const cookie = await signIn(t, 'harry');
        const res = await page('/identity/confirm?token=a.b.c&then=https%3A%2F%2Fevil.example.net%2F', cookie);
        assert.equal(res.status, 400);
        assert.doesNotMatch(res.text, /evil/);
      });
    });

    describe('POST /api/identity/finish', () => {
      it('elevates the session for elevation_lifetime under a new session ID, level unchanged', async () => {
        const { cookie, token } = await askForLink('dan');
        assert.deepEqual(await state(t, cookie), { username: 'dan', authentication_level: 1, elevated: false });
        const started = Date.now();
        const res = await post(t, FINISH, { token }, cookie);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body, { status: 'OK', data: { elevated: true } });
        const elevated = sessionCookieFrom(res);
        assert.ok(elevated && elevated !== cookie, 'a new session ID');
        assert.deepEqual(await state(t, elevated), { username: 'dan', authentication_level: 1, elevated: true });
        assert.equal((await state(t, cookie)).authentication_level, 0, 'the old ID is gone');
        const cookieSettings = t.loaded.cookies.find((c) => c.domain === 'example.com')!;
        const session = await t.gatehouse.services.sessions.load([elevated.split('=')[1]!], cookieSettings);
        const until = session!.data.elevatedUntil!;
        const lifetime = t.loaded.config.identity_validation.elevation_lifetime * 1000;
        assert.ok(until >= started + lifetime && until <= Date.now() + lifetime, 'elevated for elevation_lifetime');
      });

      it('refuses a second use of the link', async () => {
        const { cookie, token } = await askForLink('eve');
        const first = await post(t, FINISH, { token }, cookie);
        assert.equal(first.status, 200);
        const again = await post(t, FINISH, { token }, sessionCookieFrom(first)!);
        assert.equal(again.status, 400);
        assert.deepEqual(again.body, { status: 'KO', message: 'This link was already used.' });
      });

      it("refuses another user's session (403) without spending the link", async () => {
        const { cookie: fayCookie, token } = await askForLink('fay');
        const harry = await signIn(t, 'harry');
        const res = await post(t, FINISH, { token }, harry);
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, { status: 'KO', message: 'This link belongs to another user.' });
        assert.equal((await state(t, harry)).elevated, false);
        assert.equal(sessionCookieFrom(res), undefined);
        assert.equal((await post(t, FINISH, { token }, fayCookie)).status, 200);
      });

      it('needs a signed-in session (401)', async () => {
        const res = await post(t, FINISH, { token: 'whatever' });
        assert.equal(res.status, 401);
      });

      it('refuses an expired link', async () => {
        const cookie = await signIn(t, 'harry');
        const clocked = new IdentityVerifier(t.gatehouse.adapters.storage, {
          secret: t.loaded.config.identity_validation.jwt_secret!,
          lifetimeSeconds: t.loaded.config.identity_validation.token_lifetime,
          now: () => Date.now() - 3_600_000,
        });
        const { token } = await clocked.issue({ username: 'harry', action: 'register_webauthn', ip: '127.0.0.1' });
        const res = await post(t, FINISH, { token }, cookie);
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, { status: 'KO', message: 'This link has expired.' });
        assert.equal((await state(t, cookie)).elevated, false);
      });

      it('refuses tampered, unsigned and malformed tokens with 400, never 500', async () => {
        const { cookie, token } = await askForLink('gus');
        const [h, p, s] = token.split('.');
        const flipped = `${h}.${p}.${s!.slice(0, 5)}${s![5] === 'A' ? 'B' : 'A'}${s!.slice(6)}`;
        const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
        for (const bad of [flipped, unsigned, 'not-a-jwt', 'a.b.c', 'x'.repeat(10_000)]) {
          const res = await post(t, FINISH, { token: bad }, cookie);
          assert.equal(res.status, 400, bad.slice(0, 30));
          assert.deepEqual(res.body, { status: 'KO', message: 'This link is not valid.' });
        }
        for (const body of [{}, { token: 42 }, { token: { a: 1 } }, { token: '' }, [], null]) {
          const res = await post(t, FINISH, body, cookie);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.equal(res.body.status, 'KO');
        }
        assert.equal((await state(t, cookie)).elevated, false);
        assert.equal((await post(t, FINISH, { token }, cookie)).status, 200, 'the genuine link still works');
      });
    });
  });
}

describe('identity link URL', () => {
  const cases: [string, string][] = [
    ['https://auth.example.com', 'https://auth.example.com/webauthn/register?token=t.o.k'],
    ['https://auth.example.com/', 'https://auth.example.com/webauthn/register?token=t.o.k'],
    ['https://example.org/gatehouse', 'https://example.org/gatehouse/webauthn/register?token=t.o.k'],
    ['https://example.org/gatehouse/', 'https://example.org/gatehouse/webauthn/register?token=t.o.k'],
    ['http://auth.example.com:8080/sso?x=1#frag', 'http://auth.example.com:8080/sso/webauthn/register?token=t.o.k'],
  ];
  for (const [portal, link] of cases) {
    it(`${portal} → ${link}`, () =>
      assert.equal(portalLink(new URL(portal), 'webauthn/register', { token: 't.o.k' }), link));
  }
});

describe('identity verification with PostgreSQL away', () => {
  let postgres: PostgresTestTarget;
  let relay: Relay;
  let t: TestGatehouse;
  beforeAll(async () => {
    postgres = await postgresTestTarget();
    relay = new Relay(postgres.config.address);
    await relay.start();
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      postgres: { ...postgres, config: { ...postgres.config, address: { host: '127.0.0.1', port: relay.port } } },
    });
  });
  afterAll(async () => {
    await t.close();
    await relay.cut();
    await postgres.cleanup();
  });

  it('answers 503 on start and finish, never 200 or 500', async () => {
    const cookie = await signIn(t, 'john');
    await relay.cut();
    const start = await post(t, START, { action: 'register_webauthn' }, cookie);
    assert.equal(start.status, 503);
    assert.equal(start.body.status, 'KO');
    const finish = await post(t, FINISH, { token: await craftValidLooking(t) }, cookie);
    assert.equal(finish.status, 503);
    assert.equal(readMessages(join(t.dir, 'notification.txt')).length, 0, 'no link without a recorded token');
  });
});

/** A token Gatehouse would accept by signature (its ID unknown to storage), so redeeming reaches storage. */
async function craftValidLooking(t: TestGatehouse): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ action: 'register_webauthn' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('gatehouse')
    .setAudience('gatehouse:identity-verification')
    .setSubject('john')
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(new TextEncoder().encode(t.loaded.config.identity_validation.jwt_secret!));
}
