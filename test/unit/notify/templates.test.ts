// SPEC §7: the messages' content; both parts say the same, the text part has the link alone on a line, the HTML
// part escapes every value and loads nothing remote.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  describeDuration,
  describeTime,
  identityCheckMessage,
  keyAddedMessage,
  keyRemovedMessage,
  type MessageContent,
} from '../../../src/notify/templates.js';
import { subjectFor } from '../../../src/notify/notifier.js';

const AT = new Date('2030-05-03T14:05:00Z');
const LINK =
  'https://auth.example.com/webauthn/register?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqb2huIn0.c2lnbmF0dXJl&x=1';

const identity = () =>
  identityCheckMessage({
    username: 'john',
    displayName: 'John Doe',
    link: LINK,
    ip: '203.0.113.7',
    at: AT,
    validForSeconds: 300,
  });

function assertNoRemoteContent(message: MessageContent): void {
  assert.doesNotMatch(message.html, /<img|<script|<link|<iframe|url\(|src=/i);
}

describe('identity check message', () => {
  it('is titled "Confirm your identity"', () => {
    assert.equal(identity().title, 'Confirm your identity');
  });

  it('has the link alone on one line of the text part', () => {
    const lines = identity().text.split('\n');
    assert.equal(lines.filter((line) => line === LINK).length, 1);
    assert.equal(lines.filter((line) => line.includes('webauthn/register')).length, 1);
  });

  it('says who asked, from where, for how long, and what to do if it was not them', () => {
    const { text, html } = identity();
    for (const part of [text, html]) {
      assert.match(part, /John Doe/);
      assert.match(part, /“john”/);
      assert.match(part, /203\.0\.113\.7/);
      assert.match(part, /5 minutes/);
      assert.match(part, /3 May 2030 at 14:05 UTC/);
      assert.match(part, /until 3 May 2030 at 14:10 UTC/);
      assert.match(part, /If it wasn’t you, ignore this email/);
    }
  });

  it('puts the link in the HTML as a button and as visible text, escaped', () => {
    const { html } = identity();
    const escaped = LINK.replace(/&/g, '&amp;');
    assert.equal(html.split(`href="${escaped}"`).length - 1, 2);
    assert.ok(!html.includes(LINK), 'the raw & must be escaped');
    assertNoRemoteContent(identity());
  });

  it('escapes hostile names in the HTML and keeps them on one line in the text', () => {
    const message = identityCheckMessage({
      username: 'eve\nSubject: hi',
      displayName: '<script>alert(1)</script>\r\nX',
      link: LINK,
      ip: '::1',
      at: AT,
      validForSeconds: 60,
    });
    assert.ok(!message.html.includes('<script>'));
    assert.match(message.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.ok(message.text.split('\n').every((line) => !line.startsWith('Subject:') && line !== 'X'));
  });

  it('refuses a link that is not http(s)', () => {
    assert.throws(() =>
      identityCheckMessage({
        username: 'john',
        displayName: 'John',
        link: 'javascript:alert(1)',
        ip: '',
        at: AT,
        validForSeconds: 60,
      }),
    );
  });
});

describe('security key added / removed messages', () => {
  const cases = [
    { make: keyAddedMessage, title: 'A security key was added', verb: /was added to your Gatehouse account/ },
    { make: keyRemovedMessage, title: 'A security key was removed', verb: /was removed from your Gatehouse account/ },
  ];
  for (const { make, title, verb } of cases) {
    it(`"${title}" names the key, the time and the address`, () => {
      const message = make({
        username: 'john',
        displayName: 'John Doe',
        keyName: 'YubiKey <5>',
        ip: '198.51.100.4',
        at: AT,
        settingsUrl: 'https://auth.example.com/settings',
      });
      assert.equal(message.title, title);
      assert.match(message.text, verb);
      assert.match(message.text, /Key: YubiKey <5>/);
      assert.match(message.text, /3 May 2030 at 14:05 UTC/);
      assert.match(message.text, /198\.51\.100\.4/);
      assert.ok(message.text.split('\n').includes('https://auth.example.com/settings'));
      assert.match(message.html, /YubiKey &lt;5&gt;/);
      assertNoRemoteContent(message);
    });
  }

  it('keeps a multi-line key name on one line', () => {
    const message = keyAddedMessage({
      username: 'john',
      displayName: 'John',
      keyName: `a\n${'-'.repeat(72)}\nb`,
      ip: '',
      at: AT,
    });
    assert.ok(!message.text.split('\n').includes('-'.repeat(72)));
    assert.match(message.text, /From address: unknown/);
  });
});

describe('wording helpers', () => {
  const durations: [number, string][] = [
    [0, '0 seconds'],
    [1, '1 second'],
    [45, '45 seconds'],
    [60, '1 minute'],
    [300, '5 minutes'],
    [90, '1 minute 30 seconds'],
    [3600, '1 hour'],
    [5400, '1 hour 30 minutes'],
    [86_400 + 3_661, '1 day 1 hour'],
  ];
  for (const [seconds, words] of durations) {
    it(`${seconds}s reads "${words}"`, () => assert.equal(describeDuration(seconds), words));
  }

  it('gives times in UTC', () => {
    assert.equal(describeTime(new Date('2030-01-09T08:07:00Z')), '9 January 2030 at 08:07 UTC');
  });

  const subjects: [string, string, string][] = [
    ['[Gatehouse] {title}', 'Confirm your identity', '[Gatehouse] Confirm your identity'],
    ['{title}', 'A', 'A'],
    ['No title here', 'A', 'No title here'],
    ['{title} / {title}', '$& $1', '$& $1 / $& $1'],
  ];
  for (const [template, title, subject] of subjects) {
    it(`subject '${template}' with '${title}' is '${subject}'`, () =>
      assert.equal(subjectFor(template, title), subject));
  }
});
