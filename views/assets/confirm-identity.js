// "Confirm your identity" behind a link asked for to rename or delete a key without one at hand: confirming
// redeems the emailed token (which elevates the session) and goes back to the portal page the link names, where
// the change is finished. Nothing is registered here.
import { api, statusArea } from './webauthn-client.js';

const form = document.getElementById('confirm-identity');
const status = statusArea('confirm-status');

/** The server checked the path; checked again here so that only a path on this portal is ever followed. */
function returnPath() {
  const value = form.elements.namedItem('then')?.value ?? '';
  return value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/settings';
}

async function confirm(event) {
  event.preventDefault();
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  status.show('Confirming…', 'info');
  const finished = await api('POST', '/api/identity/finish', { token: form.elements.namedItem('token')?.value ?? '' });
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
  for (const button of form.querySelectorAll('[data-needs-script]')) button.disabled = false;
}
