// The security-key pages (SPEC §5): the second factor, the settings page that lists and manages the user's keys,
// and "Confirm your identity" behind the emailed link. The pages' scripts do the WebAuthn ceremonies; everything
// here is rendered through `html`, so key names and user details are escaped.
import type { WebAuthnCredential } from '../src/storage/storage.js';
import { authenticatorModel, UNKNOWN_AAGUID } from '../src/webauthn/aaguids.js';
import { DESCRIPTION_MAX_LENGTH } from '../src/webauthn/input.js';
import { html, type SafeHtml } from '../src/text/html.js';
import { renderDocument } from './layout.js';
import { icon } from './icons.js';
import { hiddenTarget, linkTarget, NO_WEBAUTHN } from './pages.js';
import { recoveryCodeForm, recoveryCodesSection, type RecoveryCodesView } from './recovery-codes.js';

export interface SignedInUser {
  displayName: string;
  username: string;
}

export interface SecondFactorPage extends SignedInUser {
  /** The target URL, already checked safe; carried to the API so the browser lands on it. */
  rd?: string;
  rm?: string;
  hasKeys: boolean;
  /** Why the key is asked for, when not for the first time (step-up: a rule's max_auth_age). */
  notice?: string;
  /** The user has unused recovery codes: "Use a recovery code instead" is offered (also with keys). */
  recoveryCodes?: boolean;
}

/** One key as the settings page shows it. */
export interface SecurityKeyView {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** The authenticator's model when its AAGUID is known, else undefined. */
  model?: string;
  /** The AAGUID when it says something (not absent, not all zeros). */
  aaguid?: string;
  /** Registered through the FIDO U2F protocol (no AAGUID, fido-u2f attestation). */
  u2f: boolean;
  /** How the browser reached it: `platform` (built into the device) or `cross-platform` (a key); else unknown. */
  attachment?: string;
  /** A discoverable credential: it can sign in without a username (a passkey). */
  passkey: boolean;
  /** Its sign counter went back once: it may have been copied. */
  cloneWarning: boolean;
}

export interface SettingsPage extends SignedInUser {
  keys: readonly SecurityKeyView[];
  /** Where "Done" leads (the default redirection URL), else the portal's start page. */
  continueUrl?: string;
  /** The recovery codes section (issue 11), when the page shows it. */
  recovery?: RecoveryCodesView;
}

export interface ConfirmIdentityPage extends SignedInUser {
  /** The emailed token, already checked to be JWT-shaped. */
  token: string;
}

const ICONS = {
  key: icon('key'),
  keyBadge: icon('key', 'badge-icon'),
  keyTile: icon('key', 'key-tile-icon'),
  shield: icon('shield', 'badge-icon'),
  plus: icon('plus'),
  mail: icon('mail'),
};

/**
 * Dates are rendered in UTC with their ISO form alongside, so the page's script can show them in local time:
 * "date" alone, or "date and time" read as "2 hours ago" while recent.
 */
const FORMATS = {
  date: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }),
  recent: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }),
};
export function dateTime(when: Date, style: keyof typeof FORMATS): SafeHtml {
  const text = style === 'date' ? FORMATS.date.format(when) : `${FORMATS.recent.format(when)} UTC`;
  return html`<time datetime="${when.toISOString()}" data-style="${style}">${text}</time>`;
}

function whoLine(p: SignedInUser): SafeHtml {
  return html`Signed in as <strong>${p.displayName}</strong> (${p.username})`;
}

export function statusRegion(id: string): SafeHtml {
  return html`<div id="${id}" class="status" role="status" aria-live="polite"></div>`;
}

const unsupportedNote = html`<p id="webauthn-unsupported" class="callout error" hidden>${NO_WEBAUTHN}</p>`;

