// How a criterion compares the request with the rule's names and regexes, and why the answer can be MAY: a
// `subject`, a `{user}`/`{group}` domain or a User/Group regex group can only be HIT or MISS once the user is known.
// User and group names compare case-insensitively everywhere (subject, templates, regex groups).
import type { GoRegex } from '../config/go-regex.js';
import { bindsSubject } from '../config/access-control-syntax.js';
import { HIT, MAY, MISS, type AccessSubject, type Match } from './rules-request.js';

/** `text.slice(start, end)` equals `other` ignoring case, without building the slice for ASCII text. */
function sameIgnoringCase(text: string, start: number, end: number, other: string): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) {
    let a = text.charCodeAt(start + i);
    let b = other.charCodeAt(i);
    if (a === b) continue;
    if (a >= 0x80 || b >= 0x80) return text.slice(start, end).toLowerCase() === other.toLowerCase();
    if (a >= 65 && a <= 90) a += 32;
    if (b >= 65 && b <= 90) b += 32;
    if (a !== b) return false;
  }
  return true;
}

export const isUser = (subject: AccessSubject, text: string, start = 0, end = text.length): boolean =>
  sameIgnoringCase(text, start, end, subject.username);

export function inGroup(subject: AccessSubject, text: string, start = 0, end = text.length): boolean {
  for (const group of subject.groups) if (sameIgnoringCase(text, start, end, group)) return true;
  return false;
}

/** A regex whose User / Group groups, if any, bind the match to the subject. */
function matchBinding(compiled: GoRegex, text: string, subject: AccessSubject | undefined): Match {
  const groups = compiled.exec(text);
  if (groups === null) return MISS;
  if (subject === undefined) return MAY;
  const user = groups.User;
  const group = groups.Group;
  if (compiled.groupNames.includes('User') && (user === undefined || !isUser(subject, user))) return MISS;
  if (compiled.groupNames.includes('Group') && (group === undefined || !inGroup(subject, group))) return MISS;
  return HIT;
}

/**
 * A template domain, as Authelia matches it: `{user}` + suffix is the username followed by the suffix (dots and all:
 * john.doe at john.doe.example.com); `{group}` + suffix needs the first label to be a group and the rest of the host
 * to be the suffix (so `{group}-app.example.com` never matches a signed-in user, as in Authelia). An anonymous
 * request MAY match when the host ends with the suffix after something.
 */
export function matchTemplate(
  kind: 'user' | 'group',
  suffix: string,
  host: string,
  subject: AccessSubject | undefined,
): Match {
  const prefixEnd = host.length - suffix.length;
  if (prefixEnd <= 0 || !host.endsWith(suffix)) return MISS;
  if (subject === undefined) return MAY;
  if (kind === 'user') return isUser(subject, host, 0, prefixEnd) ? HIT : MISS;
  return host.indexOf('.') === prefixEnd && inGroup(subject, host, 0, prefixEnd) ? HIT : MISS;
}

/**
 * A matcher for a list of regexes: HIT if any hits, else MAY if any may, else MISS. Those that bind nothing to the
 * subject are split off at compile time: a plain `test` answers for them.
 */
export function anyRegex(regexes: readonly GoRegex[]): (text: string, subject: AccessSubject | undefined) => Match {
  const plain = regexes.filter((compiled) => !bindsSubject(compiled));
  const binding = regexes.filter(bindsSubject);
  return (text, subject) => {
    for (const regex of plain) if (regex.test(text)) return HIT;
    let result: Match = MISS;
    for (const compiled of binding) {
      const match = matchBinding(compiled, text, subject);
      if (match === HIT) return HIT;
      if (match === MAY) result = MAY;
    }
    return result;
  };
}
