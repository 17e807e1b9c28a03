// Second-factor page (issue 11): "Use a recovery code instead" opens a one-field form; a code that works brings the
// session to level 2 and follows the safe redirect to the target carried in the page's rd / rm, else goes to the
// settings page, where a user who lost their key registers a new one. Loaded by second-factor.js.
import { api, carriedTarget, enableScriptedButtons, goNext, statusArea } from './webauthn-client.js';

const open = /** @type {HTMLButtonElement | null} */ (document.getElementById('use-recovery-code'));
const form = /** @type {HTMLFormElement | null} */ (document.getElementById('recovery-code-form'));
const keyForm = /** @type {HTMLFormElement | null} */ (document.getElementById('second-factor'));
const status = statusArea('recovery-code-status');

open?.addEventListener('click', () => {
  if (!form) return;
  form.hidden = false;
  open.hidden = true;
  /** @type {HTMLInputElement | null} */ (form.elements.namedItem('code'))?.focus();
});

form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('code'));
  const submit = /** @type {HTMLButtonElement | null} */ (form.querySelector('button[type="submit"]'));
  const code = input.value.trim();
  if (!code) {
    status.show('Enter one of your recovery codes.');
    input.focus();
    return;
  }
  if (submit) submit.disabled = true;
  status.show('Checking the code…', 'info');
  const { rd, rm } = carriedTarget(keyForm);
  const reply = await api('POST', '/api/recovery-codes/use', { code, targetURL: rd, requestMethod: rm });
  if (reply.ok) {
    const left = Number(reply.data?.remaining ?? 0);
    status.show(`Signed in. ${left} recovery code${left === 1 ? '' : 's'} left. Taking you on…`, 'success');
    // To the target (or the portal's next step for it); with none, to the keys, to register a new one.
    if (rd) goNext(reply.data, { rd, rm });
    else location.assign('/settings');
    return;
  }
  if (submit) submit.disabled = false;
  status.show(reply.message);
  input.select();
  input.focus();
});

enableScriptedButtons(form ?? undefined);
if (open) open.disabled = false;
