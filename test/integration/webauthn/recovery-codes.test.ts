// Issue 11 §3: recovery codes through the real app, real Redis and PostgreSQL (and embedded PGlite for the storage
// rules): made only by a user with a key behind the emailed identity check, shown once, stored hashed; each usable
// once as the second factor (two racing uses: one wins), voided by a new set, counted by regulation, mailed.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createLogger } from '../../../src/observability/logger.js';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, firstFactor, sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { generateRecoveryCodes } from '../../../src/webauthn/recovery-codes.js';
import {
  api,
  elevatedSession,
  enrol,
  messagesTo,
  passkeySignIn,
  startKeysGatehouse,
  state,
  storedSession,
  testUsers,
  userPool,
} from './support.js';

/** A user with one key and a fresh set of codes: the codes, and the (elevated) session that made them. */
async function userWithCodes(t: TestGatehouse, username: string): Promise<{ codes: string[]; elevated: string }> {
  const elevated = await elevatedSession(t, username);
  await enrol(t, elevated, 'First key');
  const res = await api(t, 'post', '/api/recovery-codes', elevated);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { codes: res.body.data.codes as string[], elevated };
}

function useCode(t: TestGatehouse, cookie: string | undefined, code: unknown, extra: Record<string, unknown> = {}) {
  return api(t, 'post', '/api/recovery-codes/use', cookie, { code, ...extra });
}

async function attempts(t: TestGatehouse, username: string) {
  return t.gatehouse.adapters.storage.latestAuthenticationAttempts({ username, since: new Date(0), limit: 50 });
}

