import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { escapeHtml, html } from '../../../src/text/html.js';
import { linkTarget, renderMessage, renderSignIn, renderSignedIn } from '../../../views/pages.js';
import { HOSTILE, attributesOf, elements, textOf } from './markup.js';

// dist/test/unit/portal/ -> repository root
const staticDir = fileURLToPath(new URL('../../../../views/assets/', import.meta.url));

const buttonTexts = (doc: string): string[] => [
  ...elements(doc, 'button').map((b) => b.text),
  ...elements(doc, 'a')
    .filter((a) => (a.attrs.class ?? '').split(' ').includes('button'))
    .map((a) => a.text),
];

/** The visible label text of the control with this name. */
function labelFor(doc: string, name: string): string | undefined {
  const input = elements(doc, 'input').find((i) => i.attrs.name === name);
  if (!input?.attrs.id) return undefined;
  return elements(doc, 'label').find((l) => l.attrs.for === input.attrs.id)?.text;
}

const signInDefaults = { rememberMeEnabled: true, passkeyEnabled: true };

const PAGES: Array<{ name: string; doc: string }> = [
  {
    name: 'sign-in, everything on',
    doc: renderSignIn({
      ...signInDefaults,
      rd: 'https://app.example.com/',
      rm: 'GET',
      username: 'alice',
      notice: 'You have been signed out.',
    }),
  },
  { name: 'sign-in, minimal', doc: renderSignIn({ rememberMeEnabled: false, passkeyEnabled: false }) },
  {
    name: 'signed in',
    doc: renderSignedIn({
      displayName: 'Alice Doe',
      username: 'alice',
      level: 2,
      continueUrl: 'https://app.example.com/',
      logoutUrl: '/logout',
      settingsUrl: '/settings',
    }),
  },
  {
    name: 'message, error',
    doc: renderMessage({
      title: 'Link expired',
      message: 'Ask for a new link.',
      status: 'error',
      actionUrl: '/',
      actionLabel: 'Back to sign-in',
    }),
  },
  {
    name: 'message, info',
    doc: renderMessage({ title: 'Check your email', message: 'We sent you a link.', status: 'info' }),
  },
];

describe('html template: every interpolated value is escaped', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('escapes strings and numbers but keeps markup made by html itself', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`<p>${inner}${42}</p>`.toString(), '<p><b>&lt;i&gt;</b>42</p>');
  });

  it('renders nothing for null, undefined and false, and joins arrays', () => {
    assert.equal(html`[${null}${undefined}${false}]`.toString(), '[]');
    assert.equal(html`${['<', html`<br>`]}`.toString(), '&lt;<br>');
  });

  it('an object that merely looks like safe markup is escaped', () => {
    const forged = { text: '<script>', toString: () => '<script>' } as unknown as string;
    assert.equal(html`${forged}`.toString(), '&lt;script&gt;');
  });
});

