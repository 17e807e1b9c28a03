// The portal's server-rendered pages (SPEC §5). Each returns a complete HTML document.
// Every value from a request or the users file goes through `html`, which escapes it; links are
// additionally checked so a hostile value can never become a `javascript:` or off-scheme href.
import type { AuthLevel } from '../src/session/model.js';
import { html, type SafeHtml } from '../src/text/html.js';
import { icon } from './icons.js';
import { renderDocument } from './layout.js';

export interface SignInPage {
  /** The target URL from `?rd=`, passed back to the API untouched (the server decides whether it is safe). */
  rd?: string;
  /** The original request method from `?rm=`. */
  rm?: string;
  rememberMeEnabled: boolean;
  passkeyEnabled: boolean;
  /** Pre-fills the username field. */
  username?: string;
  /** A short note shown above the form (e.g. "You have been signed out."). */
  notice?: string;
}

export interface SignedInPage {
  displayName: string;
  username: string;
  level: AuthLevel;
  continueUrl?: string;
  logoutUrl: string;
  settingsUrl?: string;
}

export interface MessagePage {
  title: string;
  message: string;
  status: 'info' | 'error';
  actionUrl?: string;
  actionLabel?: string;
  /** A second, less prominent way on (e.g. "Go back"). */
  secondaryUrl?: string;
  secondaryLabel?: string;
}

/** What each authentication level (SPEC §1) was reached with, as the signed-in page says it. */
const LEVEL_WORDS: Record<AuthLevel, string> = {
  0: 'nothing yet',
  1: 'password',
  2: 'password and security key',
};

/**
 * Only http(s) URLs and same-origin paths may become links: anything else (`javascript:`, `data:`,
 * protocol-relative `//host`, or unparsable text) yields undefined and the link is left out.
 */
export function linkTarget(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (url.startsWith('/')) {
    // "//evil" and "/\evil" are read by browsers as another host.
    return /^\/[/\\]/.test(url) ? undefined : url;
  }
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

const ICONS = {
  key: icon('key'),
  check: icon('check', 'badge-icon'),
  info: icon('info', 'badge-icon'),
  error: icon('error', 'badge-icon'),
};

/** The text shown where a page would offer a security key and the browser has no WebAuthn. */
export const NO_WEBAUTHN = 'This browser cannot use security keys.';

/** The target (rd) and its method (rm) carried as hidden inputs, so every step of a sign-in keeps them. */
export function hiddenTarget(rd: string | undefined, rm: string | undefined): SafeHtml {
  return html`${rd && html`<input type="hidden" name="rd" value="${rd}">`}${rm && html`<input type="hidden" name="rm" value="${rm}">`}`;
}

export function renderSignIn(p: SignInPage): string {
  // With the username known (e.g. after a failed attempt), the cursor belongs in the password field.
  const focusPassword = Boolean(p.username);
  const card = html`
<h1>Sign in</h1>
<p class="lead">Use your account to continue.</p>
${p.notice && html`<p class="callout info">${p.notice}</p>`}
<form id="sign-in" method="post" autocomplete="on">
<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" autocorrect="off" spellcheck="false" required${focusPassword ? html` value="${p.username}"` : html` autofocus`}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required aria-describedby="sign-in-status"${focusPassword && html` autofocus`}>
</div>
${
  p.rememberMeEnabled &&
  html`<div class="check">
<input id="keep-me-logged-in" name="keepMeLoggedIn" type="checkbox" value="true">
<label for="keep-me-logged-in">Remember me</label>
</div>`
}
${hiddenTarget(p.rd, p.rm)}
<div id="sign-in-status" class="status" role="status" aria-live="polite"></div>
<button type="submit" class="button primary" disabled data-needs-script>Sign in</button>
</form>
${
  p.passkeyEnabled &&
  html`<div id="passkey-option">
<div class="divider"><span>or</span></div>
<button type="button" id="passkey-sign-in" class="button secondary" disabled data-needs-script>${ICONS.key}Sign in with a passkey</button>
</div>
<p id="webauthn-unsupported" class="note" hidden>${NO_WEBAUTHN}</p>`
}
<noscript><p class="callout error">Signing in needs JavaScript. Turn it on for this site, then reload the page.</p></noscript>`;
  return renderDocument({ title: 'Sign in', card, scripts: ['sign-in.js'] });
}

export function renderSignedIn(p: SignedInPage): string {
  const continueUrl = linkTarget(p.continueUrl);
  const settingsUrl = linkTarget(p.settingsUrl);
  const card = html`
<div class="badge success">${ICONS.check}</div>
<h1>You are signed in</h1>
<p class="lead">Signed in as <strong>${p.displayName}</strong> (${p.username})</p>
<dl class="facts">
<dt>Verified with</dt>
<dd>${LEVEL_WORDS[p.level]}</dd>
</dl>
<div class="actions">
${continueUrl && html`<a class="button primary" href="${continueUrl}">Continue</a>`}
${settingsUrl && html`<a class="button secondary" href="${settingsUrl}">${ICONS.key}Security keys</a>`}
<a class="button secondary" href="${linkTarget(p.logoutUrl) ?? '/logout'}">Sign out</a>
</div>`;
  return renderDocument({ title: 'Signed in', card });
}

export function renderMessage(p: MessagePage): string {
  const actionUrl = linkTarget(p.actionUrl);
  const secondaryUrl = linkTarget(p.secondaryUrl);
  const card = html`
<div class="badge ${p.status}">${ICONS[p.status]}</div>
<h1>${p.title}</h1>
<p class="lead">${p.message}</p>
${(actionUrl || secondaryUrl) && html`<div class="actions">${actionUrl && html`<a class="button primary" href="${actionUrl}">${p.actionLabel ?? 'Continue'}</a>`}${secondaryUrl && html`<a class="button secondary" href="${secondaryUrl}">${p.secondaryLabel ?? 'Back'}</a>`}</div>`}`;
  return renderDocument({ title: p.title, card });
}