/** The storage row as the settings page shows it: model name where the AAGUID is known, else the AAGUID itself. */
export function securityKeyView(credential: WebAuthnCredential): SecurityKeyView {
  const aaguid = credential.aaguid && credential.aaguid !== UNKNOWN_AAGUID ? credential.aaguid : undefined;
  return {
    id: credential.id,
    name: credential.description,
    createdAt: credential.createdAt,
    lastUsedAt: credential.lastUsedAt,
    model: authenticatorModel(aaguid),
    aaguid,
    u2f: credential.attestationType === 'fido-u2f' || credential.legacyU2fAppid !== null,
    attachment: credential.attachment,
    passkey: credential.discoverable,
    cloneWarning: credential.cloneWarning,
  };
}

export function renderSecondFactor(p: SecondFactorPage): string {
  const card = html`
<div class="badge info">${ICONS.keyBadge}</div>
<h1>Security key</h1>
<p class="lead">${whoLine(p)}</p>
${p.notice && html`<p class="callout info" id="second-factor-notice">${p.notice}</p>`}
<form id="second-factor" method="post">
${hiddenTarget(p.rd, p.rm)}
${
  p.hasKeys
    ? html`<p class="hint" data-needs-webauthn>Insert your security key, press the button, then touch the key when it blinks.</p>
${statusRegion('second-factor-status')}
<button type="submit" id="use-security-key" class="button primary" disabled data-needs-script>${ICONS.key}Use your security key</button>`
    : html`<p class="callout info">This application asks for a security key, and you have not registered one yet. We will email you a link to register it.</p>
${statusRegion('second-factor-status')}
<button type="button" id="request-registration" class="button primary" disabled data-needs-script>${ICONS.mail}Register a security key</button>`
}
</form>
${unsupportedNote}
${(p.hasKeys || p.recoveryCodes === true) && recoveryCodeForm()}
<div class="actions secondary-actions">
${p.hasKeys && html`<button type="button" id="request-registration" class="link-button" disabled data-needs-script>Lost your key? Register a new one</button>`}
<a class="button secondary" href="/logout">Sign out</a>
</div>
<noscript><p class="callout error">Security keys need JavaScript. Turn it on for this site, then reload the page.</p></noscript>`;
  return renderDocument({ title: 'Security key', card, scripts: ['second-factor.js'] });
}

/** What a key is, in words: its model when its AAGUID is known, else the kind of authenticator it is. */
function keyKind(key: SecurityKeyView): string | undefined {
  if (key.model) return key.model;
  if (key.u2f) return 'U2F security key';
  if (key.attachment === 'platform') return 'Built into a device';
  if (key.attachment === 'cross-platform') return 'Security key';
  return undefined;
}

function keyFacts(key: SecurityKeyView): SafeHtml {
  const kind = keyKind(key);
  const used = key.lastUsedAt ? html`last used ${dateTime(key.lastUsedAt, 'recent')}` : 'never used';
  // An AAGUID nobody recognises means nothing to a person: it stays out of sight, in the tooltip, for support.
  const title = !key.model && key.aaguid ? `Model identifier (AAGUID) ${key.aaguid}` : undefined;
  return html`<p class="key-meta">
${kind && html`<span class="key-model"${title && html` title="${title}"`}>${kind}</span>`}
<span>Added ${dateTime(key.createdAt, 'date')} · ${used}</span>
</p>`;
}

