// What the security-key pages' scripts share: JSON calls to the portal API (SPEC §6), the live-region messages, and
// the browser's WebAuthn ceremonies through @simplewebauthn/browser, which Gatehouse serves itself (no CDN, strict
// CSP). Text from the server only ever reaches the page through textContent, never as HTML.
import { browserSupportsWebAuthn, startAuthentication } from './vendor/simplewebauthn/index.js';

/** @typedef {{ rd?: string, rm?: string }} Target  Where the user was heading (SPEC §5 rd / rm). */
/** @typedef {'authentication' | 'passkey' | 'registration'} CeremonyKind */
/**
 * What the portal API answered: `data` is the API's JSON `data`, whose shape each endpoint defines.
 * @typedef {{ ok: true, status: number, data: any } | { ok: false, status: number, message: string }} ApiReply
 */
/** @typedef {{ ok: false, status: 0, message: string, superseded: boolean }} CeremonyFailure */
/**
 * How a WebAuthn ceremony ended.
 * @template T
 * @typedef {{ ok: true, response: T } | CeremonyFailure} CeremonyResult
 */
/** @typedef {ReturnType<typeof statusArea>} StatusArea */

export const MESSAGES = {
  unsupported: 'This browser cannot use security keys.',
  cancelled: 'The security key request was cancelled or timed out. Try again.',
  alreadyRegistered: 'This security key is already registered. Use another key.',
  refused: 'The browser refused to use a security key on this page.',
  unreachable: 'Gatehouse cannot be reached. Try again.',
  failed: 'Something went wrong. Try again.',
  touchKey: 'Touch your security key when it blinks.',
  unknownKey:
    'This security key is not registered for your account. Use a key you registered here, or register this one (“Lost your key?”).',
  noPasskey: 'No passkey for this site was found on this device or key. Sign in with your password instead.',
  emailSent:
    'We sent you an email with a link. Open it to register your security key; it works for a few minutes only.',
  proofEmailSent:
    'We sent you an email with a link. Open it and press Confirm: you come back here to finish the change. It works for a few minutes only.',
};

/**
 * Below this, a refusal came from the browser and not from a person: nobody cancels a prompt this fast. Browsers
 * answer at once (NotAllowedError, as for a cancel) when none of the keys present holds a credential asked for.
 */
const INSTANT_REFUSAL_MS = 1_000;

/**
 * A ceremony that ended without a credential: what the user should read.
 * @param {any} error  whatever the ceremony threw
 * @param {{ kind?: CeremonyKind, elapsedMs?: number }} [context]
 * @returns {string}
 */
export function ceremonyMessage(error, { kind, elapsedMs } = {}) {
  if (!browserSupportsWebAuthn()) return MESSAGES.unsupported;
  if (error?.name === 'NotAllowedError' && elapsedMs !== undefined && elapsedMs < INSTANT_REFUSAL_MS) {
    if (kind === 'authentication') return MESSAGES.unknownKey;
    if (kind === 'passkey') return MESSAGES.noPasskey;
  }
  switch (error?.name) {
    // NotAllowedError covers "cancelled", "timed out" and "no key answered"; browsers do not say which.
    case 'NotAllowedError':
    case 'AbortError':
      return MESSAGES.cancelled;
    case 'InvalidStateError':
      return MESSAGES.alreadyRegistered;
    case 'SecurityError':
      return MESSAGES.refused;
    default:
      return MESSAGES.failed;
  }
}

/**
 * True when the error only says that a newer ceremony (or the page) cancelled this one.
 * @param {any} error
 */
export function wasSuperseded(error) {
  return error?.name === 'AbortError' || error?.code === 'ERROR_CEREMONY_ABORTED';
}

export const webAuthnAvailable = browserSupportsWebAuthn;

/**
 * Calls the portal API. Resolves `{ ok: true, status, data }` or `{ ok: false, status, message }`; never rejects,
 * so every caller has one place to put the message.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]  sent as JSON when given
 * @returns {Promise<ApiReply>}
 */