describe('recovery codes (Redis + PostgreSQL)', () => {
  let t: TestGatehouse;
  const nextUser = userPool();
  beforeAll(async () => {
    t = await startKeysGatehouse();
  });
  afterAll(async () => t.close());

  describe('making a set', () => {
    it('needs a signed-in session, the emailed identity check, and a key', async () => {
      const username = nextUser();
      assert.equal((await api(t, 'post', '/api/recovery-codes')).status, 401);
      const cookie = await signIn(t, username);
      const notElevated = await api(t, 'post', '/api/recovery-codes', cookie);
      assert.equal(notElevated.status, 403);
      assert.match(notElevated.body.message, /Confirm your identity/);
      const elevated = await elevatedSession(t, username);
      const noKey = await api(t, 'post', '/api/recovery-codes', elevated);
      assert.equal(noKey.status, 400);
      assert.match(noKey.body.message, /Register a security key first/);
      assert.equal(await t.gatehouse.adapters.storage.findRecoveryCodeSet(username), undefined);
    });

    it('a recent key use is not enough: only the emailed check (as for registering a key)', async () => {
      const username = nextUser();
      const elevated = await elevatedSession(t, username);
      await enrol(t, elevated, 'First key');
      const twoFactors = await sessionWithLevel2(t, username);
      assert.equal((await api(t, 'post', '/api/recovery-codes', twoFactors)).status, 403);
    });

    it('answers ten codes once, stores only salted hashes, and mails the user', async () => {
      const username = nextUser();
      const { codes, elevated } = await userWithCodes(t, username);
      assert.equal(codes.length, 10);
      for (const code of codes) assert.match(code, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);

      const summary = await api(t, 'get', '/api/recovery-codes', elevated);
      assert.equal(summary.status, 200);
      assert.equal(summary.body.data.remaining, 10);
      assert.equal(summary.body.data.total, 10);
      assert.equal(JSON.stringify(summary.body).includes(codes[0]!), false, 'the codes are never shown again');

      const client = new pg.Client({ connectionString: t.postgres!.url });
      await client.connect();
      try {
        const schema = t.postgres!.config.schema;
        const { rows } = await client.query<{ code_hash: Buffer }>(
          `SELECT c.code_hash FROM "${schema}".recovery_codes c JOIN "${schema}".recovery_code_sets s ON s.id = c.set_id WHERE s.username = $1`,
          [username],
        );
        assert.equal(rows.length, 10);
        const stored = rows.map((row) => row.code_hash.toString('latin1')).join(' ');
        for (const code of codes) {
          assert.equal(stored.includes(code), false);
          assert.equal(stored.includes(code.replaceAll('-', '').toUpperCase()), false);
        }
      } finally {
        await client.end();
      }

      const mail = messagesTo(t, username).at(-1);
      assert.match(mail?.subject ?? '', /New recovery codes were made/);
      assert.equal(mail!.body.includes(codes[0]!), false, 'the email never carries a code');
    });

    it('a new set voids the old one: its unused codes are refused', async () => {
      const username = nextUser();
      const { codes: first, elevated } = await userWithCodes(t, username);
      const second = await api(t, 'post', '/api/recovery-codes', elevated);
      assert.equal(second.status, 201);
      const cookie = await signIn(t, username);
      const old = await useCode(t, cookie, first[0]);
      assert.equal(old.status, 401);
      assert.equal((await state(t, cookie)).authentication_level, 1);
      const fresh = await useCode(t, cookie, second.body.data.codes[0]);
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    });
  });

  describe('using a code as the second factor', () => {
    it('raises a password session to level 2 under a new session ID, and follows the target', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      const cookie = await signIn(t, username);
      assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie })).status, 401);
      const res = await useCode(t, cookie, codes[3], { targetURL: 'https://secure.example.com/admin?x=1' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data.redirect, 'https://secure.example.com/admin?x=1');
      assert.equal(res.body.data.remaining, 9);
      const next = sessionCookieFrom(res);
      assert.ok(next && next !== cookie, 'a new session ID');
      assert.equal((await state(t, cookie)).authentication_level, 0, 'the old ID is gone');
      assert.equal((await state(t, next)).authentication_level, 2);
      assert.equal((await authRequest(t, 'https://secure.example.com/', { cookie: next })).status, 200);
      // Not a key use (docs/decisions.md): renaming or deleting keys still needs a key or the emailed check.
      assert.equal((await storedSession(t, next))?.data.secondFactorAt, undefined);
      assert.equal((await api(t, 'delete', '/api/webauthn/credentials/1', next)).status, 403);
    });

    it('a used code is refused the second time, even in another session', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      assert.equal((await useCode(t, await signIn(t, username), codes[0])).status, 200);
      const again = await signIn(t, username);
      const refused = await useCode(t, again, codes[0]);
      assert.equal(refused.status, 401);
      assert.match(refused.body.message, /not valid, or it was already used/);
      assert.equal((await state(t, again)).authentication_level, 1);
    });

    it('reads the code as typed: any case, spaces instead of dashes, look-alike letters', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      const typed = ` ${codes[1]!.toUpperCase().replaceAll('-', ' ').replaceAll('0', 'O').replaceAll('1', 'l')} `;
      assert.equal((await useCode(t, await signIn(t, username), typed)).status, 200);
    });

    it('two racing uses of one code: exactly one wins', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => signIn(t, username)));
      const answers = await Promise.all(sessions.map((cookie) => useCode(t, cookie, codes[2])));
      assert.deepEqual(answers.map((res) => res.status).sort(), [200, 401, 401, 401, 401]);
      const summary = await t.gatehouse.adapters.storage.findRecoveryCodeSet(username);
      assert.equal(summary?.remaining, 9);
    });

    it('mails the user with the count left, and logs the attempt (never the code)', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      const before = messagesTo(t, username).length;
      assert.equal((await useCode(t, await signIn(t, username), codes[5])).status, 200);
      const mails = messagesTo(t, username).slice(before);
      assert.equal(mails.length, 1);
      assert.match(mails[0]!.body, /A recovery code was used/);
      assert.match(mails[0]!.body, /You have 9 unused recovery codes left/);
      assert.equal(mails[0]!.body.includes(codes[5]!), false);
      const [last] = await attempts(t, username);
      assert.equal(last?.authType, 'RECOVERY_CODE');
      assert.equal(last?.successful, true);
    });

    it('wrong codes count toward regulation: after three, even the right code is refused (and not spent)', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      const cookie = await signIn(t, username);
      for (let i = 0; i < 3; i += 1) {
        const wrong = generateRecoveryCodes().codes[0];
        assert.equal((await useCode(t, cookie, wrong)).status, 401);
      }
      const banned = await useCode(t, cookie, codes[0]);
      assert.equal(banned.status, 401);
      assert.equal((await state(t, cookie)).authentication_level, 1);
      const [last] = await attempts(t, username);
      assert.equal(last?.authType, 'RECOVERY_CODE');
      assert.equal(last?.banned, true);
      assert.equal((await t.gatehouse.adapters.storage.findRecoveryCodeSet(username))?.remaining, 10);
      // The ban is the user's: the password is refused too.
      assert.equal((await firstFactor(t, { username, password: 'correct horse battery staple' })).status, 401);
    });

    it('a malformed code is said at once and counts nothing', async () => {
      const username = nextUser();
      await userWithCodes(t, username);
      const cookie = await signIn(t, username);
      const before = (await attempts(t, username)).length;
      const res = await useCode(t, cookie, 'abcd-efgh');
      assert.equal(res.status, 400);
      assert.match(res.body.message, /12 letters and digits/);
      assert.equal((await attempts(t, username)).length, before);
    });

    it('refuses bodies that are not a code: missing, not a string, too long, not an object (400, never a 500)', async () => {
      const cookie = await signIn(t, nextUser());
      for (const body of [{}, { code: 42 }, { code: ['a'] }, { code: 'a'.repeat(65) }, '[]', '"code"', 'null']) {
        const res = await api(t, 'post', '/api/recovery-codes/use', cookie, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, 'KO');
      }
    });

    it('needs a password session: anonymous 401, cross-site refused, already two factors 400 (nothing spent)', async () => {
      const username = nextUser();
      const { codes } = await userWithCodes(t, username);
      assert.equal((await useCode(t, undefined, codes[0])).status, 401);
      const cookie = await signIn(t, username);
      const crossSite = await api(t, 'post', '/api/recovery-codes/use', cookie, { code: codes[0] }).set(
        'Origin',
        'https://evil.example.net',
      );
      assert.equal(crossSite.status, 403);
      const level2 = await sessionWithLevel2(t, username);
      const twice = await useCode(t, level2, codes[0]);
      assert.equal(twice.status, 400);
      assert.equal((await t.gatehouse.adapters.storage.findRecoveryCodeSet(username))?.remaining, 10);
    });

    it('after a passkey, the password is the next step: a recovery code is refused there', async () => {
      const username = nextUser();
      const elevated = await elevatedSession(t, username);
      const credential = await enrol(t, elevated, 'Passkey', { discoverable: true });
      const codes = (await api(t, 'post', '/api/recovery-codes', elevated)).body.data.codes as string[];
      const { res, cookie } = await passkeySignIn(t, credential);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const next = sessionCookieFrom(res) ?? cookie;
      const refused = await useCode(t, next, codes[0]);
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /enter your password/);
    });
  });
});