function keyItem(key: SecurityKeyView): SafeHtml {
  const prefix = `key-${key.id}`;
  return html`<li class="key" id="${prefix}" data-id="${key.id}">
<div class="key-row">
<span class="key-tile">${ICONS.keyTile}</span>
<div class="key-text">
<p class="key-title"><span class="key-name" id="${prefix}-name">${key.name}</span>${key.passkey && html` <span class="tag">Passkey</span>`}${key.cloneWarning && html` <span class="tag warning" title="Its signature counter went backwards: it may have been copied.">Possibly cloned</span>`}</p>
${keyFacts(key)}
</div>
<div class="key-actions" data-part="actions">
<button type="button" class="button small secondary" data-action="rename" aria-describedby="${prefix}-name" disabled data-needs-script>Rename</button>
<button type="button" class="button small secondary danger" data-action="delete" aria-describedby="${prefix}-name" disabled data-needs-script>Delete</button>
</div>
</div>
<form class="key-form" data-part="rename" hidden>
<div class="field">
<label for="${prefix}-new-name">New name</label>
<input id="${prefix}-new-name" name="description" type="text" value="${key.name}" maxlength="${DESCRIPTION_MAX_LENGTH}" autocomplete="off" required>
</div>
<div class="inline-actions">
<button type="submit" class="button small primary">Save</button>
<button type="button" class="button small secondary" data-action="cancel">Cancel</button>
</div>
</form>
<div class="key-form" data-part="delete" hidden>
<p class="confirm-text">Delete <strong>${key.name}</strong>? You will no longer be able to sign in with it.</p>
<div class="inline-actions">
<button type="button" class="button small danger-solid" data-action="confirm-delete">Delete</button>
<button type="button" class="button small secondary" data-action="cancel">Cancel</button>
</div>
</div>
</li>`;
}

export function renderSettings(p: SettingsPage): string {
  const card = html`
<div class="settings">
<h1>Security keys</h1>
<p class="lead">${whoLine(p)}. Your keys sign you in to every application behind Gatehouse.</p>
${statusRegion('settings-status')}
<div id="elevation-needed" class="callout info elevation" hidden>
<p>For your safety, changing a key needs a fresh check.<span data-needs-webauthn> Touch one of your keys.</span> No key at hand, or lost it? We can email you a link: opening it and pressing Confirm brings you back here to finish.</p>
<div class="inline-actions">
<button type="button" id="reverify" class="button small primary">${ICONS.key}Use your security key</button>
<button type="button" id="email-proof" class="button small secondary">${ICONS.mail}Email me a link</button>
</div>
</div>
<ul class="key-list" id="key-list">
${p.keys.map(keyItem)}
</ul>
<p class="empty" id="no-keys"${p.keys.length > 0 && html` hidden`}>You have no security keys yet. Register one to protect your account with a second factor.</p>
${unsupportedNote}
<div class="actions">
<button type="button" id="request-registration" class="button primary" disabled data-needs-script>${ICONS.plus}Register a security key</button>
<a class="button secondary" href="${linkTarget(p.continueUrl) ?? '/'}">Done</a>
</div>
${p.recovery && recoveryCodesSection(p.recovery)}
<p class="note"><a href="/settings/sessions">Your sessions</a> · <a href="/logout">Sign out</a></p>
</div>`;
  return renderDocument({ title: 'Security keys', card, scripts: ['settings.js'] });
}

export function renderConfirmIdentity(p: ConfirmIdentityPage): string {
  const card = html`
<div class="badge info" id="register-badge">${ICONS.shield}</div>
<h1 id="register-heading">Confirm your identity</h1>
<p class="lead" id="register-lead">${whoLine(p)}. You asked to register a new security key.</p>
<form id="register-key" method="post">
<input type="hidden" name="token" value="${p.token}">
<div class="field">
<label for="key-name">Name for the new key</label>
<input id="key-name" name="description" type="text" maxlength="${DESCRIPTION_MAX_LENGTH}" autocomplete="off" placeholder="e.g. Blue YubiKey" aria-describedby="key-name-hint register-status" required autofocus>
<p class="hint" id="key-name-hint">Pick a name you will recognise on the settings page.</p>
</div>
${statusRegion('register-status')}
<button type="submit" class="button primary" disabled data-needs-script>${ICONS.key}Register</button>
</form>
<div id="registered" hidden>
<div class="actions">
<a class="button primary" href="/settings">Manage security keys</a>
<a class="button secondary" id="continue" href="/">Continue</a>
</div>
</div>
${unsupportedNote}
<div class="actions" id="new-link" hidden>
<button type="button" id="request-registration" class="button primary">${ICONS.mail}Email me a new link</button>
</div>
<p class="note" id="register-cancel"><a href="/settings">Cancel</a></p>
<noscript><p class="callout error">Registering a key needs JavaScript. Turn it on for this site, then reload the page.</p></noscript>`;
  return renderDocument({ title: 'Confirm your identity', card, scripts: ['register.js'] });
}

