// The users file in Authelia's format (SPEC §3): parsed and validated in one pass that reports every problem
// with its key path, as configuration validation does. Values end up in `Remote-*` headers and in pages, so
// anything that could split a header (CR, LF, other control characters) or a comma-joined list is refused.
// `checkUsersFile` reads the file as `validate-config` and `serve` check it before start.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { joinKeyPath, type ConfigProblem } from '../config/problems.js';
import { statOrError, USERS_PATH_KEY, type ReferencedFileFindings } from '../config/referenced-files.js';
import { describeHash } from './hashing.js';
import type { UserDetails } from './provider.js';

export interface UserRecord {
  details: UserDetails;
  /** The hash as written in the file; only the password check reads it. */
  passwordHash: string;
}

export type UsersFileProblem = ConfigProblem;

export interface ParsedUsersFile {
  users: Map<string, UserRecord>;
  problems: UsersFileProblem[];
}

/** A users file this large is a mistake or an attack: it is refused before being read whole into memory. */
export const MAX_USERS_FILE_BYTES = 8 * 1024 * 1024;
const MAX_USERNAME_LENGTH = 100;
const MAX_GROUP_LENGTH = 100;
const MAX_TEXT_LENGTH = 256;
const MAX_EMAIL_LENGTH = 254;

/** Attributes newer Authelia versions accept for OpenID Connect claims; Gatehouse has no use for them yet. */
const IGNORED_ATTRIBUTES = new Set([
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'gender',
  'birthdate',
  'website',
  'profile',
  'picture',
  'zoneinfo',
  'locale',
  'phone_number',
  'phone_extension',
  'address',
  'extra',
]);
const USER_KEYS = ['password', 'displayname', 'email', 'emails', 'groups', 'disabled'];

// C0, DEL, C1 and the Unicode line/paragraph separators: any of them in a header value is an injection attempt.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const WHITESPACE = /\s/u;
const EMAIL = /^[^\s@,;<>"()[\]\\]+@[^\s@,;<>"()[\]\\]+\.[^\s@,;<>"()[\]\\]+$/u;

/**
 * Parses the text of a users file; `source` (the file name) labels problems that concern the whole document.
 * A user with any problem is left out of `users`; callers refuse to use a file with problems at all.
 */
export function parseUsersFile(text: string, source: string): ParsedUsersFile {
  const users = new Map<string, UserRecord>();
  const problems: UsersFileProblem[] = [];
  const document = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: true });
  if (document.errors.length > 0) {
    // First line only: the rest quotes the file, which may hold hashes or a mistakenly pasted password.
    for (const error of document.errors)
      problems.push({ path: source, message: `is not valid YAML: ${firstLine(error.message)}` });
    return { users, problems };
  }
  let root: unknown;
  try {
    root = document.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (error) {
    problems.push({
      path: source,
      message: `cannot be read as YAML data: ${firstLine(String((error as Error).message))}`,
    });
    return { users, problems };
  }
  if (!(root instanceof Map)) {
    problems.push({ path: source, message: "must be a map with a top-level 'users' key" });
    return { users, problems };
  }
  for (const key of root.keys()) {
    if (key !== 'users') problems.push({ path: printable(key), message: "unknown key (the file has only 'users')" });
  }
  const entries = root.get('users');
  if (entries === undefined) problems.push({ path: 'users', message: 'is required' });
  else if (entries !== null && !(entries instanceof Map))
    problems.push({ path: 'users', message: 'must be a map of usernames to users' });
  // Access rules compare user names ignoring case, so two accounts that differ only by case would pass each
  // other's rules: refused.
  const lowerCased = new Map<string, string>();
  for (const [username, value] of entries instanceof Map ? entries : []) {
    const path = joinKeyPath('users', printable(username));
    const before = problems.length;
    checkUsername(username, path, problems);
    if (typeof username === 'string') {
      const other = lowerCased.get(username.toLowerCase());
      if (other !== undefined)
        problems.push({
          path,
          message: `differs from user '${other}' only by case; access rules would not tell them apart`,
        });
      else lowerCased.set(username.toLowerCase(), username);
    }
    const record = typeof username === 'string' ? readUser(username, value, path, problems) : undefined;
    if (record && problems.length === before) users.set(username as string, record);
  }
  return { users, problems };
}