/** A level-2 session whose key was just used (made through the session service, as the key path leaves it). */
async function sessionWithLevel2(t: TestGatehouse, username: string): Promise<string> {
  const cookie = t.loaded.cookies.find((c) => c.domain === 'example.com')!;
  const user = t.gatehouse.adapters.users.get(username)!;
  const session = await t.gatehouse.services.sessions.create(
    {
      username,
      displayName: user.displayName,
      emails: user.emails,
      groups: user.groups,
      level: 2,
      rememberMe: false,
      secondFactorAt: Date.now(),
    },
    cookie,
  );
  return `${cookie.name}=${session.id}`;
}

describe('recovery codes in storage (embedded PGlite and PostgreSQL alike)', () => {
  for (const storage of ['embedded', 'postgres'] as const) {
    describe(storage, () => {
      let t: TestGatehouse;
      beforeAll(async () => {
        t = await startGatehouse({ storage, sessions: 'memory' });
      });
      afterAll(async () => t.close());

      it('replaces a set atomically, even when two are made at once; uses a code once, even when raced', async () => {
        const store = t.gatehouse.adapters.storage;
        const sets = [generateRecoveryCodes(), generateRecoveryCodes()];
        const ids = await Promise.all(
          sets.map((set) => store.replaceRecoveryCodes({ username: 'harry', createdAt: new Date(), ...set })),
        );
        const current = await store.findRecoveryCodeSet('harry');
        assert.ok(current && ids.includes(current.id));
        assert.equal(current.remaining, 10);
        const winner = sets[ids.indexOf(current.id)]!;
        const hash = winner.hashes[0]!;
        const uses = await Promise.all(
          [1, 2, 3, 4].map(() => store.useRecoveryCode(current.id, hash, new Date(), '192.0.2.1')),
        );
        assert.deepEqual(uses.filter(Boolean), [true]);
        assert.equal((await store.findRecoveryCodeSet('harry'))?.remaining, 9);
        // A hash from the other (voided) set, or for a set that is gone, is nothing.
        const loser = sets[1 - ids.indexOf(current.id)]!;
        assert.equal(await store.useRecoveryCode(current.id, loser.hashes[1]!, new Date(), ''), false);
        await store.replaceRecoveryCodes({ username: 'harry', createdAt: new Date(), ...generateRecoveryCodes() });
        assert.equal(await store.useRecoveryCode(current.id, winner.hashes[1]!, new Date(), ''), false);
        assert.equal(await store.findRecoveryCodeSet('nobody'), undefined);
      });
    });
  }
});

describe('recovery code events in the log (never a code)', () => {
  let t: TestGatehouse;
  let text = '';
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  beforeAll(async () => {
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    t = await startGatehouse({ users: testUsers(2), logger: createLogger({ level: 'info', format: 'json' }, out) });
  });
  afterAll(async () => t.close());

  it('logs the set made, a failed and a passed second factor with method recovery_code, in the fixed field order', async () => {
    const { codes } = await userWithCodes(t, 'user01');
    const cookie = await signIn(t, 'user01');
    const wrong = generateRecoveryCodes().codes[0]!;
    assert.equal((await useCode(t, cookie, wrong)).status, 401);
    assert.equal((await useCode(t, cookie, codes[0])).status, 200);
    const events = lines().filter((line) => line.event !== undefined);
    const made = events.find((line) => line.event === 'recovery_codes_generated');
    assert.equal(made?.user, 'user01');
    assert.equal(made?.count, 10);
    const attempts = events.filter((line) => line.event === 'second_factor' && line.method === 'recovery_code');
    assert.deepEqual(
      attempts.map((line) => [line.outcome, line.reason]),
      [
        ['failure', 'wrong_code'],
        ['success', undefined],
      ],
    );
    // fail2ban matches event, outcome and remote_ip as the first fields.
    const keys = Object.keys(attempts[0]!).filter((key) => ['event', 'outcome', 'remote_ip'].includes(key));
    assert.deepEqual(keys, ['event', 'outcome', 'remote_ip']);
    for (const code of [...codes, wrong]) {
      assert.equal(text.includes(code), false);
      assert.equal(text.includes(code.replaceAll('-', '').toUpperCase()), false);
    }
  });
});
