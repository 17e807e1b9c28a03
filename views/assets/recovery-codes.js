// Settings page, recovery codes (issue 11): "Make recovery codes" asks the server for a new set and shows it once,
// with "Download as text file" (a Blob made here: nothing is fetched again) and "Copy". Making a set needs the
// emailed identity check: when the server answers 403, the page offers the email, whose link comes back here with
// `?recovery=generate`; one more press then makes the codes (the query alone changes nothing).
import { api, requestRegistrationEmail, statusArea } from './webauthn-client.js';

/** Wires the section; the settings page renders all of its parts (views/recovery-codes.ts). */
function wireRecoveryCodes() {
  const status = statusArea('recovery-status');
  const generate = /** @type {HTMLButtonElement | null} */ (document.getElementById('recovery-generate'));
  const confirmPart = /** @type {HTMLElement} */ (document.getElementById('recovery-confirm'));
  const confirmGenerate = /** @type {HTMLButtonElement} */ (document.getElementById('recovery-confirm-generate'));
  const elevation = /** @type {HTMLElement} */ (document.getElementById('recovery-elevation'));
  const emailProof = /** @type {HTMLButtonElement} */ (document.getElementById('recovery-email-proof'));
  const shown = /** @type {HTMLElement} */ (document.getElementById('recovery-new'));
  const list = /** @type {HTMLOListElement} */ (document.getElementById('recovery-code-list'));
  const summary = /** @type {HTMLElement} */ (document.getElementById('recovery-summary'));
  const section = /** @type {HTMLElement} */ (document.getElementById('recovery-codes'));

  /** Where the emailed proof's link returns. */
  const RETURN_PATH = '/settings?recovery=generate';

  /** The codes on screen, for download and copy; forgotten when the user says they saved them. */
  /** @type {string[]} */
  let codes = [];
  /** When the codes on screen were made (ISO), for the file's header. */
  let madeAt = '';

  /** The codes as the downloaded file holds them. */
  function codesText() {
    const lines = [
      'Gatehouse recovery codes',
      `Account: ${section.dataset.username ?? ''}`,
      `Made: ${madeAt}`,
      `Page: ${location.origin}`,
      '',
      'Each code works once, instead of a security key. Making a new set voids these.',
      '',
      ...codes.map((code, index) => `${String(index + 1).padStart(2, ' ')}. ${code}`),
      '',
    ];
    return lines.join('\n');
  }

  /** @param {string[]} newCodes @param {string} created */
  function showCodes(newCodes, created) {
    codes = newCodes;
    madeAt = created;
    list.replaceChildren(
      ...newCodes.map((code) => {
        const item = document.createElement('li');
        const text = document.createElement('code');
        text.textContent = code;
        item.append(text);
        return item;
      }),
    );
    shown.hidden = false;
    confirmPart.hidden = true;
    elevation.hidden = true;
    if (generate) {
      generate.hidden = true;
      generate.dataset.replacing = 'true';
      generate.textContent = 'Make new recovery codes';
    }
    summary.textContent = `${newCodes.length} of ${newCodes.length} recovery codes left (made just now).`;
    status.show('Your new recovery codes are below. Any earlier codes no longer work.', 'success');
    /** @type {HTMLButtonElement} */ (document.getElementById('recovery-download')).focus();
  }

  async function makeCodes() {
    confirmGenerate.disabled = true;
    if (generate) generate.disabled = true;
    status.show('Making your codes…', 'info');
    const reply = await api('POST', '/api/recovery-codes', {});
    confirmGenerate.disabled = false;
    if (generate) generate.disabled = false;
    if (reply.ok) {
      showCodes(reply.data.codes, reply.data.created_at);
      return;
    }
    if (reply.status === 403) {
      confirmPart.hidden = true;
      status.clear();
      elevation.hidden = false;
      emailProof.focus();
      return;
    }
    status.show(reply.message);
  }

  generate?.addEventListener('click', () => {
    status.clear();
    // Replacing a set voids the codes the user may rely on: one more press, said plainly.
    if (generate.dataset.replacing === 'true') {
      confirmPart.hidden = false;
      confirmGenerate.focus();
    } else makeCodes();
  });
  confirmGenerate.addEventListener('click', makeCodes);
  document.getElementById('recovery-cancel')?.addEventListener('click', () => {
    confirmPart.hidden = true;
    generate?.focus();
  });
  emailProof.addEventListener('click', () => requestRegistrationEmail(status, emailProof, RETURN_PATH));

  document.getElementById('recovery-download')?.addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([codesText()], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'gatehouse-recovery-codes.txt';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  document.getElementById('recovery-copy')?.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      status.show('Copied. Paste them somewhere safe.', 'success');
    } catch {
      status.show('Copying is not allowed here: select the codes and copy them, or download the file.');
    }
  });

  document.getElementById('recovery-done')?.addEventListener('click', () => {
    codes = [];
    list.replaceChildren();
    shown.hidden = true;
    status.show('Keep your codes safe. You can make a new set here at any time.', 'info');
    if (generate) {
      generate.hidden = false;
      generate.focus();
    }
  });

  if (generate) generate.disabled = false;

  // Back from the emailed proof: open the question, so that one press makes the codes.
  if (new URLSearchParams(location.search).get('recovery') === 'generate') {
    history.replaceState(null, '', location.pathname);
    if (generate) {
      status.show('Identity confirmed. Press the button below to make your codes.', 'info');
      generate.focus();
    }
  }
}

// Loaded by settings.js: a settings page without the section (WebAuthn off) has nothing to wire.
if (document.getElementById('recovery-codes')) wireRecoveryCodes();