function readUser(
  username: string,
  value: unknown,
  path: string,
  problems: UsersFileProblem[],
): UserRecord | undefined {
  if (!(value instanceof Map)) {
    problems.push({ path, message: 'must be a map with at least a password' });
    return undefined;
  }
  for (const key of value.keys()) {
    if (typeof key === 'string' && (USER_KEYS.includes(key) || IGNORED_ATTRIBUTES.has(key))) continue;
    problems.push({ path: joinKeyPath(path, printable(key)), message: `unknown key (known: ${USER_KEYS.join(', ')})` });
  }
  const passwordHash = readPasswordHash(value.get('password'), joinKeyPath(path, 'password'), problems);
  const displayName = readDisplayName(value.get('displayname'), username, joinKeyPath(path, 'displayname'), problems);
  const emails = readEmails(value, path, problems);
  const groups = readGroups(value.get('groups'), joinKeyPath(path, 'groups'), problems);
  const disabled = readDisabled(value.get('disabled'), joinKeyPath(path, 'disabled'), problems);
  if (passwordHash === undefined) return undefined;
  const details: UserDetails = Object.freeze({
    username,
    displayName,
    emails: Object.freeze(emails) as string[],
    groups: Object.freeze(groups) as string[],
    disabled,
  });
  return { details, passwordHash };
}

function checkUsername(username: unknown, path: string, problems: UsersFileProblem[]): void {
  const message =
    typeof username !== 'string'
      ? 'a username must be a string (quote it)'
      : username === ''
        ? 'a username must not be empty'
        : username.length > MAX_USERNAME_LENGTH
          ? `a username must be at most ${MAX_USERNAME_LENGTH} characters`
          : CONTROL.test(username) || WHITESPACE.test(username)
            ? 'a username must not contain whitespace or control characters'
            : username.includes(',')
              ? 'a username must not contain a comma'
              : undefined;
  if (message !== undefined) problems.push({ path, message });
}

function readPasswordHash(value: unknown, path: string, problems: UsersFileProblem[]): string | undefined {
  if (value === undefined || value === null) {
    problems.push({ path, message: 'is required (make a hash with `gatehouse hash-password`)' });
    return undefined;
  }
  const description = describeHash(value);
  if ('error' in description) {
    problems.push({ path, message: description.error });
    return undefined;
  }
  return value as string;
}

function readDisplayName(value: unknown, username: string, path: string, problems: UsersFileProblem[]): string {
  if (value === undefined || value === null || value === '') return username;
  return readHeaderText(value, path, problems, MAX_TEXT_LENGTH) ?? username;
}

/** `email` (one address, as Authelia writes it) or `emails` (a list); the first address is the primary one. */
function readEmails(user: Map<unknown, unknown>, path: string, problems: UsersFileProblem[]): string[] {
  const single = user.get('email');
  const list = user.get('emails');
  if (single !== undefined && list !== undefined) {
    problems.push({ path: joinKeyPath(path, 'emails'), message: "use either 'email' or 'emails', not both" });
    return [];
  }
  if (Array.isArray(single)) {
    // As in Authelia, whose `email` holds one address: a list is refused, not half-read.
    problems.push({
      path: joinKeyPath(path, 'email'),
      message: "must be one address; list several under 'emails' instead",
    });
    return [];
  }
  if (single !== undefined && single !== null) {
    const email = readEmail(single, joinKeyPath(path, 'email'), problems);
    return email === undefined ? [] : [email];
  }
  return readList(list, joinKeyPath(path, 'emails'), problems, readEmail);
}