export async function api(method, path, body) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, message: MESSAGES.unreachable };
  }
  // A proxy's error page or an empty body is not JSON: it is a failure like any other.
  const reply = await response.json().catch(() => undefined);
  if (response.ok && reply?.status === 'OK') return { ok: true, status: response.status, data: reply.data };
  const message = typeof reply?.message === 'string' && reply.message ? reply.message : MESSAGES.failed;
  return { ok: false, status: response.status, message };
}

/**
 * Buttons are rendered disabled (`data-needs-script`) so that none looks usable before its page's script runs.
 * @param {ParentNode} [root]
 */
export function enableScriptedButtons(root = document) {
  const buttons = /** @type {NodeListOf<HTMLButtonElement>} */ (root.querySelectorAll('button[data-needs-script]'));
  for (const button of buttons) button.disabled = false;
}

/**
 * The polite live region with this ID; an empty text clears it.
 * @param {string} id
 */
export function statusArea(id) {
  const element = document.getElementById(id);
  return {
    /**
     * @param {string} text
     * @param {'error' | 'info' | 'success'} [kind]
     */
    show(text, kind = 'error') {
      if (!element) return;
      element.textContent = text;
      if (text) element.dataset.kind = kind;
      else delete element.dataset.kind;
    },
    clear() {
      this.show('');
    },
  };
}

/**
 * Hides what cannot work without WebAuthn (the elements given, and every `[data-needs-webauthn]`: instructions
 * about touching a key) and shows the page's "cannot use security keys" note.
 * @param {Iterable<HTMLElement | null>} elements
 */
export function showUnsupported(elements) {
  const needsWebAuthn = /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-needs-webauthn]'));
  for (const element of [...elements, ...needsWebAuthn]) if (element) element.hidden = true;
  const note = document.getElementById('webauthn-unsupported');
  if (note) note.hidden = false;
}

/**
 * The rd / rm a page carries in hidden inputs (SPEC §5), so the target survives every step.
 * @param {HTMLFormElement | null} form
 * @returns {Target}
 */
export function carriedTarget(form) {
  /** @param {string} name */
  const value = (name) => {
    const input = form?.elements.namedItem(name);
    return input instanceof HTMLInputElement && input.value ? input.value : undefined;
  };
  return { rd: value('rd'), rm: value('rm') };
}

/**
 * The portal's own next step for a target: `/` decides what the session may do with it now.
 * @param {Target} [target]
 */
export function portalStepUrl({ rd, rm } = {}) {
  const query = new URLSearchParams();
  if (rd) query.set('rd', rd);
  if (rm) query.set('rm', rm);
  const search = query.toString();
  return search ? `/?${search}` : '/';
}

/**
 * Follows the server's `data.redirect` (only an http(s) URL), else lets the portal show the next step.
 * @param {any} data  the API's answer data
 * @param {Target} [target]
 */
export function goNext(data, target) {
  const redirect = data?.redirect;
  if (typeof redirect === 'string' && redirect) {
    try {
      const url = new URL(redirect, location.href);
      if (url.protocol === 'https:' || url.protocol === 'http:') {
        location.assign(url.href);
        return;
      }
    } catch {
      // Not a URL: fall through to the portal's own next step.
    }
  }
  location.assign(portalStepUrl(target));
}

/**
 * Runs a WebAuthn ceremony; resolves `{ ok: true, response }` or `{ ok: false, message, superseded }`. `kind`
 * ('authentication', 'passkey', 'registration') lets an instant refusal be named for what it likely is.
 * @template T
 * @param {() => Promise<T>} start
 * @param {CeremonyKind} [kind]
 * @returns {Promise<CeremonyResult<T>>}
 */
export async function ceremony(start, kind) {
  const started = performance.now();
  try {
    return { ok: true, response: await start() };
  } catch (error) {
    const elapsedMs = performance.now() - started;
    return {
      ok: false,
      status: 0,
      message: ceremonyMessage(error, { kind, elapsedMs }),
      superseded: wasSuperseded(error),
    };
  }
}

/**
 * The second factor (SPEC §6): options, the key's signature, verification. The target (rd / rm) is passed on so
 * the server can answer with the safe redirect; JSON leaves out the parts that are undefined.
 * @param {Target} [target]
 * @returns {Promise<ApiReply | CeremonyFailure>}
 */
