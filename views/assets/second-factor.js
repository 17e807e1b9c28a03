// Second-factor page (SPEC §5): "Use your security key" brings the session to level 2 and follows the safe redirect
// to the target carried in rd / rm; without a key, "Register a security key" emails the registration link.
import {
  carriedTarget,
  enableScriptedButtons,
  goNext,
  MESSAGES,
  rememberTarget,
  requestRegistrationEmail,
  showUnsupported,
  statusArea,
  verifyWithSecurityKey,
  webAuthnAvailable,
} from './webauthn-client.js';
// "Use a recovery code instead" (issue 11): its own module, loaded with this page's script.
import './recovery-sign-in.js';

const form = /** @type {HTMLFormElement | null} */ (document.getElementById('second-factor'));
const useKey = /** @type {HTMLButtonElement | null} */ (document.getElementById('use-security-key'));
const requestRegistration = /** @type {HTMLButtonElement | null} */ (document.getElementById('request-registration'));
const status = statusArea('second-factor-status');

/** @param {SubmitEvent} event */
async function useSecurityKey(event) {
  event.preventDefault();
  if (!useKey || useKey.disabled) return;
  useKey.disabled = true;
  status.show(MESSAGES.touchKey, 'info');
  const target = carriedTarget(form);
  const verified = await verifyWithSecurityKey(target);
  if (verified.ok) {
    status.show('Verified. Taking you there…', 'info');
    goNext(verified.data, target); // the button stays disabled: the page is about to change
    return;
  }
  useKey.disabled = false;
  status.show(verified.message);
  useKey.focus();
}

if (form) {
  if (!webAuthnAvailable()) showUnsupported([useKey]);
  else {
    form.addEventListener('submit', useSecurityKey);
    if (useKey) useKey.disabled = false;
  }
}
enableScriptedButtons();
requestRegistration?.addEventListener('click', async () => {
  if (await requestRegistrationEmail(status, requestRegistration)) rememberTarget(carriedTarget(form));
});