export interface ConfirmOnlyPage extends SignedInUser {
  /** The emailed token, already checked to be JWT-shaped. */
  token: string;
  /** The portal path to return to once confirmed, already checked (portal-path.ts). */
  then: string;
}

/** Behind a link asked for to rename or delete a key: confirming only elevates the session, then returns. */
export function renderConfirmOnly(p: ConfirmOnlyPage): string {
  const card = html`
<div class="badge info">${ICONS.shield}</div>
<h1>Confirm your identity</h1>
<p class="lead">${whoLine(p)}. You asked to change your security keys without one at hand.</p>
<form id="confirm-identity" method="post">
<input type="hidden" name="token" value="${p.token}">
<input type="hidden" name="then" value="${p.then}">
<p class="hint">Confirming proves it is you for a few minutes; you then go back to finish the change.</p>
${statusRegion('confirm-status')}
<button type="submit" class="button primary" disabled data-needs-script>${ICONS.shield}Confirm and go back</button>
</form>
<p class="note"><a href="/settings">Cancel</a></p>
<noscript><p class="callout error">Confirming needs JavaScript. Turn it on for this site, then reload the page.</p></noscript>`;
  return renderDocument({ title: 'Confirm your identity', card, scripts: ['confirm-identity.js'] });
}

export type LinkProblem = 'invalid' | 'expired' | 'used' | 'wrong_user';

export interface LinkProblemPage {
  problem: LinkProblem;
  /** The signed-in user, who is not the link's user when the problem is wrong_user. */
  username: string;
  /** Signs out and comes back to the same link. */
  switchUserUrl: string;
  /** The portal path a confirm-only link returned to: a new link does the same. */
  returnTo?: string;
}

const LINK_PROBLEMS: Record<Exclude<LinkProblem, 'wrong_user'>, [title: string, message: string]> = {
  used: ['This link was already used', 'Each link works once. We can email you a new one.'],
  expired: ['This link has expired', 'Links work for a few minutes only. We can email you a new one.'],
  invalid: ['This link is not valid', 'It may have been cut or changed on the way. We can email you a new one.'],
};

/** An emailed link that cannot work, said as the page opens, with the way forward as the primary action. */
export function renderLinkProblem(p: LinkProblemPage): string {
  if (p.problem === 'wrong_user') {
    const card = html`
<div class="badge error">${icon('error', 'badge-icon')}</div>
<h1>This link is for another user</h1>
<p class="lead">You are signed in as <strong>${p.username}</strong>, and this link was sent to someone else. Sign in as the user who asked for it.</p>
<div class="actions">
<a class="button primary" href="${linkTarget(p.switchUserUrl) ?? '/logout'}">Sign in as someone else</a>
<a class="button secondary" href="/settings">Go to security keys</a>
</div>`;
    return renderDocument({ title: 'This link is for another user', card });
  }
  const [title, message] = LINK_PROBLEMS[p.problem];
  const card = html`
<div class="badge error">${icon('error', 'badge-icon')}</div>
<h1>${title}</h1>
<p class="lead">${message}</p>
${statusRegion('link-status')}
<div class="actions">
<button type="button" id="request-new-link" class="button primary" disabled data-needs-script${p.returnTo && html` data-return-to="${p.returnTo}"`}>${ICONS.mail}Email me a new link</button>
<a class="button secondary" href="/settings">Go to security keys</a>
</div>
<noscript><p class="callout error">Asking for a new link needs JavaScript. Turn it on for this site, then reload the page.</p></noscript>`;
  return renderDocument({ title, card, scripts: ['link-problem.js'] });
}
