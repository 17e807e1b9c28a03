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

const list = document.getElementById('key-list');
const status = statusArea('settings-status');
const elevation = document.getElementById('elevation-needed');
const reverify = document.getElementById('reverify');

/** The change refused for want of a fresh proof, replayed once the proof is given. */
let retryAfterProof;
/** The same change as the emailed link's return page names it: `{ action, id, name? }`. */
let pendingChange;

/** Far below the server's limit on a return path (src/portal/portal-path.ts). */
const RETURN_PATH_LIMIT = 240;

/** `/settings?resume=…&key=…[&name=…]`: after the emailed proof, this page reopens the change. */
function returnPathFor(change) {
  const query = new URLSearchParams({ resume: change.action, key: change.id });
  if (change.name) query.set('name', change.name);
  const path = `/settings?${query}`;
  if (path.length <= RETURN_PATH_LIMIT) return path;
  query.delete('name'); // a very long new name is typed again rather than lost in a refused request
  return `/settings?${query}`;
}

function part(item, name) {
  return item.querySelector(`[data-part="${name}"]`);
}

/** Shows one of the key's parts (its buttons, the rename form, the delete question) and hides the others. */
function showPart(item, name) {
  for (const candidate of ['actions', 'rename', 'delete']) part(item, candidate).hidden = candidate !== name;
}

function keyName(item) {
  return item.querySelector('.key-name')?.textContent ?? '';
}

function setBusy(item, busy) {
  for (const button of item.querySelectorAll('button')) button.disabled = busy;
}

/** A 403 means "prove it is you first": remember the change and show how to give the proof. */
function needsProof(reply, retry, change) {
  if (reply.status !== 403) return false;
  retryAfterProof = retry;
  pendingChange = change;
  status.clear();
  elevation.hidden = false;
  reverify.focus();
  return true;
}

async function rename(item, form) {
  const input = form.elements.namedItem('description');
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
  const reply = await api('PUT', `/api/webauthn/credentials/${encodeURIComponent(item.dataset.id)}`, {
    description: name,
  });
  setBusy(item, false);
  if (reply.ok) {
    for (const element of item.querySelectorAll('.key-name, .confirm-text strong')) element.textContent = name;
    input.defaultValue = name;
    showPart(item, 'actions');
    status.show(`Renamed to “${name}”.`, 'info');
    item.querySelector('[data-action="rename"]')?.focus();
    return;
  }
  if (needsProof(reply, () => rename(item, form), { action: 'rename', id: item.dataset.id, name })) return;
  status.show(reply.status === 409 ? `You already have a key named “${name}”. Choose another name.` : reply.message);
  input.focus();
}

async function remove(item) {
  const name = keyName(item);
  setBusy(item, true);
  const reply = await api('DELETE', `/api/webauthn/credentials/${encodeURIComponent(item.dataset.id)}`);
  setBusy(item, false);
  if (reply.ok || reply.status === 404) {
    // Focus moves to the neighbouring key (or the register button), not to the top of the page.
    const neighbour = item.nextElementSibling ?? item.previousElementSibling;
    item.remove();
    (neighbour?.querySelector('[data-action="rename"]') ?? document.getElementById('request-registration'))?.focus();
    document.getElementById('no-keys').hidden = list.children.length > 0;
    status.show(reply.ok ? `“${name}” was deleted.` : `“${name}” was already gone.`, 'info');
    return;
  }
  if (needsProof(reply, () => remove(item), { action: 'delete', id: item.dataset.id })) return;
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

function openRename(item, name) {
  showPart(item, 'rename');
  const input = part(item, 'rename').elements.namedItem('description');
  input.value = name ?? keyName(item);
  input.select();
  input.focus();
}

/** Closes a key's rename form or delete question, focus back on the button that opened it. */
function closeParts(item, from) {
  showPart(item, 'actions');
  item.querySelector(`[data-action="${from === 'delete' ? 'delete' : 'rename'}"]`)?.focus();
}

list?.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  const item = button?.closest('li.key');
  if (!button || !item) return;
  status.clear();
  switch (button.dataset.action) {
    case 'rename':
      openRename(item);
      break;
    case 'delete':
      showPart(item, 'delete');
      part(item, 'delete').querySelector('[data-action="cancel"]')?.focus();
      break;
    case 'cancel':
      closeParts(item, button.closest('[data-part]')?.dataset.part);
      break;
    case 'confirm-delete':
      remove(item);
      break;
  }
});

list?.addEventListener('submit', (event) => {
  const form = event.target;
  const item = form instanceof HTMLFormElement ? form.closest('li.key') : null;
  if (!item) return;
  event.preventDefault();
  rename(item, form);
});

// Escape closes an open rename form or delete question, as Cancel does.
list?.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || !(event.target instanceof Element)) return;
  const open = event.target.closest('[data-part="rename"], [data-part="delete"]');
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
  const item = [...(list?.querySelectorAll('li.key') ?? [])].find(
    (candidate) => candidate.dataset.id === query.get('key'),
  );
  if (!item) return status.show('That key is no longer on your list.', 'info');
  if (action === 'rename') {
    openRename(item, query.get('name') ?? undefined);
    status.show('Identity confirmed. Press Save to rename the key.', 'info');
  } else if (action === 'delete') {
    showPart(item, 'delete');
    part(item, 'delete').querySelector('[data-action="confirm-delete"]')?.focus();
    status.show('Identity confirmed. Press Delete to remove the key.', 'info');
  }
}

reverify?.addEventListener('click', giveProof);
document
  .getElementById('request-registration')
  ?.addEventListener('click', (event) => requestRegistrationEmail(status, event.currentTarget));
// The emailed proof for a rename or delete: its link only confirms the user and comes back here.
const emailProof = document.getElementById('email-proof');
emailProof?.addEventListener('click', () =>
  requestRegistrationEmail(status, emailProof, pendingChange ? returnPathFor(pendingChange) : '/settings'),
);
// Touching a key is one way to give the proof; without WebAuthn only the emailed link is left.
if (!webAuthnAvailable()) showUnsupported([reverify]);
localiseTimes();
enableScriptedButtons();
resumeChange();
