// Files the configuration names, checked as `serve` would use them (issue 7): `validate-config` and `serve` both
// run these checks through `loadConfig`, so a configuration that validates does not then fail to start.
// The users file is checked by the users backend's own reader, handed in by the caller (config sits below users).
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { Config } from './schema.js';
import type { ConfigProblem } from './problems.js';

export const USERS_PATH_KEY = 'authentication_backend.file.path';
const LOCAL_STORAGE_KEY = 'storage.local.path';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export interface ReferencedFileFindings {
  problems: ConfigProblem[];
  warnings: string[];
}

/** Checks the users file at `path` as the users backend will read it, adding to `findings`. */
export type UsersFileCheck = (path: string, findings: ReferencedFileFindings) => void;

/** Problems with the files `config` names; `skip` says which keys not to check (their value is not the operator's). */
export function referencedFileProblems(
  config: Config,
  checkUsersFile: UsersFileCheck,
  skip: (key: string) => boolean = () => false,
): ReferencedFileFindings {
  const findings: ReferencedFileFindings = { problems: [], warnings: [] };
  // With LDAP the users file is not read, so its (default) path is not checked either.
  if (!skip(USERS_PATH_KEY) && config.authentication_backend.ldap === undefined)
    checkUsersFile(config.authentication_backend.file.path, findings);
  if (!skip(LOCAL_STORAGE_KEY) && !skip('storage.postgres')) findings.problems.push(...localStorageProblems(config));
  return findings;
}

/** The file's status, or why it cannot be had, in words an operator acts on. */
export function statOrError(path: string): Stats | string {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? 'file not found'
      : code === 'EACCES'
        ? 'permission denied'
        : `cannot be read (${code ?? 'error'})`;
  }
}

/**
 * Authelia's `storage.local.path` is an SQLite database file; Gatehouse's is a directory for its embedded
 * PostgreSQL. An Authelia value carried over would name an existing file: refused, never written over or beside.
 */
function localStorageProblems(config: Config): ConfigProblem[] {
  if (config.storage.postgres) return [];
  const path = config.storage.local.path;
  const info = statOrError(path);
  if (typeof info === 'string') return [];
  if (info.isDirectory()) return [];
  const advice =
    "Gatehouse's storage.local.path is a directory for its embedded database (e.g. ./data/db); " +
    "carry security keys over with 'authelia storage user webauthn export' and 'gatehouse storage user webauthn import'";
  const what = isSqliteFile(path)
    ? "is an SQLite database (Authelia's local storage), which Gatehouse cannot use"
    : 'is a file, not a directory';
  return [{ path: LOCAL_STORAGE_KEY, message: `'${path}' ${what}: ${advice}` }];
}

/** Whether `path` starts with SQLite's file header (Authelia's local storage); false when it cannot be read. */
export function isSqliteFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
