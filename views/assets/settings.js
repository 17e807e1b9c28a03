// Settings page (SPEC §5): rename and delete security keys in place, and ask for the emailed link that registers
// a new one. Renaming and deleting need a recent proof (SPEC §6): when the server answers 403, the page offers to
// give it (touch a key, or follow an emailed link) and then finishes what the user asked for.
import {
  api,
  enableScriptedButtons,
  localiseTimes,
  requestRegistrationEmail,
  showUnsupported,
  statusArea,
  verifyWithSecurityKey,
  webAuthnAvailable,
} from './webauthn-client.js';
// The recovery codes section (issue 11): its own module, loaded with this page's script.
import './recovery-codes.js';

/** @typedef {import('./webauthn-client.js').ApiReply} ApiReply */
/** @typedef {{ action: 'rename' | 'delete', id: string, name?: string }} KeyChange */

// The settings page renders these; code that uses one unchecked runs only from a handler on it or on the key list.
const list = /** @type {HTMLElement} */ (document.getElementById('key-list'));
const status = statusArea('settings-status');
const elevation = /** @type {HTMLElement} */ (document.getElementById('elevation-needed'));
const reverify = /** @type {HTMLButtonElement} */ (document.getElementById('reverify'));

/**
 * The change refused for want of a fresh proof, replayed once the proof is given.
 * @type {(() => Promise<void>) | undefined}
 */
let retryAfterProof;
/**
 * The same change as the emailed link's return page names it.
 * @type {KeyChange | undefined}
 */
let pendingChange;

/** Far below the server's limit on a return path (src/portal/portal-path.ts). */
const RETURN_PATH_LIMIT = 240;

/**
 * `/settings?resume=…&key=…[&name=…]`: after the emailed proof, this page reopens the change.
 * @param {KeyChange} change
 */
function returnPathFor(change) {
  const query = new URLSearchParams({ resume: change.action, key: change.id });
  if (change.name) query.set('name', change.name);
  const path = `/settings?${query}`;
  if (path.length <= RETURN_PATH_LIMIT) return path;
  query.delete('name'); // a very long new name is typed again rather than lost in a refused request
  return `/settings?${query}`;
}

/**
 * One of a key's parts: every key is rendered with all of them (views/security-keys.ts).
 * @param {HTMLElement} item
 * @param {string} name
 */
function part(item, name) {
  return /** @type {HTMLElement} */ (item.querySelector(`[data-part="${name}"]`));
}

/**
 * The ID of a key's list item (its `data-id`, always rendered).
 * @param {HTMLElement} item
 */
function keyId(item) {
  return /** @type {string} */ (item.dataset.id);
}

/**
 * A key's button for this action, if it is there.
 * @param {ParentNode} root
 * @param {string} action
 */
function actionButton(root, action) {
  return /** @type {HTMLButtonElement | null} */ (root.querySelector(`[data-action="${action}"]`));
}

/**
 * Shows one of the key's parts (its buttons, the rename form, the delete question) and hides the others.
 * @param {HTMLElement} item
 * @param {string} name
 */
function showPart(item, name) {
  for (const candidate of ['actions', 'rename', 'delete']) part(item, candidate).hidden = candidate !== name;
}

/** @param {HTMLElement} item */
function keyName(item) {
  return item.querySelector('.key-name')?.textContent ?? '';
}

/**
 * @param {HTMLElement} item
 * @param {boolean} busy
 */
function setBusy(item, busy) {
  for (const button of item.querySelectorAll('button')) button.disabled = busy;
}

/**
 * A 403 means "prove it is you first": remember the change and show how to give the proof.
 * @param {ApiReply} reply
 * @param {() => Promise<void>} retry
 * @param {KeyChange} change
 */
function needsProof(reply, retry, change) {
  if (reply.status !== 403) return false;
  retryAfterProof = retry;
  pendingChange = change;
  status.clear();
  elevation.hidden = false;
  reverify.focus();
  return true;
}

/**
 * @param {HTMLElement} item
 * @param {HTMLFormElement} form
 */
async function rename(item, form) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('description'));
  const name = input.value.trim();
  if (!name) {
    status.show('Give the key a name.');
    input.focus();
    return;
  }
  if (name === keyName(item)) {
    showPart(item, 'actions');
    return;
  }
  setBusy(item, true);
  const reply = await api('PUT', `/api/webauthn/credentials/${encodeURIComponent(keyId(item))}`, {
    description: name,
  });
  setBusy(item, false);
  if (reply.ok) {
    for (const element of item.querySelectorAll('.key-name, .confirm-text strong')) element.textContent = name;
    input.defaultValue = name;
    showPart(item, 'actions');
    status.show(`Renamed to “${name}”.`, 'info');
    actionButton(item, 'rename')?.focus();
    return;
  }
  if (needsProof(reply, () => rename(item, form), { action: 'rename', id: keyId(item), name })) return;
  status.show(reply.status === 409 ? `You already have a key named “${name}”. Choose another name.` : reply.message);
  input.focus();
}

