// The security emails (a key added or removed, recovery codes made or used) link to the settings page under the
// portal URL's own path: a portal a proxy serves under a prefix (https://auth.example.com/gate/) gets
// /gate/settings, never the host's /settings.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { signIn } from '../../helpers/flows.js';
import { extractLink } from '../../helpers/mail.js';
import { api, elevatedSession, enrol, messagesTo, storedKeys, testUsers } from './support.js';

const SETTINGS = 'https://auth.example.com/gate/settings';

/** The newest message to `username`, checked by subject; its settings link. */
function settingsLinkOfLast(t: TestGatehouse, username: string, subject: string): string {
  const mail = messagesTo(t, username).at(-1);
  assert.ok(mail, `no email to ${username}`);
  assert.equal(mail.subject, `[Gatehouse] ${subject}`);
  return extractLink(mail.body, '/settings');
}

describe('security emails for a portal served under a path prefix', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({
      users: testUsers(2),
      config: { session: { cookies: [{ domain: 'example.com', authelia_url: 'https://auth.example.com/gate/' }] } },
    });
  });
  afterAll(async () => t.close());

  it('a key added and a key removed link to <prefix>/settings', async () => {
    const username = 'user01';
    const cookie = await elevatedSession(t, username);
    await enrol(t, cookie, 'Kept');
    await enrol(t, cookie, 'Doomed');
    assert.equal(settingsLinkOfLast(t, username, 'A security key was added'), SETTINGS);
    const doomed = (await storedKeys(t, username)).find((key) => key.description === 'Doomed');
    assert.ok(doomed);
    const removed = await api(t, 'delete', `/api/webauthn/credentials/${doomed.id}`, cookie);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(settingsLinkOfLast(t, username, 'A security key was removed'), SETTINGS);
  });

  it('recovery codes made and a code used link to <prefix>/settings', async () => {
    const username = 'user02';
    const elevated = await elevatedSession(t, username);
    await enrol(t, elevated, 'First key');
    const made = await api(t, 'post', '/api/recovery-codes', elevated);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(settingsLinkOfLast(t, username, 'New recovery codes were made'), SETTINGS);
    const cookie = await signIn(t, username);
    const used = await api(t, 'post', '/api/recovery-codes/use', cookie, { code: made.body.data.codes[0] });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(settingsLinkOfLast(t, username, 'A recovery code was used'), SETTINGS);
  });
});
