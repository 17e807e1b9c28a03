// SPEC §5: the security-key pages (second factor, settings, "Confirm your identity") and their scripts.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  renderConfirmIdentity,
  renderConfirmOnly,
  renderLinkProblem,
  renderSecondFactor,
  renderSettings,
  securityKeyView,
  type SecurityKeyView,
} from '../../../views/security-keys.js';
import type { WebAuthnCredential } from '../../../src/storage/storage.js';
import { HOSTILE, elements, textOf } from './markup.js';

// dist/test/unit/portal/ -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const staticDir = `${root}views/assets/`;
const vendorDir = `${root}node_modules/@simplewebauthn/browser/esm/`;

const ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;';
const USER = { displayName: 'John Doe', username: 'john' };
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqb2huIn0.c2lnbmF0dXJl';
const buttons = (doc: string) => elements(doc, 'button').map((b) => b.text);
const links = (doc: string) => elements(doc, 'a').map((a) => ({ text: a.text, href: a.attrs.href }));
function labelOf(doc: string, inputId: string): string | undefined {
  return elements(doc, 'label').find((l) => l.attrs.for === inputId)?.text;
}

function key(overrides: Partial<SecurityKeyView> = {}): SecurityKeyView {
  return {
    id: 7,
    name: 'Blue key',
    createdAt: new Date('2025-03-01T10:00:00Z'),
    lastUsedAt: new Date('2025-03-02T08:30:00Z'),
    u2f: false,
    passkey: false,
    cloneWarning: false,
    ...overrides,
  };
}

function credential(overrides: Partial<WebAuthnCredential> = {}): WebAuthnCredential {
  return {
    id: 3,
    createdAt: new Date('2025-03-01T10:00:00Z'),
    lastUsedAt: null,
    rpid: 'auth.example.com',
    username: 'john',
    description: 'Blue key',
    kid: 'a2lk',
    aaguid: null,
    attestationType: 'packed',
    attachment: 'cross-platform',
    transports: ['usb'],
    signCount: 0,
    cloneWarning: false,
    discoverable: false,
    present: true,
    verified: true,
    backupEligible: false,
    backupState: false,
    publicKey: new Uint8Array(),
    attestation: null,
    legacyU2fAppid: null,
    ...overrides,
  };
}

const PAGES: Array<{ name: string; doc: string; script: string }> = [
  {
    name: 'second factor with keys',
    doc: renderSecondFactor({ ...USER, hasKeys: true, rd: 'https://secure.example.com/', rm: 'GET' }),
    script: 'second-factor.js',
  },
  {
    name: 'second factor without keys',
    doc: renderSecondFactor({ ...USER, hasKeys: false }),
    script: 'second-factor.js',
  },
  {
    name: 'settings',
    doc: renderSettings({ ...USER, keys: [key(), key({ id: 8, name: 'Travel key', u2f: true, lastUsedAt: null })] }),
    script: 'settings.js',
  },
  { name: 'settings without keys', doc: renderSettings({ ...USER, keys: [] }), script: 'settings.js' },
  { name: 'confirm identity', doc: renderConfirmIdentity({ ...USER, token: TOKEN }), script: 'register.js' },
];

describe('SPEC §5: the security-key pages work under the portal CSP and are accessible', () => {
  for (const { name, doc, script } of PAGES) {
    it(`${name}: a complete document loading only its own module script`, () => {
      assert.match(doc, /^<!doctype html>\n<html lang="en">/);
      const scripts = elements(doc, 'script');
      assert.deepEqual(
        scripts.map((s) => [s.attrs.type, s.attrs.src, s.text]),
        [['module', `/static/${script}`, '']],
      );
    });

    it(`${name}: no inline style, no event handler attribute, no javascript: URL`, () => {
      assert.doesNotMatch(doc, /<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:/i);
    });

    it(`${name}: every visible input is labelled, every button says what it does`, () => {
      for (const input of elements(doc, 'input').filter((i) => i.attrs.type !== 'hidden')) {
        assert.ok(input.attrs.id && labelOf(doc, input.attrs.id), `input ${input.attrs.name} has a label`);
      }
      for (const text of buttons(doc)) assert.notEqual(text, '');
    });

    it(`${name}: every /static/ file it refers to exists`, () => {
      for (const m of doc.matchAll(/(?:src|href)="\/static\/([^"]+)"/g)) assert.ok(existsSync(staticDir + m[1]), m[1]);
    });

    it(`${name}: says so when the browser has no WebAuthn (hidden until the script finds out)`, () => {
      assert.match(
        doc,
        /<p id="webauthn-unsupported" class="callout error" hidden>This browser cannot use security keys.<\/p>/,
      );
    });
  }
});

