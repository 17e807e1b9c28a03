// "Confirm your identity" (SPEC §5, the page behind the emailed link): pressing Register redeems the token, which
// elevates the session, then runs the browser's key ceremony and stores the key under the name the user typed.
// A name that is already taken (409) is fixed by typing another one: the key's answer is kept and sent again, so
// the user need not touch the key twice.
import { startRegistration } from './vendor/simplewebauthn/index.js';
import {
  api,
  ceremony,
  MESSAGES,
  portalStepUrl,
  recallTarget,
  requestRegistrationEmail,
  showUnsupported,
  statusArea,
  webAuthnAvailable,
} from './webauthn-client.js';

/** @typedef {import('./webauthn-client.js').ApiReply} ApiReply */

/**
 * An element the registration page always renders (the server's template, views/security-keys.ts).
 * @param {string} id
 */
const pageElement = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

// Both are on the page; the handlers below are attached only when they are there (see the end).
const form = /** @type {HTMLFormElement} */ (document.getElementById('register-key'));
const nameInput = /** @type {HTMLInputElement} */ (document.getElementById('key-name'));
const status = statusArea('register-status');
const newLink = /** @type {HTMLButtonElement | null} */ (document.getElementById('request-registration'));

/**
 * The key's registration answer, kept while only the name needs fixing.
 * @type {import('./vendor/simplewebauthn/index.js').RegistrationResponseJSON | undefined}
 */
let pendingResponse;

/** @param {string} name */
function field(name) {
  const element = form.elements.namedItem(name);
  return element instanceof HTMLInputElement ? element : null;
}

/** @param {boolean} invalid */
function markNameInvalid(invalid) {
  if (invalid) nameInput.setAttribute('aria-invalid', 'true');
  else nameInput.removeAttribute('aria-invalid');
}

/**
 * The emailed token is redeemed once; a session that is still elevated (a retry on this page) skips it.
 * @returns {Promise<{ ok: true } | ApiReply>}
 */
async function elevate() {
  const state = await api('GET', '/api/state');
  if (state.ok && state.data?.elevated === true) return { ok: true };
  const finished = await api('POST', '/api/identity/finish', { token: field('token')?.value ?? '' });
  // A link that cannot work (used, expired, someone else's): asking for a new one is the way on.
  if (!finished.ok && finished.status >= 400 && finished.status < 500) offerNewLink();
  return finished;
}

function offerNewLink() {
  const actions = document.getElementById('new-link');
  if (!actions || !newLink) return;
  /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]')).hidden = true;
  actions.hidden = false;
}

async function createCredential() {
  const options = await api('POST', '/api/webauthn/registration/options', {});
  if (!options.ok) return options;
  status.show(MESSAGES.touchKey, 'info');
  return ceremony(() => startRegistration({ optionsJSON: options.data }));
}

/** @param {string} name */
function showRegistered(name) {
  form.hidden = true;
  pageElement('register-heading').textContent = 'Security key registered';
  pageElement('register-lead').textContent = `“${name}” is ready: use it the next time you sign in.`;
  const badge = pageElement('register-badge');
  badge.classList.replace('info', 'success');
  // Back to where the user was heading before the email, if this browser remembers it (the portal checks it again).
  const target = recallTarget();
  const continueLink = /** @type {HTMLAnchorElement | null} */ (document.getElementById('continue'));
  if (target && continueLink) {
    // Registering in the middle of a sign-in: going on is what the user came for, so it leads.
    continueLink.href = portalStepUrl(target);
    continueLink.textContent = 'Continue signing in';
    continueLink.classList.replace('secondary', 'primary');
    const manage = document.querySelector('#registered a[href="/settings"]');
    manage?.classList.replace('primary', 'secondary');
    continueLink.parentElement?.prepend(continueLink);
    pageElement('register-lead').textContent =
      `“${name}” is ready. Continue signing in: you will be asked to touch it once more, then taken where you were going.`;
  }
  pageElement('registered').hidden = false;
  pageElement('register-cancel').hidden = true;
  /** @type {HTMLAnchorElement | null} */ (document.querySelector('#registered a'))?.focus();
}

/** @param {SubmitEvent} event */
async function register(event) {
  event.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  const name = nameInput.value.trim();
  if (!name) {
    markNameInvalid(true);
    status.show('Give the key a name first.');
    nameInput.focus();
    return;
  }
  button.disabled = true;
  status.clear();
  try {
    if (!pendingResponse) {
      const elevated = await elevate();
      if (!elevated.ok) return status.show(elevated.message);
      const created = await createCredential();
      if (!created.ok) return status.show(created.message);
      pendingResponse = created.response;
    }
    status.show('Saving the key…', 'info');
    const saved = await api('POST', '/api/webauthn/registration', { description: name, response: pendingResponse });
    if (saved.ok) {
      pendingResponse = undefined;
      showRegistered(name);
      return;
    }
    if (saved.status === 409) {
      markNameInvalid(true);
      status.show(`That name is already used by one of your keys. Choose another name, then press Register again.`);
      nameInput.select();
      return;
    }
    // Anything else (an expired challenge, a refused key) needs a fresh ceremony next time.
    pendingResponse = undefined;
    status.show(saved.message);
  } finally {
    button.disabled = false;
  }
}

if (form && nameInput) {
  if (!webAuthnAvailable()) showUnsupported([form]);
  else {
    form.addEventListener('submit', register);
    for (const button of /** @type {NodeListOf<HTMLButtonElement>} */ (form.querySelectorAll('[data-needs-script]')))
      button.disabled = false;
    nameInput.addEventListener('input', () => markNameInvalid(false));
  }
}
newLink?.addEventListener('click', () => requestRegistrationEmail(status, newLink));
