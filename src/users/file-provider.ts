// The file backend of the UserProvider port: Authelia's users file, held in memory, reloaded on change when
// `watch` is on (SPEC §3 authentication_backend.file). A reload that fails validation keeps the users already
// loaded, so a bad edit never locks everyone out or lets anyone in.
import { watch as watchDirectory, type FSWatcher, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { formatProblem } from '../config/problems.js';
import { DEFAULT_ARGON2_PARAMS, hashPassword, verifyPassword, type Argon2Params } from './hashing.js';
import { HashSlots } from './hash-slots.js';
import type { UserDetails, UserProvider } from './provider.js';
import { parseUsersFile, type UserRecord, type UsersFileProblem } from './users-file.js';

export interface FileUserProviderOptions {
  path: string;
  watch: boolean;
  logger?: Logger;
  /** Parameters of the dummy hash verified for unknown users; match the file's hashes for equal timing. */
  dummyHashParams?: Argon2Params;
  /** How often the file is stat'ed in case directory events are lost (network and overlay mounts). */
  pollIntervalMs?: number;
  /** How many hashes are verified at once (default: every core but one, hash-slots.ts). */
  hashSlots?: HashSlots;
}

/** What a reload changed, so the app can end the sessions of users who were removed or disabled (SPEC §8). */
export interface UsersChange {
  added: string[];
  removed: string[];
  /** Users whose details or password changed, the newly disabled ones included. */
  changed: string[];
  /** Users enabled before the reload and disabled after it. */
  disabled: string[];
}
export type UsersChangeListener = (change: UsersChange) => void;

/** The file could not be used at start: `message` names the file and lists every problem, one per line. */
export class UsersFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: UsersFileProblem[],
  ) {
    super(`users file ${path} cannot be used:\n${problems.map((problem) => `  ${formatProblem(problem)}`).join('\n')}`);
    this.name = 'UsersFileError';
  }
}

/** A users file this large is a mistake or an attack; reading it whole into memory would be the attack's win. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** Editors and Kubernetes write in bursts (truncate, write, rename): one reload after the burst settles. */
const DEBOUNCE_MS = 100;
const DEFAULT_POLL_INTERVAL_MS = 3000;