describe('SPEC §5: the second-factor page', () => {
  it('with a key: "Use your security key" submits the form that carries rd and rm; "Sign out" is there', () => {
    const doc = renderSecondFactor({ ...USER, hasKeys: true, rd: 'https://secure.example.com/a?b=1&c=2', rm: 'POST' });
    assert.equal(elements(doc, 'h1')[0]?.text, 'Security key');
    const use = elements(doc, 'button').find((b) => b.text === 'Use your security key');
    assert.equal(use?.attrs.type, 'submit');
    const hidden = Object.fromEntries(
      elements(doc, 'input')
        .filter((i) => i.attrs.type === 'hidden')
        .map((i) => [i.attrs.name, i.attrs.value]),
    );
    assert.deepEqual(hidden, { rd: 'https://secure.example.com/a?b=1&amp;c=2', rm: 'POST' });
    assert.deepEqual(links(doc), [{ text: 'Sign out', href: '/logout' }]);
    assert.ok(textOf(doc).includes('Signed in as John Doe (john)'));
  });

  it('without a key: no "Use your security key", but "Register a security key"', () => {
    const doc = renderSecondFactor({ ...USER, hasKeys: false });
    assert.deepEqual(buttons(doc), ['Register a security key']);
    assert.ok(!elements(doc, 'input').some((i) => i.attrs.name === 'rd'), 'no rd input without a target');
  });

  it('escapes a hostile target, display name and username', () => {
    const doc = renderSecondFactor({
      displayName: HOSTILE,
      username: HOSTILE,
      hasKeys: true,
      rd: HOSTILE,
      rm: HOSTILE,
    });
    assert.ok(!doc.includes('<script>alert'));
    assert.equal(elements(doc, 'input').find((i) => i.attrs.name === 'rd')?.attrs.value, ESCAPED);
  });
});

