// Recovery codes on the portal's pages (issue 11): the settings page's section (how many codes are left, never the
// codes; making a new set, whose codes the page's script shows once with "Download as text file" and "Copy"), and
// the second-factor page's "Use a recovery code instead" form. Scripts: recovery-codes.js and recovery-sign-in.js.
import { html, type SafeHtml } from '../src/text/html.js';
import { RECOVERY_CODE_MAX_INPUT } from '../src/webauthn/recovery-codes.js';

export interface RecoveryCodesView {
  /** Written into the downloaded file's header. */
  username: string;
  /** Codes can only be made by a user who has a key (they stand in for a lost one). */
  hasKeys: boolean;
  remaining: number;
  total: number;
  createdAt: Date | undefined;
}

const MADE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

function summary(p: RecoveryCodesView): SafeHtml | string {
  if (p.createdAt === undefined) return 'You have no recovery codes yet.';
  const made = html`<time datetime="${p.createdAt.toISOString()}" data-style="date">${MADE.format(p.createdAt)}</time>`;
  if (p.remaining === 0) return html`All your recovery codes (made ${made}) are used. Make a new set.`;
  return html`<strong id="recovery-remaining">${p.remaining}</strong> of ${p.total} recovery codes left (made ${made}).`;
}

/** The settings page's section. */
export function recoveryCodesSection(p: RecoveryCodesView): SafeHtml {
  const replacing = p.remaining > 0;
  return html`<section class="recovery" id="recovery-codes" aria-labelledby="recovery-heading" data-username="${p.username}">
<h2 id="recovery-heading">Recovery codes</h2>
<p class="hint">If you lose every key, a recovery code signs you in instead of a key. Each code works once.</p>
${
  p.hasKeys
    ? html`<p id="recovery-summary">${summary(p)}</p>`
    : html`<p id="recovery-summary">Register a security key first; then you can make recovery codes.</p>`
}
<div id="recovery-status" class="status" role="status" aria-live="polite"></div>
<div id="recovery-elevation" class="callout info elevation" hidden>
<p>For your safety, making recovery codes needs the link we email you. Opening it and pressing Confirm brings you back here to finish.</p>
<div class="inline-actions">
<button type="button" id="recovery-email-proof" class="button small secondary">Email me a link</button>
</div>
</div>
<div id="recovery-confirm" class="key-form" hidden>
<p class="confirm-text">Make a new set? Your unused codes stop working at once.</p>
<div class="inline-actions">
<button type="button" id="recovery-confirm-generate" class="button small primary">Make new codes</button>
<button type="button" id="recovery-cancel" class="button small secondary">Cancel</button>
</div>
</div>
<div id="recovery-new" hidden>
<p class="callout info">Save these codes now: they are shown only this once. Keep them apart from your keys.</p>
<ol class="recovery-code-list" id="recovery-code-list"></ol>
<div class="inline-actions">
<button type="button" id="recovery-download" class="button small primary">Download as text file</button>
<button type="button" id="recovery-copy" class="button small secondary">Copy</button>
<button type="button" id="recovery-done" class="button small secondary">Done, I saved them</button>
</div>
</div>
${
  p.hasKeys &&
  html`<div class="inline-actions" id="recovery-actions">
<button type="button" id="recovery-generate" class="button small secondary" data-replacing="${replacing ? 'true' : 'false'}" disabled data-needs-script>${replacing ? 'Make new recovery codes' : 'Make recovery codes'}</button>
</div>`
}
</section>`;
}

/** The second-factor page's way in without a key: a link-button that opens a one-field form. */
export function recoveryCodeForm(): SafeHtml {
  return html`<form id="recovery-code-form" class="recovery-form" method="post" hidden>
<div class="field">
<label for="recovery-code">Recovery code</label>
<input id="recovery-code" name="code" type="text" inputmode="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="${RECOVERY_CODE_MAX_INPUT}" placeholder="xxxx-xxxx-xxxx" aria-describedby="recovery-code-hint recovery-code-status" required>
<p class="hint" id="recovery-code-hint">One of the codes you saved when you made them. Each code works once.</p>
</div>
<div id="recovery-code-status" class="status" role="status" aria-live="polite"></div>
<button type="submit" class="button primary" disabled data-needs-script>Continue</button>
</form>
<button type="button" id="use-recovery-code" class="link-button" disabled data-needs-script>Use a recovery code instead</button>`;
}
