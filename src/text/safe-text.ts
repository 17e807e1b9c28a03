// Text from a request that is written to the authentication log or used as a regulation subject. PostgreSQL refuses
// a NUL byte and its indexes refuse very long keys: either would turn a sign-in attempt into an error that is
// neither delayed, logged nor counted. Control characters also forge lines in whatever displays the log.

/** C0/C1 controls, DEL, line/paragraph separators and lone surrogates (not text: UTF-8 cannot carry them). */
const UNSAFE = /[\p{Cc}\u2028\u2029\uD800-\uDFFF]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/** The longest username Gatehouse verifies or counts (the portal refuses longer ones outright). */
export const MAX_USERNAME_LENGTH = 256;
/** Longer log fields are cut: the log records what was asked for, not every byte of it. */
export const MAX_LOGGED_LENGTH = 2048;

/** Whether `text` holds a character that is never part of a username, URL or method. */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * `text` with every unsafe character written as an escape (`\x00`, `\u2028`), cut to `max` characters: safe to
 * store and to show, and still telling which bytes were sent.
 */
export function safeText(text: string, max = MAX_LOGGED_LENGTH): string {
  const escaped = UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeCharacter) : text;
  if (escaped.length <= max) return escaped;
  // Never cut between the two halves of a surrogate pair.
  const cut = escaped.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function escapeCharacter(character: string): string {
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