describe('SPEC §5: hostile values never become markup', () => {
  const cases: Array<{ name: string; doc: string }> = [
    { name: 'rd and rm on the sign-in page', doc: renderSignIn({ ...signInDefaults, rd: HOSTILE, rm: HOSTILE }) },
    { name: 'a pre-filled username', doc: renderSignIn({ ...signInDefaults, username: HOSTILE }) },
    { name: 'a notice', doc: renderSignIn({ ...signInDefaults, notice: HOSTILE }) },
    {
      name: 'a display name and username',
      doc: renderSignedIn({ displayName: HOSTILE, username: HOSTILE, level: 1, logoutUrl: '/logout' }),
    },
    {
      name: 'a message page',
      doc: renderMessage({ title: HOSTILE, message: HOSTILE, status: 'error', actionUrl: '/', actionLabel: HOSTILE }),
    },
  ];
  for (const { name, doc } of cases) {
    it(`${name} are escaped`, () => {
      assert.ok(!doc.includes('<script>alert'), 'no injected script element');
      assert.ok(doc.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    });
  }

  it('a hostile rd stays inside the value of its hidden input', () => {
    const doc = renderSignIn({ ...signInDefaults, rd: HOSTILE });
    const rd = elements(doc, 'input').find((i) => i.attrs.name === 'rd');
    assert.equal(rd?.attrs.type, 'hidden');
    assert.equal(rd?.attrs.value, '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  const links: Array<[string, string | undefined]> = [
    ['https://app.example.com/a?b=c', 'https://app.example.com/a?b=c'],
    ['http://localhost:8080/', 'http://localhost:8080/'],
    ['/settings', '/settings'],
    ['javascript:alert(1)', undefined],
    ['JaVaScRiPt:alert(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['//evil.example/', undefined],
    ['/\\evil.example/', undefined],
    ['not a url', undefined],
    ['', undefined],
  ];
  for (const [url, expected] of links) {
    it(`link target ${JSON.stringify(url)} is ${expected === undefined ? 'dropped' : 'kept'}`, () => {
      assert.equal(linkTarget(url), expected);
    });
  }

  it('a link the page cannot trust is left out, and sign-out falls back to /logout', () => {
    const doc = renderSignedIn({
      displayName: 'A',
      username: 'a',
      level: 1,
      continueUrl: 'javascript:alert(1)',
      logoutUrl: 'javascript:alert(2)',
      settingsUrl: '//evil.example/',
    });
    assert.ok(!doc.includes('javascript:'));
    assert.ok(!doc.includes('evil.example'));
    assert.deepEqual(buttonTexts(doc), ['Sign out']);
    assert.equal(elements(doc, 'a').find((a) => a.text === 'Sign out')?.attrs.href, '/logout');
  });
});

describe('SPEC §5: every page is a complete document that works under the portal CSP', () => {
  for (const { name, doc } of PAGES) {
    it(`${name}: doctype, English, phone viewport, "… · Gatehouse" title, stylesheet`, () => {
      assert.match(doc, /^<!doctype html>\n<html lang="en">/);
      assert.match(doc, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.match(doc, /<title>[^<]+ · Gatehouse<\/title>/);
      assert.match(doc, /<link rel="stylesheet" href="\/static\/gatehouse.css">/);
    });

    it(`${name}: no inline script, no style attribute, no event handler attribute`, () => {
      for (const script of doc.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
        assert.ok(attributesOf(script[1] ?? '').src, 'every script has a src');
        assert.equal(script[2], '', 'and no body');
      }
      assert.doesNotMatch(doc, /<style\b/i);
      assert.doesNotMatch(doc, /\sstyle\s*=/i);
      assert.doesNotMatch(doc, /\son[a-z]+\s*=/i);
      assert.doesNotMatch(doc, /javascript:/i);
    });

    it(`${name}: every visible control has a label and every button says what it does`, () => {
      for (const input of elements(doc, 'input').filter((i) => i.attrs.type !== 'hidden')) {
        assert.ok(input.attrs.name && labelFor(doc, input.attrs.name), `input ${input.attrs.name} is labelled`);
      }
      for (const text of buttonTexts(doc)) assert.notEqual(text, '');
    });

    it(`${name}: every /static/ asset it refers to exists`, () => {
      for (const m of doc.matchAll(/(?:src|href)="\/static\/([^"]+)"/g)) {
        assert.ok(existsSync(staticDir + m[1]), `views/assets/${m[1]}`);
      }
    });
  }
});

describe('SPEC §5: the sign-in page', () => {
  const full = renderSignIn({ ...signInDefaults, rd: 'https://app.example.com/x?y=1&z=2', rm: 'POST' });
  const bare = renderSignIn({ rememberMeEnabled: false, passkeyEnabled: false });

  it('has the heading, the labelled username and password fields and the "Sign in" button', () => {
    assert.equal(elements(full, 'h1')[0]?.text, 'Sign in');
    assert.equal(labelFor(full, 'username'), 'Username');
    assert.equal(labelFor(full, 'password'), 'Password');
    const inputs = elements(full, 'input');
    assert.equal(inputs.find((i) => i.attrs.name === 'username')?.attrs.autocomplete, 'username webauthn');
    const password = inputs.find((i) => i.attrs.name === 'password');
    assert.equal(password?.attrs.type, 'password');
    assert.equal(password?.attrs.autocomplete, 'current-password');
    assert.ok(elements(full, 'button').some((b) => b.attrs.type === 'submit' && b.text === 'Sign in'));
  });

  it('the form is #sign-in, posts rather than putting a password in a URL, and loads its module script', () => {
    const form = elements(full, 'form')[0];
    assert.equal(form?.attrs.id, 'sign-in');
    assert.equal(form?.attrs.method, 'post');
    assert.match(full, /<script type="module" src="\/static\/sign-in.js"><\/script>/);
  });

  it('offers "Remember me" (named keepMeLoggedIn) only when enabled', () => {
    assert.equal(labelFor(full, 'keepMeLoggedIn'), 'Remember me');
    assert.equal(elements(full, 'input').find((i) => i.attrs.name === 'keepMeLoggedIn')?.attrs.type, 'checkbox');
    assert.ok(!bare.includes('Remember me'));
    assert.ok(!bare.includes('keepMeLoggedIn'));
  });

  it('offers "Sign in with a passkey" (#passkey-sign-in) only when enabled, with the no-WebAuthn note ready', () => {
    const passkey = elements(full, 'button').find((b) => b.attrs.id === 'passkey-sign-in');
    assert.equal(passkey?.text, 'Sign in with a passkey');
    assert.equal(passkey?.attrs.type, 'button');
    assert.match(full, /<p id="webauthn-unsupported"[^>]* hidden>This browser cannot use security keys.<\/p>/);
    assert.ok(!bare.includes('passkey'));
  });

  it('carries rd and rm as hidden inputs, and leaves them out when absent', () => {
    const inputs = elements(full, 'input');
    assert.equal(inputs.find((i) => i.attrs.name === 'rd')?.attrs.value, 'https://app.example.com/x?y=1&amp;z=2');
    assert.equal(inputs.find((i) => i.attrs.name === 'rm')?.attrs.value, 'POST');
    assert.ok(!elements(bare, 'input').some((i) => i.attrs.name === 'rd' || i.attrs.name === 'rm'));
  });

  it('has a polite live region for errors', () => {
    const region = elements(full, 'div').find((d) => d.attrs.id === 'sign-in-status');
    assert.equal(region?.attrs['aria-live'], 'polite');
    assert.equal(region?.text, '');
  });

  it('pre-fills a known username and then focuses the password', () => {
    const doc = renderSignIn({ ...signInDefaults, username: 'alice' });
    const inputs = elements(doc, 'input');
    assert.equal(inputs.find((i) => i.attrs.name === 'username')?.attrs.value, 'alice');
    assert.ok('autofocus' in (inputs.find((i) => i.attrs.name === 'password')?.attrs ?? {}));
    assert.ok('autofocus' in (elements(bare, 'input').find((i) => i.attrs.name === 'username')?.attrs ?? {}));
  });

  it('shows a notice when given', () => {
    assert.ok(
      renderSignIn({ ...signInDefaults, notice: 'You have been signed out.' }).includes(
        '>You have been signed out.</p>',
      ),
    );
  });
});

describe('SPEC §5: the signed-in page', () => {
  const levels: Array<[0 | 1 | 2, string]> = [
    [1, 'password'],
    [2, 'password and security key'],
  ];
  for (const [level, words] of levels) {
    it(`level ${level} reads "${words}"`, () => {
      const doc = renderSignedIn({ displayName: 'Alice Doe', username: 'alice', level, logoutUrl: '/logout' });
      assert.equal(elements(doc, 'dd')[0]?.text, words);
    });
  }

  it('says who is signed in and offers Continue, Security keys and Sign out', () => {
    const doc = renderSignedIn({
      displayName: 'Alice Doe',
      username: 'alice',
      level: 1,
      continueUrl: 'https://app.example.com/',
      logoutUrl: '/logout?rd=https%3A%2F%2Fapp.example.com%2F',
      settingsUrl: '/settings',
    });
    assert.ok(textOf(doc).includes('Signed in as Alice Doe (alice)'));
    const links = elements(doc, 'a');
    assert.equal(links.find((a) => a.text === 'Continue')?.attrs.href, 'https://app.example.com/');
    assert.equal(links.find((a) => a.text === 'Security keys')?.attrs.href, '/settings');
    assert.equal(links.find((a) => a.text === 'Sign out')?.attrs.href, '/logout?rd=https%3A%2F%2Fapp.example.com%2F');
  });

  it('leaves out Continue and Security keys when not given', () => {
    const doc = renderSignedIn({ displayName: 'Alice Doe', username: 'alice', level: 1, logoutUrl: '/logout' });
    assert.deepEqual(buttonTexts(doc), ['Sign out']);
  });
});

describe('SPEC §5: the message page', () => {
  it('shows the title, the message and the action', () => {
    const doc = renderMessage({
      title: 'Link expired',
      message: 'Ask for a new link.',
      status: 'error',
      actionUrl: '/',
      actionLabel: 'Back to sign-in',
    });
    assert.match(doc, /<title>Link expired · Gatehouse<\/title>/);
    assert.equal(elements(doc, 'h1')[0]?.text, 'Link expired');
    assert.ok(doc.includes('Ask for a new link.'));
    assert.equal(elements(doc, 'a').find((a) => a.text === 'Back to sign-in')?.attrs.href, '/');
    assert.ok(doc.includes('class="badge error"'));
  });

  it('shows a second, less prominent action after the first (e.g. "Go back")', () => {
    const doc = renderMessage({
      title: 'Access denied',
      message: 'No.',
      status: 'error',
      actionUrl: '/logout?rd=x',
      actionLabel: 'Sign in as someone else',
      secondaryUrl: 'javascript:alert(1)',
      secondaryLabel: 'Go back',
    });
    assert.deepEqual(
      elements(doc, 'a').map((l) => [l.text, l.attrs.class]),
      [['Sign in as someone else', 'button primary']],
      'an unsafe second link is left out',
    );
    const both = renderMessage({
      title: 'Access denied',
      message: 'No.',
      status: 'error',
      actionUrl: '/logout?rd=x',
      actionLabel: 'Sign in as someone else',
      secondaryUrl: '/',
      secondaryLabel: 'Go back',
    });
    assert.deepEqual(
      elements(both, 'a').map((l) => [l.text, l.attrs.href, l.attrs.class]),
      [
        ['Sign in as someone else', '/logout?rd=x', 'button primary'],
        ['Go back', '/', 'button secondary'],
      ],
    );
  });

  it('shows no action without a URL, and marks the info style', () => {
    const doc = renderMessage({
      title: 'Check your email',
      message: 'We sent you a link.',
      status: 'info',
      actionLabel: 'Go',
    });
    assert.deepEqual(buttonTexts(doc), []);
    assert.ok(doc.includes('class="badge info"'));
  });
});

describe('SPEC §5: the sign-in script', () => {
  const script = readFileSync(`${staticDir}sign-in.js`, 'utf8');

  it('is valid JavaScript', () => {
    const check = spawnSync(process.execPath, ['--check', `${staticDir}sign-in.js`], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  it('never writes HTML into the page (text goes in through textContent or value only)', () => {
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('posts JSON to /api/firstfactor with the fields SPEC §6 names', () => {
    assert.ok(script.includes("'/api/firstfactor'"));
    assert.ok(script.includes("'Content-Type': 'application/json'"));
    for (const key of ['username', 'password', 'keepMeLoggedIn', 'targetURL', 'requestMethod'])
      assert.ok(script.includes(`${key}:`), key);
  });
});
