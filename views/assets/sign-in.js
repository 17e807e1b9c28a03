// Sign-in page: password first factor through the JSON API (SPEC §6 POST /api/firstfactor).
// Loaded as a module from /static/ (the CSP forbids inline script). Text from the server or the URL
// only ever goes into the page through textContent or value, never as HTML.

const UNREACHABLE = 'Gatehouse cannot be reached. Try again.';
const FAILED = 'Sign-in failed. Try again.';

// Both are on the sign-in page; the handlers below are attached only when they are there (see the end).
const form = /** @type {HTMLFormElement} */ (document.getElementById('sign-in'));
const status = /** @type {HTMLElement} */ (document.getElementById('sign-in-status'));

/**
 * The passkey module, once asked for (see setUpPasskeys).
 * @type {Promise<typeof import('./passkey.js')> | undefined}
 */
let passkeys;

/** Longest wait for the passkey module's pending request before the password is sent anyway. */
const QUIET_LIMIT_MS = 3_000;

/** Lets a pending passkey options request finish first: its answer would otherwise replace the new session cookie. */
async function quietPasskeys() {
  if (!passkeys) return undefined;
  /** @type {Promise<undefined>} */
  const limit = new Promise((resolve) => setTimeout(resolve, QUIET_LIMIT_MS));
  const module = await Promise.race([passkeys.catch(() => undefined), limit]);
  if (module?.quiet) await Promise.race([module.quiet(), limit]);
  return module;
}

/**
 * Shows a message in the live region (announced politely); an empty text clears it.
 * @param {string} text
 * @param {'error' | 'info'} [kind]
 */
function showStatus(text, kind = 'error') {
  status.textContent = text;
  if (text) status.dataset.kind = kind;
  else delete status.dataset.kind;
}

/** @param {string} name */
function field(name) {
  const element = form.elements.namedItem(name);
  return element instanceof HTMLInputElement ? element : null;
}

/**
 * The hidden rd / rm carried over from the query; undefined when absent so JSON leaves them out.
 * @param {string} name
 */
function carried(name) {
  return field(name)?.value || undefined;
}

/** After a first factor without a redirect, the portal itself shows the next step for the same target. */
function nextStepUrl() {
  const query = new URLSearchParams();
  for (const name of ['rd', 'rm']) {
    const value = carried(name);
    if (value) query.set(name, value);
  }
  const search = query.toString();
  return search ? `/?${search}` : '/';
}

/** @param {boolean} invalid */
function markInvalid(invalid) {
  for (const name of ['username', 'password']) {
    const input = field(name);
    if (!input) continue;
    if (invalid) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/**
 * @param {{ username: string, password: string, keepMeLoggedIn: boolean, targetURL?: string, requestMethod?: string }} body
 * @returns {Promise<any>} the API's JSON reply, or a refusal when the body is not JSON
 */
async function postFirstFactor(body) {
  const response = await fetch('/api/firstfactor', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  // A proxy error page or an empty body is not JSON; treat it like any other refusal.
  return response.json().catch(() => ({ status: 'KO' }));
}

/** @param {SubmitEvent} event */
async function signIn(event) {
  event.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  const password = field('password');
  button.disabled = true;
  showStatus('');
  const passkeyModule = await quietPasskeys();
  let reply;
  try {
    reply = await postFirstFactor({
      username: field('username')?.value ?? '',
      password: password?.value ?? '',
      keepMeLoggedIn: field('keepMeLoggedIn')?.checked ?? false,
      targetURL: carried('rd'),
      requestMethod: carried('rm'),
    });
  } catch {
    button.disabled = false;
    passkeyModule?.resume?.();
    showStatus(UNREACHABLE);
    return;
  }
  if (reply?.status === 'OK') {
    const redirect = reply.data?.redirect;
    // Keep the button disabled: the page is about to change.
    location.assign(typeof redirect === 'string' && redirect ? redirect : nextStepUrl());
    return;
  }
  button.disabled = false;
  passkeyModule?.resume?.();
  markInvalid(true);
  showStatus(typeof reply?.message === 'string' && reply.message ? reply.message : FAILED);
  if (password) {
    password.value = '';
    password.focus();
  }
}

/**
 * Passkey sign-in lives in its own module, loaded only when the page offers it and the browser has WebAuthn: if it
 * fails to load, password sign-in still works. Without WebAuthn the page says so instead.
 */
function setUpPasskeys() {
  const passkeyButton = /** @type {HTMLButtonElement | null} */ (document.getElementById('passkey-sign-in'));
  if (!passkeyButton) return;
  if (window.PublicKeyCredential) {
    passkeys = import('./passkey.js');
    passkeys.catch(() => {
      passkeyButton.disabled = true;
    });
    return;
  }
  // The "or" divider goes with the button it introduces.
  for (const element of [passkeyButton, document.getElementById('passkey-option')]) {
    if (element) element.hidden = true;
  }
  const note = document.getElementById('webauthn-unsupported');
  if (note) note.hidden = false;
}

if (form && status) {
  form.addEventListener('submit', signIn);
  form.addEventListener('input', () => markInvalid(false));
  // Rendered disabled: until this script runs, Enter must not post the form natively (the API answers JSON).
  const submit = /** @type {HTMLButtonElement | null} */ (form.querySelector('button[type="submit"]'));
  if (submit) submit.disabled = false;
}
setUpPasskeys();
