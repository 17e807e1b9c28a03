// Sign-in events for security keys (issue 8): a key added and removed, the second factor passed and failed, passkey
// sign-ins, and both ways of signing out, each one info line through the real logger of a real Gatehouse.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observability/logger.js';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { makeCredential } from '../../helpers/soft-authenticator.js';
import {
  api,
  elevatedSession,
  enrol,
  passkeySignIn,
  RP_ID,
  secondFactor,
  storedKeys,
  testUsers,
} from '../webauthn/support.js';

type Line = Record<string, unknown>;

describe('security-key events', () => {
  let t: TestGatehouse;
  let text = '';
  const events = (): Line[] =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.event !== undefined);
  const last = (event: string) =>
    events()
      .filter((e) => e.event === event)
      .at(-1);

  beforeAll(async () => {
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    t = await startGatehouse({
      users: testUsers(4),
      logger: createLogger({ level: 'info', format: 'json' }, out),
      config: { webauthn: { enable_passkey_login: true } },
    });
  });
  afterAll(() => t.close());

  it('adding a key, passing and failing the second factor, and removing the key are each logged once', async () => {
    const username = 'user01';
    const credential = await enrol(t, await elevatedSession(t, username), 'Blue key', { discoverable: true });
    assert.deepEqual(last('webauthn_key_added'), {
      ...last('webauthn_key_added'),
      outcome: 'success',
      remote_ip: '127.0.0.1',
      user: username,
      description: 'Blue key',
      msg: 'security key added',
    });

    const failed = await secondFactor(t, await signIn(t, username), makeCredential(RP_ID));
    assert.equal(failed.status, 401);
    assert.deepEqual(last('second_factor'), {
      ...last('second_factor'),
      outcome: 'failure',
      method: 'webauthn',
      user: username,
      reason: 'unknown_key',
      msg: 'second factor failed',
    });

    const passed = await secondFactor(t, await signIn(t, username), credential);
    assert.equal(passed.status, 200);
    assert.deepEqual(last('second_factor'), {
      ...last('second_factor'),
      outcome: 'success',
      method: 'webauthn',
      user: username,
      msg: 'second factor passed',
    });
    assert.equal(last('second_factor')!.reason, undefined);

    const cookie = sessionCookieFrom(passed)!;
    const [key] = await storedKeys(t, username);
    assert.equal((await api(t, 'delete', `/api/webauthn/credentials/${key!.id}`, cookie)).status, 200);
    assert.deepEqual(last('webauthn_key_removed'), {
      ...last('webauthn_key_removed'),
      user: username,
      credential_id: key!.id,
      msg: 'security key removed',
    });
  });

  it('passkey sign-ins are first-factor events with method passkey; an unknown key names no user', async () => {
    const username = 'user02';
    const credential = await enrol(t, await elevatedSession(t, username), 'Passkey', {
      discoverable: true,
      flags: { be: true, bs: true },
    });
    assert.equal((await passkeySignIn(t, credential)).res.status, 200);
    assert.deepEqual(last('first_factor'), {
      ...last('first_factor'),
      outcome: 'success',
      method: 'passkey',
      user: username,
      msg: 'sign-in succeeded',
    });
    assert.equal((await passkeySignIn(t, makeCredential(RP_ID))).res.status, 401);
    const failure: Line = last('first_factor')!;
    assert.deepEqual(failure, { ...failure, outcome: 'failure', method: 'passkey', reason: 'unknown_key' });
    assert.ok(!Object.hasOwn(failure, 'user'));
  });

  it('signing out (the API and GET /logout) is logged with the user; an anonymous sign-out is not', async () => {
    const username = 'user03';
    const before = events().filter((e) => e.event === 'sign_out').length;
    assert.equal((await api(t, 'post', '/api/logout', await signIn(t, username), {})).status, 200);
    assert.equal((await api(t, 'get', '/logout', await signIn(t, username))).status, 302);
    assert.equal((await api(t, 'get', '/logout')).status, 302);
    const signOuts = events()
      .filter((e) => e.event === 'sign_out')
      .slice(before);
    assert.deepEqual(
      signOuts.map((e) => [e.user, e.remote_ip, e.msg]),
      [
        [username, '127.0.0.1', 'signed out'],
        [username, '127.0.0.1', 'signed out'],
      ],
    );
  });
});
