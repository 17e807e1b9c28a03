// The page for an emailed link that cannot work (used, expired, invalid): "Email me a new link" asks for one, for
// the same purpose (a confirm-only link carries its return page).
import { requestRegistrationEmail, statusArea } from './webauthn-client.js';

const button = /** @type {HTMLButtonElement | null} */ (document.getElementById('request-new-link'));
const status = statusArea('link-status');

if (button) {
  button.disabled = false;
  button.addEventListener('click', () =>
    requestRegistrationEmail(status, button, button.dataset.returnTo || undefined),
  );
}
