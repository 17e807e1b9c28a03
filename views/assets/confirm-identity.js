// "Confirm your identity" behind a link asked for to rename or delete a key without one at hand: confirming
// redeems the emailed token (which elevates the session) and goes back to the portal page the link names, where
// the change is finished. Nothing is registered here.
import { api, statusArea } from './webauthn-client.js';

// On the page that loads this script; the handler is attached only when it is there (see the end).
const form = /** @type {HTMLFormElement} */ (document.getElementById('confirm-identity'));

/**
 * The value of the form's hidden input with this name.
 * @param {string} name
 */
const hidden = (name) => /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name))?.value;
const status = statusArea('confirm-status');

/** The server checked the path; checked again here so that only a path on this portal is ever followed. */
function returnPath() {
  const value = hidden('then') ?? '';
  return value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/settings';
}

/** @param {SubmitEvent} event */
async function confirm(event) {
  event.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  status.show('Confirming…', 'info');
  const finished = await api('POST', '/api/identity/finish', { token: hidden('token') ?? '' });
  if (finished.ok) {
    status.show('Confirmed. Taking you back…', 'info');
    location.assign(returnPath()); // the button stays disabled: the page is about to change
    return;
  }
  button.disabled = false;
  status.show(finished.message);
}

if (form) {
  form.addEventListener('submit', confirm);
  for (const button of /** @type {NodeListOf<HTMLButtonElement>} */ (form.querySelectorAll('[data-needs-script]')))
    button.disabled = false;
}