describe('SPEC §5: the settings page', () => {
  it('lists each key with its name, dates, and Rename / Delete buttons tied to it', () => {
    const doc = renderSettings({ ...USER, keys: [key(), key({ id: 8, name: 'Travel key', lastUsedAt: null })] });
    assert.equal(elements(doc, 'h1')[0]?.text, 'Security keys');
    const items = elements(doc, 'li');
    assert.deepEqual(
      items.map((i) => i.attrs['data-id']),
      ['7', '8'],
    );
    assert.ok(items[0]?.text.includes('Added 1 Mar 2025 · last used 2 Mar 2025, 08:30 UTC'), items[0]?.text);
    assert.ok(items[1]?.text.includes('never used'));
    assert.match(doc, /<time datetime="2025-03-01T10:00:00.000Z" data-style="date">/);
    const rename = elements(doc, 'button').filter((b) => b.text === 'Rename');
    assert.deepEqual(
      rename.map((b) => b.attrs['aria-describedby']),
      ['key-7-name', 'key-8-name'],
    );
    assert.equal(
      elements(doc, 'button').filter((b) => b.text === 'Delete').length,
      4,
      'a Delete and its confirmation per key',
    );
  });

  it('renames in place: a labelled input holding the current name, limited to 64 characters', () => {
    const doc = renderSettings({ ...USER, keys: [key()] });
    const input = elements(doc, 'input').find((i) => i.attrs.id === 'key-7-new-name');
    assert.equal(input?.attrs.value, 'Blue key');
    assert.equal(input?.attrs.maxlength, '64');
    assert.equal(labelOf(doc, 'key-7-new-name'), 'New name');
    assert.ok('hidden' in (elements(doc, 'form').find((f) => f.attrs['data-part'] === 'rename')?.attrs ?? {}));
  });

  const kinds: Array<[string, Partial<SecurityKeyView>, string | undefined]> = [
    [
      'a known model by name',
      { model: 'YubiKey 5 Series', aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8' },
      'YubiKey 5 Series',
    ],
    [
      'an unknown model as the kind of authenticator, not as its AAGUID',
      { aaguid: '01020304-0506-0708-0102-030405060708', attachment: 'cross-platform' },
      'Security key',
    ],
    ['a built-in authenticator as one', { attachment: 'platform' }, 'Built into a device'],
    ['a U2F key as one', { u2f: true }, 'U2F security key'],
    ['a passkey with a tag', { passkey: true }, 'Passkey'],
    ['a possibly cloned key with a warning', { cloneWarning: true }, 'Possibly cloned'],
  ];
  for (const [what, overrides, expected] of kinds) {
    it(`shows ${what}`, () => {
      assert.ok(textOf(renderSettings({ ...USER, keys: [key(overrides)] })).includes(expected!));
    });
  }

  it('an unknown AAGUID is kept out of the text, in the tooltip only', () => {
    const doc = renderSettings({
      ...USER,
      keys: [key({ aaguid: '01020304-0506-0708-0102-030405060708', attachment: 'cross-platform' })],
    });
    assert.ok(!textOf(doc).includes('01020304'));
    assert.equal(
      elements(doc, 'span').find((s) => s.attrs.class === 'key-model')?.attrs.title,
      'Model identifier (AAGUID) 01020304-0506-0708-0102-030405060708',
    );
  });

  it('offers "Register a security key", the fresh-check panel (hidden) and the empty state only without keys', () => {
    const withKeys = renderSettings({ ...USER, keys: [key()] });
    const without = renderSettings({ ...USER, keys: [] });
    assert.ok(buttons(withKeys).includes('Register a security key'));
    assert.match(withKeys, /<div id="elevation-needed" class="callout info elevation" hidden>/);
    assert.match(withKeys, /<p class="empty" id="no-keys" hidden>/);
    assert.match(without, /<p class="empty" id="no-keys">You have no security keys yet/);
  });

  it('"Done" goes to the default redirection URL when it is a link the page can trust', () => {
    const done = (continueUrl?: string) =>
      links(renderSettings({ ...USER, keys: [], continueUrl })).find((l) => l.text === 'Done')?.href;
    assert.equal(done('https://www.example.com/'), 'https://www.example.com/');
    assert.equal(done(undefined), '/');
    assert.equal(done('javascript:alert(1)'), '/');
  });

  it('escapes a hostile key name everywhere it appears', () => {
    const doc = renderSettings({ ...USER, keys: [key({ name: HOSTILE })] });
    assert.ok(!doc.includes('<script>alert'));
    assert.equal(elements(doc, 'input').find((i) => i.attrs.name === 'description')?.attrs.value, ESCAPED);
  });
});

describe('SPEC §5: "Confirm your identity"', () => {
  const doc = renderConfirmIdentity({ ...USER, token: TOKEN });

  it('has the heading, a labelled name field (64 characters at most) and the Register button', () => {
    assert.equal(elements(doc, 'h1')[0]?.text, 'Confirm your identity');
    const name = elements(doc, 'input').find((i) => i.attrs.name === 'description');
    assert.equal(labelOf(doc, name?.attrs.id ?? ''), 'Name for the new key');
    assert.equal(name?.attrs.maxlength, '64');
    assert.equal(elements(doc, 'button').find((b) => b.text === 'Register')?.attrs.type, 'submit');
  });

  it('carries the token in a hidden input, escaped', () => {
    assert.equal(elements(doc, 'input').find((i) => i.attrs.name === 'token')?.attrs.value, TOKEN);
    const hostile = renderConfirmIdentity({ ...USER, token: HOSTILE });
    assert.ok(!hostile.includes('<script>alert'));
  });

  it('keeps the success actions hidden until the key is registered', () => {
    assert.match(doc, /<div id="registered" hidden>/);
    assert.deepEqual(
      links(doc).map((l) => l.text),
      ['Manage security keys', 'Continue', 'Cancel'],
    );
  });
});

describe('issue 8: the confirm-only link and links that cannot work', () => {
  it('confirm-only: no key name, no Register; a Confirm button (disabled until its script runs) and the return path', () => {
    const doc = renderConfirmOnly({ ...USER, token: TOKEN, then: '/settings?resume=delete&key=7' });
    assert.equal(elements(doc, 'h1')[0]?.text, 'Confirm your identity');
    assert.deepEqual(buttons(doc), ['Confirm and go back']);
    assert.ok('disabled' in elements(doc, 'button')[0]!.attrs);
    const hidden = Object.fromEntries(
      elements(doc, 'input')
        .filter((i) => i.attrs.type === 'hidden')
        .map((i) => [i.attrs.name, i.attrs.value]),
    );
    assert.deepEqual(hidden, { token: TOKEN, then: '/settings?resume=delete&amp;key=7' });
    assert.deepEqual(
      elements(doc, 'script').map((s) => s.attrs.src),
      ['/static/confirm-identity.js'],
    );
    assert.doesNotMatch(doc, /<style\b|\sstyle\s*=|\son[a-z]+\s*=/i);
    assert.ok(!renderConfirmOnly({ ...USER, token: HOSTILE, then: HOSTILE }).includes('<script>alert'));
  });

  for (const [problem, heading] of [
    ['used', 'This link was already used'],
    ['expired', 'This link has expired'],
    ['invalid', 'This link is not valid'],
  ] as const) {
    it(`${problem}: "${heading}" with "Email me a new link" as the primary action`, () => {
      const doc = renderLinkProblem({ problem, username: 'john', switchUserUrl: '/logout', returnTo: '/settings' });
      assert.equal(elements(doc, 'h1')[0]?.text, heading);
      const button = elements(doc, 'button')[0];
      assert.equal(button?.text, 'Email me a new link');
      assert.match(button?.attrs.class ?? '', /\bprimary\b/);
      assert.equal(button?.attrs['data-return-to'], '/settings');
      assert.deepEqual(
        elements(doc, 'script').map((s) => s.attrs.src),
        ['/static/link-problem.js'],
      );
    });
  }

  it('wrong user: names the signed-in user and offers "Sign in as someone else" first, escaped', () => {
    const doc = renderLinkProblem({
      problem: 'wrong_user',
      username: HOSTILE,
      switchUserUrl: '/logout?rd=https%3A%2F%2Fauth.example.com%2Fx',
    });
    assert.equal(elements(doc, 'h1')[0]?.text, 'This link is for another user');
    assert.deepEqual(links(doc)[0], {
      text: 'Sign in as someone else',
      href: '/logout?rd=https%3A%2F%2Fauth.example.com%2Fx',
    });
    assert.ok(!doc.includes('<script>alert'));
  });
});

describe('securityKeyView: what the settings page shows of a stored credential', () => {
  const cases: Array<[string, Partial<WebAuthnCredential>, Partial<SecurityKeyView>]> = [
    [
      'a known AAGUID names the model',
      { aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8' },
      { model: 'YubiKey 5 Series', aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8' },
    ],
    [
      'the all-zero AAGUID says nothing',
      { aaguid: '00000000-0000-0000-0000-000000000000' },
      { model: undefined, aaguid: undefined },
    ],
    ['fido-u2f attestation is a U2F key', { attestationType: 'fido-u2f' }, { u2f: true }],
    ['a migrated U2F key is a U2F key', { legacyU2fAppid: 'https://auth.example.com' }, { u2f: true }],
    ['a discoverable credential is a passkey', { discoverable: true }, { passkey: true }],
    ['the clone flag is kept', { cloneWarning: true }, { cloneWarning: true }],
  ];
  for (const [name, stored, expected] of cases) {
    it(name, () => {
      const view = securityKeyView(credential(stored));
      for (const [field, value] of Object.entries(expected))
        assert.deepEqual(view[field as keyof SecurityKeyView], value, field);
    });
  }

  it('keeps id, name and dates', () => {
    const view = securityKeyView(credential({ lastUsedAt: new Date(5) }));
    assert.deepEqual(
      [view.id, view.name, view.createdAt.toISOString(), view.lastUsedAt?.getTime()],
      [3, 'Blue key', '2025-03-01T10:00:00.000Z', 5],
    );
  });
});

describe("SPEC §5, issue item 7: the pages' scripts", () => {
  const SCRIPTS = [
    'webauthn-client.js',
    'second-factor.js',
    'settings.js',
    'register.js',
    'passkey.js',
    'sign-in.js',
    'confirm-identity.js',
    'link-problem.js',
    'recovery-codes.js',
    'recovery-sign-in.js',
  ];
  const source = (name: string) => readFileSync(staticDir + name, 'utf8');

  for (const name of SCRIPTS) {
    it(`${name} is valid JavaScript that never writes HTML into the page`, () => {
      const check = spawnSync(process.execPath, ['--check', staticDir + name], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
      assert.doesNotMatch(source(name), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    });

    it(`${name} imports only Gatehouse's own files (no CDN), by relative paths that exist`, () => {
      for (const m of source(name).matchAll(/(?:from\s+|import\()\s*'([^']+)'/g)) {
        const specifier = m[1]!;
        assert.match(specifier, /^\.\/[\w/.-]+\.js$/, specifier);
        const file = specifier.startsWith('./vendor/simplewebauthn/')
          ? vendorDir + specifier.slice('./vendor/simplewebauthn/'.length)
          : staticDir + specifier.slice(2);
        assert.ok(existsSync(file), `${specifier} -> ${file}`);
      }
    });
  }

  it('the vendored @simplewebauthn/browser ES modules import each other by relative .js paths only', () => {
    const walk = (dir: string): string[] =>
      spawnSync('find', [dir, '-name', '*.js'], { encoding: 'utf8' }).stdout.trim().split('\n');
    for (const file of walk(vendorDir)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n]*from\s+'([^']+)'/g)) {
        assert.match(m[1]!, /^\.\.?\/[\w/.-]+\.js$/, `${file}: ${m[1]}`);
      }
    }
  });

  it('the messages SPEC §5 asks for: no WebAuthn, and a cancelled or timed-out request', () => {
    const client = source('webauthn-client.js');
    assert.ok(client.includes("'This browser cannot use security keys.'"));
    assert.ok(client.includes("'The security key request was cancelled or timed out. Try again.'"));
    assert.match(client, /case 'NotAllowedError':/);
  });

  it('every WebAuthn call carries the target: targetURL and requestMethod from rd / rm', () => {
    assert.match(
      source('webauthn-client.js'),
      /'\/api\/webauthn\/authentication', \{ response: signed\.response, targetURL: rd, requestMethod: rm \}/,
    );
    assert.match(
      source('passkey.js'),
      /'\/api\/webauthn\/passkey', \{\s*response,\s*targetURL: target\.rd,\s*requestMethod: target\.rm,\s*keepMeLoggedIn,?\s*\}/,
    );
  });

  it('passkey autofill is aborted before the button starts its own request', () => {
    const passkey = source('passkey.js');
    assert.ok(
      passkey.indexOf('WebAuthnAbortService.cancelCeremony()') <
        passkey.indexOf('await passkeyOptions();\n  const picked'),
    );
    assert.match(passkey, /useBrowserAutofill: true/);
  });

  it('the password form lets a pending passkey options request finish first (its cookie would replace the signed-in one)', () => {
    const signIn = source('sign-in.js');
    assert.ok(
      signIn.indexOf('await quietPasskeys();') < signIn.indexOf("fetch('/api/firstfactor'") ||
        signIn.indexOf('await quietPasskeys();') < signIn.indexOf('reply = await postFirstFactor('),
    );
    assert.match(source('passkey.js'), /export function quiet\(\)/);
  });
});