function readEmail(value: unknown, path: string, problems: UsersFileProblem[]): string | undefined {
  const text = readHeaderText(value, path, problems, MAX_EMAIL_LENGTH);
  if (text === undefined) return undefined;
  if (!EMAIL.test(text)) {
    problems.push({ path, message: 'must be an email address (name@domain)' });
    return undefined;
  }
  return text;
}

function readGroups(value: unknown, path: string, problems: UsersFileProblem[]): string[] {
  return readList(value, path, problems, (item, itemPath, itemProblems) => {
    const group = readHeaderText(item, itemPath, itemProblems, MAX_GROUP_LENGTH);
    if (group === undefined) return undefined;
    if (group.includes(',')) {
      // Remote-Groups joins the groups with commas; a comma inside one would forge an extra group.
      itemProblems.push({ path: itemPath, message: 'a group name must not contain a comma' });
      return undefined;
    }
    return group;
  });
}

function readDisabled(value: unknown, path: string, problems: UsersFileProblem[]): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  problems.push({ path, message: 'must be true or false' });
  return true;
}

type ItemReader = (value: unknown, path: string, problems: UsersFileProblem[]) => string | undefined;

/** A list of strings, each read by `readItem`; duplicates are dropped, the first occurrence keeps its place. */
function readList(value: unknown, path: string, problems: UsersFileProblem[], readItem: ItemReader): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'must be a list' });
    return [];
  }
  const items: string[] = [];
  value.forEach((item, index) => {
    const read = readItem(item, joinKeyPath(path, index), problems);
    if (read !== undefined && !items.includes(read)) items.push(read);
  });
  return items;
}

/** A non-empty string that is safe inside an HTTP header value. */
function readHeaderText(
  value: unknown,
  path: string,
  problems: UsersFileProblem[],
  maxLength: number,
): string | undefined {
  const message =
    typeof value !== 'string'
      ? 'must be a string (quote it)'
      : value.trim() === ''
        ? 'must not be empty'
        : value.length > maxLength
          ? `must be at most ${maxLength} characters`
          : CONTROL.test(value)
            ? 'must not contain line breaks or other control characters (it is sent in a header)'
            : undefined;
  if (message === undefined) return value as string;
  problems.push({ path, message });
  return undefined;
}

/** A key as it can be shown in a problem's path: control characters escaped so a log line stays one line. */
function printable(key: unknown): string {
  return String(key).replace(
    new RegExp(CONTROL.source, 'gu'),
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim().replace(/:$/, '');
}

/**
 * The users file exists, is small enough, and every user in it is usable, as `FileUserProvider.open` demands.
 * A missing file is refused rather than started without users: a portal nobody can sign in to would also hide a
 * mistyped path. A file with no users starts, with a warning (the users may be added while it runs).
 */
export function checkUsersFile(path: string, findings: ReferencedFileFindings): void {
  const at = (message: string): void =>
    void findings.problems.push({ path: USERS_PATH_KEY, message: `users file '${path}': ${message}` });
  const info = statOrError(path);
  if (typeof info === 'string') {
    at(
      info === 'file not found'
        ? "file not found: create it in Authelia's format (see users_database.yml in the repository; `gatehouse hash-password` makes the hashes) or set authentication_backend.file.path"
        : info,
    );
    return;
  }
  if (!info.isFile()) {
    at('is not a regular file');
    return;
  }
  if (info.size > MAX_USERS_FILE_BYTES) {
    at(`is larger than ${MAX_USERS_FILE_BYTES} bytes`);
    return;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    at(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return;
  }
  // Problems inside the file are named by the file and their path in it, which is what the operator edits.
  const parsed = parseUsersFile(text, path);
  findings.problems.push(
    ...parsed.problems.map((problem) => ({
      path: problem.path === path ? path : `${path}: ${problem.path}`,
      message: problem.message,
    })),
  );
  if (parsed.problems.length === 0 && parsed.users.size === 0) {
    findings.warnings.push(
      `users file '${path}' has no users: nobody can sign in until some are added (\`gatehouse hash-password\` makes the hashes)`,
    );
  }
}
