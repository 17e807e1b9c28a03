// Passkey sign-in on the sign-in page (SPEC §5, `enable_passkey_login`): the "Sign in with a passkey" button, and
// the browser's passkey autofill on the username field (conditional mediation) where the browser offers it.
// Loaded by sign-in.js only when the page has the button, so a failure here never breaks password sign-in.
import {
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  WebAuthnAbortService,
} from './vendor/simplewebauthn/index.js';
import { api, carriedTarget, ceremony, goNext, MESSAGES, statusArea, webAuthnAvailable } from './webauthn-client.js';

// Both are on the page that loads this module; the handlers are attached only when they are there (see the end).
const form = /** @type {HTMLFormElement} */ (document.getElementById('sign-in'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('passkey-sign-in'));
const status = statusArea('sign-in-status');

/** Set while the button's request runs: an autofill request must not start then, or it would abort that one. */
let buttonPressed = false;

/**
 * The options request of an anonymous visitor starts a session, and its answer sets the session cookie: one that
 * lands after the password's answer would replace the signed-in cookie. The password form waits for it (quiet).
 */
let pendingOptions = Promise.resolve();
let quieted = false;

function passkeyOptions() {
  const request = api('POST', '/api/webauthn/passkey/options', {});
  pendingOptions = request.then(() => undefined);
  return request;
}

/** Called by the password form before it posts: no new options request starts, the pending one is waited for. */
export function quiet() {
  quieted = true;
  return pendingOptions;
}

/** The password was refused: passkeys may be offered again. */
export function resume() {
  quieted = false;
}

/**
 * Sends the passkey's answer; on success follows the safe redirect or the portal's next step for rd / rm.
 * @param {import('./vendor/simplewebauthn/index.js').AuthenticationResponseJSON} response
 */
async function finish(response) {
  const target = carriedTarget(form);
  const remember = /** @type {HTMLInputElement | null} */ (form.elements.namedItem('keepMeLoggedIn'));
  const keepMeLoggedIn = remember?.checked === true;
  const signedIn = await api('POST', '/api/webauthn/passkey', {
    response,
    targetURL: target.rd,
    requestMethod: target.rm,
    keepMeLoggedIn,
  });
  if (signedIn.ok) {
    goNext(signedIn.data, target);
    return true;
  }
  status.show(signedIn.message);
  return false;
}

/**
 * Offers the user's passkeys in the username field's autofill. The request stays pending until the user picks
 * one, and is aborted when they press the button instead (a browser runs one WebAuthn request at a time).
 */
async function offerAutofill() {
  if (!(await browserSupportsWebAuthnAutofill().catch(() => false)) || quieted) return;
  const options = await passkeyOptions();
  if (!options.ok || buttonPressed) return; // autofill is a convenience: the button still works
  const picked = await ceremony(() => startAuthentication({ optionsJSON: options.data, useBrowserAutofill: true }));
  // Superseded by the button, or dismissed: nothing to say.
  if (picked.ok) await finish(picked.response);
}

async function signInWithPasskey() {
  // Abort the pending autofill request first: its challenge is not the one this request will use.
  buttonPressed = true;
  WebAuthnAbortService.cancelCeremony();
  button.disabled = true;
  status.show('Choose a passkey, then touch your security key or confirm on this device.', 'info');
  const options = await passkeyOptions();
  const picked = options.ok
    ? await ceremony(() => startAuthentication({ optionsJSON: options.data }), 'passkey')
    : options;
  const done = picked.ok && (await finish(picked.response));
  if (done) return; // the page is about to change
  buttonPressed = false;
  button.disabled = false;
  if (!picked.ok) status.show(picked.message || MESSAGES.failed);
  offerAutofill();
}

if (button && form && webAuthnAvailable()) {
  button.addEventListener('click', signInWithPasskey);
  // Rendered disabled: it only works once this module runs.
  button.disabled = false;
  offerAutofill();
}