export class FileUserProvider implements UserProvider {
  private users: Map<string, UserRecord>;
  private readonly listeners = new Set<UsersChangeListener>();
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  /** The stat signature of the last version read (loaded or refused), so the poll only reacts to a new one. */
  private lastSignature: string;
  private lastText: string;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly logger: Logger | undefined,
    private readonly dummyHash: string,
    private readonly hashSlots: HashSlots,
    initial: { users: Map<string, UserRecord>; text: string; signature: string },
  ) {
    this.users = initial.users;
    this.lastText = initial.text;
    this.lastSignature = initial.signature;
  }

  /** Loads the file; throws a `UsersFileError` naming the file and every problem when it is missing or invalid. */
  static async open(options: FileUserProviderOptions): Promise<FileUserProvider> {
    const path = resolve(options.path);
    const signature = await statSignature(path);
    const text = await readUsersText(path).catch((error: Error) => {
      throw new UsersFileError(path, [{ path: '', message: error.message }]);
    });
    const loaded = parseUsersFile(text, path);
    if (loaded.problems.length > 0) throw new UsersFileError(path, loaded.problems);
    // Verified for unknown users so that a miss costs what a hit costs; its password is never known to anyone.
    const dummyHash = await hashPassword(
      randomBytes(24).toString('base64url'),
      options.dummyHashParams ?? DEFAULT_ARGON2_PARAMS,
    );
    const provider = new FileUserProvider(path, options.logger, dummyHash, options.hashSlots ?? new HashSlots(), {
      users: loaded.users,
      text,
      signature,
    });
    options.logger?.info({ path, users: loaded.users.size }, 'users file loaded');
    if (loaded.users.size === 0) warnNoUsers(options.logger, path);
    if (options.watch) provider.startWatching(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    return provider;
  }

  get(username: string): UserDetails | undefined {
    return this.users.get(username)?.details;
  }

  /** Every user as currently known, disabled ones included (the front worker's copy, front/owner.ts). */
  all(): UserDetails[] {
    return [...this.users.values()].map((record) => record.details);
  }

  async checkPassword(username: string, password: string): Promise<UserDetails | undefined> {
    const record = this.users.get(username);
    const hash = record?.passwordHash ?? this.dummyHash;
    const matches = await this.hashSlots.run(() => verifyPassword(hash, password));
    if (record === undefined || !matches) return undefined;
    // The file may have been reloaded while the hash was computed: answer with what holds now.
    const current = this.users.get(username);
    if (current === undefined || current.passwordHash !== hash || current.details.disabled) return undefined;
    return current.details;
  }

  /** Called after each reload that changed something; returns a function that removes the listener. */
  onChange(listener: UsersChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    this.listeners.clear();
    await this.reloading;
  }

  private startWatching(pollIntervalMs: number): void {
    const name = basename(this.path);
    try {
      // The directory, not the file: editors and Kubernetes ConfigMaps replace the file by a rename, after which
      // a watch on the old file would see nothing. Kubernetes swaps a `..data` symlink rather than the file.
      this.watcher = watchDirectory(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) this.scheduleReload();
      });
      this.watcher.on('error', (error) => {
        this.logger?.warn({ path: this.path, err: error }, 'users file watch failed; relying on polling');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.logger?.warn({ path: this.path, err: error }, 'users file cannot be watched; relying on polling');
    }
    this.pollTimer = setInterval(() => void this.poll(), pollIntervalMs);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    const signature = await statSignature(this.path);
    if (!this.closed && signature !== this.lastSignature) this.scheduleReload();
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    this.debounceTimer.unref();
  }

  /** Reloads one at a time; a change noticed during a reload is read after it. */
  private async reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = this.reloadOnce();
    try {
      await this.reloading;
    } finally {
      this.reloading = undefined;
    }
    if (this.reloadAgain) {
      this.reloadAgain = false;
      await this.reload();
    }
  }

  private async reloadOnce(): Promise<void> {
    const signature = await statSignature(this.path);
    const result = await this.read();
    if (this.closed) return;
    this.lastSignature = signature;
    if ('unchanged' in result) return;
    if ('problems' in result) {
      this.logger?.error(
        { path: this.path, problems: result.problems.map(formatProblem) },
        'users file reload failed; keeping the previous users',
      );
      return;
    }
    const change = diffUsers(this.users, result.users);
    this.users = result.users;
    this.lastText = result.text;
    this.logger?.info({ path: this.path, users: result.users.size }, 'users file reloaded');
    if (result.users.size === 0) warnNoUsers(this.logger, this.path);
    if (change.added.length + change.removed.length + change.changed.length > 0) this.notify(change);
  }

  /** The file's users, its problems, or `unchanged` when the text is what was last loaded (a touch, a re-save). */
  private async read(): Promise<
    { users: Map<string, UserRecord>; text: string } | { problems: UsersFileProblem[] } | { unchanged: true }
  > {
    let text: string;
    try {
      text = await readUsersText(this.path);
    } catch (error) {
      return { problems: [{ path: '', message: (error as Error).message }] };
    }
    if (text === this.lastText) return { unchanged: true };
    const parsed = parseUsersFile(text, this.path);
    return parsed.problems.length > 0 ? { problems: parsed.problems } : { users: parsed.users, text };
  }

  private notify(change: UsersChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger?.error({ err: error }, 'users change listener failed');
      }
    }
  }
}

async function readUsersText(path: string): Promise<string> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw new Error(`cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!info.isFile()) throw new Error('is not a regular file');
  if (info.size > MAX_FILE_BYTES) throw new Error(`is larger than ${MAX_FILE_BYTES} bytes`);
  return readFile(path, 'utf8');
}

/** Identity, size and modification time: a rename-replace changes the inode even when size and mtime match. */
async function statSignature(path: string): Promise<string> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

function diffUsers(before: Map<string, UserRecord>, after: Map<string, UserRecord>): UsersChange {
  const change: UsersChange = { added: [], removed: [], changed: [], disabled: [] };
  for (const [username, record] of after) {
    const previous = before.get(username);
    if (previous === undefined) change.added.push(username);
    else if (!sameRecord(previous, record)) change.changed.push(username);
    if (previous !== undefined && !previous.details.disabled && record.details.disabled) change.disabled.push(username);
  }
  for (const username of before.keys()) if (!after.has(username)) change.removed.push(username);
  return change;
}

function sameRecord(a: UserRecord, b: UserRecord): boolean {
  return (
    a.passwordHash === b.passwordHash &&
    a.details.displayName === b.details.displayName &&
    a.details.disabled === b.details.disabled &&
    a.details.emails.join('\n') === b.details.emails.join('\n') &&
    a.details.groups.join('\n') === b.details.groups.join('\n')
  );
}

/** A valid file without users starts (an operator may be about to add them), but nobody can sign in: say so. */
function warnNoUsers(logger: Logger | undefined, path: string): void {
  logger?.warn(
    { path },
    'users file has no users: nobody can sign in; add one (hash its password with `gatehouse hash-password`)',
  );
}