/** @param {HTMLElement} item */
async function remove(item) {
  const name = keyName(item);
  setBusy(item, true);
  const reply = await api('DELETE', `/api/webauthn/credentials/${encodeURIComponent(keyId(item))}`);
  setBusy(item, false);
  if (reply.ok || reply.status === 404) {
    // Focus moves to the neighbouring key (or the register button), not to the top of the page.
    const neighbour = item.nextElementSibling ?? item.previousElementSibling;
    item.remove();
    ((neighbour && actionButton(neighbour, 'rename')) ?? document.getElementById('request-registration'))?.focus();
    /** @type {HTMLElement} */ (document.getElementById('no-keys')).hidden = list.children.length > 0;
    status.show(reply.ok ? `“${name}” was deleted.` : `“${name}” was already gone.`, 'info');
    return;
  }
  if (needsProof(reply, () => remove(item), { action: 'delete', id: keyId(item) })) return;
  status.show(reply.message);
}

async function giveProof() {
  reverify.disabled = true;
  status.show('Touch your security key when it blinks.', 'info');
  const verified = await verifyWithSecurityKey();
  reverify.disabled = false;
  if (!verified.ok) {
    status.show(verified.message);
    return;
  }
  elevation.hidden = true;
  status.clear();
  const retry = retryAfterProof;
  retryAfterProof = undefined;
  await retry?.();
}

/**
 * @param {HTMLElement} item
 * @param {string} [name]  the new name to offer, else the key's own
 */
function openRename(item, name) {
  showPart(item, 'rename');
  const form = /** @type {HTMLFormElement} */ (part(item, 'rename'));
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('description'));
  input.value = name ?? keyName(item);
  input.select();
  input.focus();
}

/**
 * Closes a key's rename form or delete question, focus back on the button that opened it.
 * @param {HTMLElement} item
 * @param {string | undefined} from  the part being closed
 */
function closeParts(item, from) {
  showPart(item, 'actions');
  actionButton(item, from === 'delete' ? 'delete' : 'rename')?.focus();
}

list?.addEventListener('click', (event) => {
  /** @type {HTMLButtonElement | null} */
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  /** @type {HTMLElement | null | undefined} */
  const item = button?.closest('li.key');
  if (!button || !item) return;
  status.clear();
  switch (button.dataset.action) {
    case 'rename':
      openRename(item);
      break;
    case 'delete':
      showPart(item, 'delete');
      actionButton(part(item, 'delete'), 'cancel')?.focus();
      break;
    case 'cancel':
      closeParts(item, /** @type {HTMLElement | null} */ (button.closest('[data-part]'))?.dataset.part);
      break;
    case 'confirm-delete':
      remove(item);
      break;
  }
});

list?.addEventListener('submit', (event) => {
  const form = event.target;
  /** @type {HTMLElement | null} */
  const item = form instanceof HTMLFormElement ? form.closest('li.key') : null;
  if (!item || !(form instanceof HTMLFormElement)) return;
  event.preventDefault();
  rename(item, form);
});

// Escape closes an open rename form or delete question, as Cancel does.
list?.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || !(event.target instanceof Element)) return;
  /** @type {HTMLElement | null} */
  const open = event.target.closest('[data-part="rename"], [data-part="delete"]');
  /** @type {HTMLElement | null | undefined} */
  const item = open?.closest('li.key');
  if (!open || !item) return;
  event.preventDefault();
  closeParts(item, open.dataset.part);
});

/**
 * Back from the emailed proof (`?resume=rename|delete&key=…`): reopen the change so one press finishes it. The
 * query only opens a form; nothing changes without the user's press.
 */
function resumeChange() {
  const query = new URLSearchParams(location.search);
  const action = query.get('resume');
  if (!action) return;
  history.replaceState(null, '', location.pathname);
  const keys = /** @type {NodeListOf<HTMLElement> | undefined} */ (list?.querySelectorAll('li.key'));
  const item = [...(keys ?? [])].find((candidate) => candidate.dataset.id === query.get('key'));
  if (!item) return status.show('That key is no longer on your list.', 'info');
  if (action === 'rename') {
    openRename(item, query.get('name') ?? undefined);
    status.show('Identity confirmed. Press Save to rename the key.', 'info');
  } else if (action === 'delete') {
    showPart(item, 'delete');
    actionButton(part(item, 'delete'), 'confirm-delete')?.focus();
    status.show('Identity confirmed. Press Delete to remove the key.', 'info');
  }
}

reverify?.addEventListener('click', giveProof);
document
  .getElementById('request-registration')
  ?.addEventListener('click', (event) =>
    requestRegistrationEmail(status, /** @type {HTMLButtonElement} */ (event.currentTarget)),
  );
// The emailed proof for a rename or delete: its link only confirms the user and comes back here.
const emailProof = /** @type {HTMLButtonElement | null} */ (document.getElementById('email-proof'));
emailProof?.addEventListener('click', () =>
  requestRegistrationEmail(status, emailProof, pendingChange ? returnPathFor(pendingChange) : '/settings'),
);
// Touching a key is one way to give the proof; without WebAuthn only the emailed link is left.
if (!webAuthnAvailable()) showUnsupported([reverify]);
localiseTimes();
enableScriptedButtons();
resumeChange();
