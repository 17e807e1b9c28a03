// Files the configuration names, checked as `serve` would use them (issue 7): `validate-config` and `serve` both
// run these checks through `loadConfig`, so a configuration that validates does not then fail to start.
import { closeSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { MAX_USERS_FILE_BYTES, parseUsersFile } from '../users/users-file.js';
import type { Config } from './schema.js';
import type { ConfigProblem } from './problems.js';

const USERS_PATH_KEY = 'authentication_backend.file.path';
const LOCAL_STORAGE_KEY = 'storage.local.path';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export interface ReferencedFileFindings {
  problems: ConfigProblem[];
  warnings: string[];
}

/** Problems with the files `config` names; `skip` says which keys not to check (their value is not the operator's). */
export function referencedFileProblems(
  config: Config,
  skip: (key: string) => boolean = () => false,
): ReferencedFileFindings {
  const findings: ReferencedFileFindings = { problems: [], warnings: [] };
  if (!skip(USERS_PATH_KEY)) usersFileProblems(config.authentication_backend.file.path, findings);
  if (!skip(LOCAL_STORAGE_KEY) && !skip('storage.postgres')) findings.problems.push(...localStorageProblems(config));
  return findings;
}

function statOrError(path: string): Stats | string {
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
 * The users file exists, is small enough, and every user in it is usable, as `FileUserProvider.open` demands.
 * A missing file is refused rather than started without users: a portal nobody can sign in to would also hide a
 * mistyped path. A file with no users starts, with a warning (the users may be added while it runs).
 */
function usersFileProblems(path: string, findings: ReferencedFileFindings): void {
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