export async function verifyWithSecurityKey({ rd, rm } = {}) {
  const options = await api('POST', '/api/webauthn/authentication/options', {});
  if (!options.ok) return options;
  const signed = await ceremony(() => startAuthentication({ optionsJSON: options.data }), 'authentication');
  if (!signed.ok) return signed;
  return api('POST', '/api/webauthn/authentication', { response: signed.response, targetURL: rd, requestMethod: rm });
}

/**
 * Asks for the emailed link (SPEC §6 /api/identity/start) and says what happened. With `returnTo` (a portal path)
 * the link only confirms the user and leads back there; without, it registers a new key.
 * @param {StatusArea} status
 * @param {HTMLButtonElement | null} [button]
 * @param {string} [returnTo]
 */
export async function requestRegistrationEmail(status, button, returnTo) {
  if (button) button.disabled = true;
  status.show('Sending the email…', 'info');
  const sent = await api('POST', '/api/identity/start', { action: 'register_webauthn', returnTo });
  if (button) button.disabled = false;
  if (sent.ok) status.show(returnTo ? MESSAGES.proofEmailSent : MESSAGES.emailSent, 'info');
  // "An email was sent a moment ago" is not a failure: the earlier email is on its way.
  else status.show(sent.message, sent.status === 429 ? 'info' : 'error');
  return sent.ok;
}

/**
 * How far back "2 hours ago" reads better than a date; the largest unit first.
 * @type {Array<[Intl.RelativeTimeFormatUnit, number]>}
 */
const RELATIVE_UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];
const RELATIVE_LIMIT_MS = 7 * 86_400_000;

/**
 * @param {Date} when
 * @param {number} now
 */
function relativeTime(when, now) {
  const ago = now - when.getTime();
  if (ago < 0 || ago >= RELATIVE_LIMIT_MS) return undefined;
  if (ago < 60_000) return 'just now';
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  // At least a minute ago here, so a unit always matches.
  const [unit, size] = /** @type {[Intl.RelativeTimeFormatUnit, number]} */ (
    RELATIVE_UNITS.find(([, ms]) => ago >= ms)
  );
  return format.format(-Math.floor(ago / size), unit);
}

/**
 * Shows the server's UTC `<time datetime>` elements in local time: `data-style="date"` as a date, `"recent"` as
 * "2 hours ago" while recent, else as date and time.
 * @param {ParentNode} [root]
 */
export function localiseTimes(root = document) {
  const formats = {
    date: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }),
    recent: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }),
  };
  const now = Date.now();
  for (const element of /** @type {NodeListOf<HTMLTimeElement>} */ (root.querySelectorAll('time[datetime]'))) {
    // The selector asks for the attribute, so it is there.
    const when = new Date(/** @type {string} */ (element.getAttribute('datetime')));
    if (Number.isNaN(when.getTime())) continue;
    const style = element.dataset.style === 'date' ? 'date' : 'recent';
    const local = formats[style].format(when);
    const relative = style === 'recent' ? relativeTime(when, now) : undefined;
    element.textContent = relative ?? local;
    element.title = formats.recent.format(when);
  }
}

/**
 * The emailed link opens a new page without the target the user was heading for; it is kept here meanwhile, for
 * as long as a link could be used, so "Continue" after registering leads back to it.
 */
const TARGET_KEY = 'gatehouse.pending-target';
const TARGET_LIFETIME_MS = 30 * 60_000;

/** @param {Target} [target] */
export function rememberTarget({ rd, rm } = {}) {
  try {
    if (rd) localStorage.setItem(TARGET_KEY, JSON.stringify({ rd, rm, at: Date.now() }));
  } catch {
    // Storage may be off (private mode): the user then continues from the portal's start page.
  }
}

/**
 * The remembered target, once; undefined when none, too old, or unreadable.
 * @returns {Target | undefined}
 */
export function recallTarget() {
  try {
    const saved = JSON.parse(localStorage.getItem(TARGET_KEY) ?? 'null');
    localStorage.removeItem(TARGET_KEY);
    if (typeof saved?.rd !== 'string' || !(Date.now() - saved.at < TARGET_LIFETIME_MS)) return undefined;
    return { rd: saved.rd, rm: typeof saved.rm === 'string' ? saved.rm : undefined };
  } catch {
    return undefined;
  }
}
