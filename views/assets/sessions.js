// "Your sessions" page: signs out one other session, or every other one, through /api/sessions/* and updates the
// list in place. Sessions are named by the opaque handle the page was rendered with.
import { api, enableScriptedButtons, localiseTimes, statusArea } from './webauthn-client.js';

const list = /** @type {HTMLElement} */ (document.getElementById('session-list'));
const endOthers = /** @type {HTMLButtonElement} */ (document.getElementById('end-others'));
const status = statusArea('sessions-status');

/** Hides "Sign out everywhere else" once no other session is listed. */
function updateEndOthers() {
  endOthers.hidden = list.querySelector('li[data-handle]:not([data-current])') === null;
}

/**
 * @param {import('./webauthn-client.js').ApiReply} reply
 */
function showFailure(reply) {
  if (reply.ok) return;
  // Signed out meanwhile (this session was ended elsewhere): the sign-in page is the only way on.
  if (reply.status === 401) window.location.assign('/');
  else status.show(reply.message);
}

list.addEventListener('click', async (event) => {
  const target = /** @type {HTMLElement} */ (event.target);
  const button = /** @type {HTMLButtonElement | null} */ (target.closest('button[data-action="end"]'));
  const item = /** @type {HTMLElement | null} */ (button?.closest('li[data-handle]') ?? null);
  if (!button || !item) return;
  button.disabled = true;
  status.clear();
  const reply = await api('POST', '/api/sessions/end', { handle: item.dataset.handle });
  // 404: it had already ended; either way it is gone.
  if (reply.ok || reply.status === 404) {
    item.remove();
    status.show('That session is signed out.', 'success');
    updateEndOthers();
    return;
  }
  button.disabled = false;
  showFailure(reply);
});

endOthers.addEventListener('click', async () => {
  endOthers.disabled = true;
  status.clear();
  const reply = await api('POST', '/api/sessions/end-others');
  endOthers.disabled = false;
  if (!reply.ok) return showFailure(reply);
  for (const item of list.querySelectorAll('li[data-handle]:not([data-current])')) item.remove();
  const ended = /** @type {{ ended?: number } | undefined} */ (reply.data)?.ended ?? 0;
  status.show(`Signed out ${ended} other session${ended === 1 ? '' : 's'}.`, 'success');
  updateEndOthers();
});

localiseTimes(list);
enableScriptedButtons();
