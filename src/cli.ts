#!/usr/bin/env node
// `gatehouse` commands (SPEC §2): serve, validate-config, hash-password, migrate, access-control check-policy,
// storage user webauthn list/delete/import/export, storage authentication-log list, sessions list/revoke, help. Usage
// texts live in cli/usage.ts, the option parsing (node:util parseArgs) in cli/arguments.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, validateConfigCommand, ConfigError, type LoadedConfig } from './cli/load-config.js';
import { configSchema } from './config/schema.js';
import { hashPassword } from './users/hashing.js';
import { LdapUserProvider } from './users/ldap-provider.js';
import { openSqlDriver, openStorage } from './storage/open.js';
import type { SqlDriver } from './storage/sql-driver.js';
import { explainAccess } from './authz/explain.js';
import { canonicalResource } from './authz/resource-path.js';
import { createGatehouse, type Gatehouse } from './main.js';
import { packageRoot } from './paths.js';
import { cookieForTarget } from './config/cookies.js';
import { commandsFor, manual, usageOf } from './cli/usage.js';
import { askNewPassword, readLine } from './cli/prompt.js';
import { deleteKeys, KeyAdminError, listKeys, type DeleteSelector } from './cli/webauthn-admin.js';
import { listSessions, revokeSessions, SessionsCommandError } from './cli/sessions.js';
import { SqlStorage } from './storage/sql-storage.js';
import { type CliOptions, commandWords, parseCommandLine, UsageError } from './cli/arguments.js';
import {
  formatJsonLines,
  formatTable,
  listAuthenticationLog,
  parseLimit,
  parseSince,
} from './cli/authentication-log.js';

import { tuneHeap } from './node-flags.js';

function configFiles(options: CliOptions): string[] {
  const given = options.config;
  if (given) return given;
  return existsSync('configuration.yml') ? ['configuration.yml'] : [];
}

/** `checkReferencedFiles`: also check the users file and storage path, exactly as `validate-config` does. */
function load(options: CliOptions, checkReferencedFiles = false): LoadedConfig {
  return loadConfig({ files: configFiles(options), checkReferencedFiles });
}

/** How long a failed start may spend closing what it opened before the process exits anyway. */
const FATAL_CLOSE_MS = 1_000;

async function serve(options: CliOptions): Promise<number> {
  tuneHeap();
  const loaded = load(options, true);
  let gatehouse: Gatehouse | undefined;
  try {
    // createGatehouse closes what it opened when it fails; a failed listen leaves the rest open, closed here.
    gatehouse = await createGatehouse({ loaded });
    await gatehouse.listen();
  } catch (error) {
    // A fatal start-up error: said at once, then the process exits within about two seconds with status 1, even
    // if a client (Redis reconnecting, a pool, a watcher) still holds the event loop.
    console.error(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    if (gatehouse)
      await Promise.race([
        gatehouse.close().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, FATAL_CLOSE_MS).unref()),
      ]);
    process.exit(1);
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      gatehouse.logger.info({ signal }, 'shutting down');
      gatehouse.close().then(resolve, (error: unknown) => {
        gatehouse.logger.error({ err: error }, 'error while shutting down');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Watchers and pools are closed; exit now rather than wait on any handle a library forgot to unref.
  process.exit(0);
}

/** `storage user webauthn ACTION ...`: the words after `storage`, checked before anything is opened. */
async function storageCommand(args: readonly string[], options: CliOptions): Promise<number> {
  if (args[0] === 'authentication-log') return authenticationLogCommand(args.slice(1), options);
  const [user, webauthn, action, ...rest] = args;
  const words = ['storage', 'user', 'webauthn', ...(action === undefined ? [] : [action])];
  if (user !== 'user' || webauthn !== 'webauthn' || action === undefined)
    throw new UsageError(
      "'storage' needs one of: user webauthn list|delete|import|export, authentication-log list",
      words.slice(0, 1),
    );
  switch (action) {
    case 'import':
    case 'export':
      if (rest.length !== 1) throw new UsageError(`'storage user webauthn ${action}' takes exactly one FILE`, words);
      return webauthnTransfer(action, rest[0]!, options);
    case 'list': {
      if (rest.length > 1) throw new UsageError("'storage user webauthn list' takes at most one USER", words);
      await withSqlDriver(load(options), async (driver) => {
        console.log(await listKeys(await migratedStorage(driver), rest[0]));
      });
      return 0;
    }
    case 'delete': {
      const selector = deleteSelector(options, words);
      if (rest.length > 1) throw new UsageError("'storage user webauthn delete' takes at most one USER", words);
      if (rest[0] === undefined && !('kid' in selector))
        throw new UsageError('--all and --description need the USER whose keys they delete', words);
      await withSqlDriver(load(options), async (driver) => {
        for (const line of await deleteKeys(await migratedStorage(driver), rest[0], selector)) console.log(line);
      });
      return 0;
    }
    default:
      throw new UsageError(`unknown command 'storage user webauthn ${action}'`, words.slice(0, 3));
  }
}

/** `storage authentication-log list`: every option checked before the database is opened. */
async function authenticationLogCommand(args: readonly string[], options: CliOptions): Promise<number> {
  const [action, ...rest] = args;
  const words = ['storage', 'authentication-log', ...(action === 'list' ? ['list'] : [])];
  if (action !== 'list')
    throw new UsageError(
      action === undefined
        ? "'storage authentication-log' needs a command: list"
        : `unknown command 'storage authentication-log ${action}'`,
      words,
    );
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}': give the user as --user U`, words);
  if (options.user === '') throw new UsageError('--user needs a username', words);
  const since = options.since === undefined ? undefined : parseSince(options.since);
  if (since && 'error' in since) throw new UsageError(since.error, words);
  const limit = parseLimit(options.limit);
  if ('error' in limit) throw new UsageError(limit.error, words);
  await withSqlDriver(load(options), async (driver) => {
    const attempts = await listAuthenticationLog(await migratedStorage(driver), {
      username: options.user,
      since: since?.value,
      limit: limit.value,
    });
    if (options.json) {
      if (attempts.length > 0) console.log(formatJsonLines(attempts));
    } else console.log(formatTable(attempts));
  });
  return 0;
}

function deleteSelector(options: CliOptions, words: readonly string[]): DeleteSelector {
  const description = options.description;
  const kid = options.kid;
  const given = [options.all, description !== undefined, kid !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --all, --description NAME, --kid KID', words);
  if (description !== undefined) return { description };
  if (kid !== undefined) return { kid };
  return { all: true };
}

async function migratedStorage(driver: SqlDriver): Promise<SqlStorage> {
  const storage = new SqlStorage(driver);
  await storage.migrate();
  return storage;
}

/**
 * `storage user webauthn import|export FILE`. Not while an embedded-storage server runs on the same directory:
 * the embedded database is for one process at a time.
 */
async function webauthnTransfer(action: 'import' | 'export', file: string, options: CliOptions): Promise<number> {
  const loaded = load(options);
  const [format, migration] = await Promise.all([
    import('./webauthn/authelia-export.js'),
    import('./webauthn/authelia-migration.js'),
  ]);
  if (action === 'import') {
    // Everything is checked before the database is opened: an invalid file changes nothing.
    const parsed = format.parseAutheliaExport(readFileSync(file, 'utf8'));
    for (const warning of parsed.warnings) console.error(`warning: ${warning}`);
    const plan = migration.planImport(parsed.credentials, loaded.cookies);
    for (const warning of plan.warnings) console.error(`warning: ${warning}`);
    await withSqlDriver(loaded, async (driver) => {
      const result = await migration.storePlanned(driver, plan.planned);
      for (const line of result.skipped) console.log(line);
      console.log(
        `Imported ${result.imported} WebAuthn credential(s) from '${file}'${result.skipped.length > 0 ? `, skipped ${result.skipped.length}` : ''}`,
      );
    });
    return 0;
  }
  // As Authelia does: never overwrite a file, and refuse to write an export with nothing in it.
  if (existsSync(file)) throw new Error(`'${file}' already exists: give the name of a new file`);
  await withSqlDriver(loaded, async (driver) => {
    const credentials = await migration.loadAllCredentials(driver);
    if (credentials.length === 0) throw new Error('no WebAuthn credentials are stored: nothing to export');
    writeFileSync(file, format.serialiseAutheliaExport(credentials.map(migration.toExported)), {
      flag: 'wx',
      mode: 0o600,
    });
    console.log(`Exported ${credentials.length} WebAuthn credential(s) to '${file}'`);
  });
  return 0;
}

async function withSqlDriver(loaded: LoadedConfig, use: (driver: SqlDriver) => Promise<void>): Promise<void> {
  const driver = await openSqlDriver(loaded.config.storage);
  try {
    await use(driver);
  } finally {
    await driver.close();
  }
}

/** The configuration for check-policy, which needs only the rules and cookie domains: missing or unreadable secrets
 * (required with Redis, or in files only the service may read) are no reason to refuse, nor to generate any. */
function loadForPolicy(options: CliOptions): LoadedConfig {
  try {
    return load(options);
  } catch (error) {
    const secretPath = (path: string) => /(^|\.)(secret|jwt_secret|password|key)$/.test(path);
    if (!(error instanceof ConfigError) || !error.problems.every((problem) => secretPath(problem.path))) throw error;
    const env: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^GATEHOUSE_.*(SECRET|PASSWORD|KEY)(_FILE)?$/.test(name)) env[name] = value;
    }
    // Placeholders for the two secrets a configuration with Redis must have; nothing is signed or sealed here.
    env.GATEHOUSE_SESSION_SECRET = 'check-policy-placeholder-secret-never-used-0000';
    env.GATEHOUSE_IDENTITY_VALIDATION_JWT_SECRET = 'check-policy-placeholder-secret-never-used-0000';
    try {
      return loadConfig({ files: configFiles(options), env });
    } catch {
      throw error;
    }
  }
}

function checkPolicy(sub: string | undefined, positional: readonly string[], options: CliOptions): number {
  const words = ['access-control', 'check-policy'];
  if (sub !== 'check-policy')
    throw new UsageError(
      sub === undefined ? "'access-control' needs a command: check-policy" : `unknown command 'access-control ${sub}'`,
      words,
    );
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`, words);
  const url = options.url;
  if (url === undefined) throw new UsageError('--url is required', words);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`--url must be an absolute URL, not '${url}'`, words);
  }
  // The same canonical path as the endpoints (resource-path.ts), so a refused path is refused here too.
  const resource = canonicalResource(url);
  if (typeof resource !== 'string')
    throw new UsageError(`--url: the endpoints answer 400 to this path (${resource.error})`, words);
  // As the endpoints (target.ts): a method is upper-case letters, else they answer 400; say so rather than guess.
  const method = options.method ?? 'GET';
  if (!/^[A-Z]{1,32}$/.test(method))
    throw new UsageError(
      `--method: the endpoints answer 400 to '${method}' (upper-case letters only, like GET)`,
      words,
    );
  // As Authelia's command: --groups repeated or comma-separated, and a subject with groups but no username.
  const username = options.username ?? '';
  const groups = (options.groups ?? [])
    .flatMap((list) => list.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const { config, cookies } = loadForPolicy(options);
  // As the endpoints: a host under no cookie domain (or http on an https one) is a 400 before any rule is read.
  const cookie = cookieForTarget(cookies, target);
  if ('error' in cookie) {
    console.log(
      `Request: ${method} ${target.href}\n\nAnswer: 400 Bad Request, before any rule: ${cookie.error}.\n(The endpoints refuse a target that no session.cookies entry covers: add its domain there.)`,
    );
    return 0;
  }
  console.log(
    explainAccess(
      config,
      {
        url: target,
        resource,
        method,
        ip: options.ip,
        subject: username !== '' || groups.length > 0 ? { username, groups } : undefined,
      },
      { verbose: options.verbose },
    ),
  );
  return 0;
}

async function hashPasswordCommand(positional: readonly string[], options: CliOptions): Promise<number> {
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`, ['hash-password']);
  let password = options.password;
  if (password === undefined) {
    if (process.stdin.isTTY) {
      password = await askNewPassword();
      if (password === undefined) {
        console.error('gatehouse: the passwords do not match; nothing was hashed');
        return 1;
      }
    } else {
      password = await readLine();
    }
  }
  if (password.length === 0) throw new UsageError('an empty password cannot be hashed', ['hash-password']);
  // Parameters from the configuration when one is given, else the defaults (argon2id m=65536,t=3,p=4).
  const params =
    options.config !== undefined
      ? load(options).config.authentication_backend.file.password.argon2
      : configSchema.parse({}).authentication_backend.file.password.argon2;
  console.log(await hashPassword(password, params));
  return 0;
}

/** `help [COMMAND...]`, or `COMMAND --help`: that command's usage (or those starting with the words given). */
function help(words: readonly string[]): number {
  if (words.length === 0) {
    console.log(manual());
    return 0;
  }
  const found = commandsFor(words);
  if (found.length === 0) throw new UsageError(`unknown command '${words.join(' ')}'`);
  console.log(usageOf(found));
  return 0;
}

function noArguments(name: string, positional: readonly string[]): void {
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`, [name]);
}

/** `sessions list --user U`, `sessions revoke --user U`, and the older `sessions revoke USER`. */
async function sessionsCommand(sub: string | undefined, more: readonly string[], options: CliOptions): Promise<number> {
  if (sub !== 'list' && sub !== 'revoke')
    throw new UsageError(
      sub === undefined ? "'sessions' needs a command: list or revoke" : `unknown command 'sessions ${sub}'`,
      ['sessions'],
    );
  const words = ['sessions', sub];
  const given = [...more, ...(options.user === undefined ? [] : [options.user])];
  if (given.length !== 1 || given[0] === '')
    throw new UsageError(
      sub === 'list'
        ? "'sessions list' takes exactly one --user USER"
        : "'sessions revoke' takes exactly one USER (or --user USER)",
      words,
    );
  if (sub === 'list' && more.length > 0) throw new UsageError("'sessions list' takes the user as --user USER", words);
  const username = given[0]!;
  const { config } = load(options);
  console.log(sub === 'list' ? await listSessions(config, username) : await revokeSessions(config, username));
  return 0;
}

async function run(argv: readonly string[]): Promise<number> {
  const { command, options } = parseCommandLine(argv);
  if (options.version) {
    console.log((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  if (options.help) return help(command[0] === 'help' ? command.slice(1) : commandWords(command));
  const [name = 'serve', sub, ...more] = command;
  switch (name) {
    case 'help':
      return help(command.slice(1));
    case 'serve':
      noArguments(name, command.slice(1));
      return serve(options);
    case 'validate-config': {
      noArguments(name, command.slice(1));
      const result = validateConfigCommand(configFiles(options));
      (result.exitCode === 0 ? process.stdout : process.stderr).write(`${result.output.trimEnd()}\n`);
      if (result.exitCode !== 0 || !options.checkLdap) return result.exitCode;
      return checkLdap(load(options));
    }
    case 'hash-password':
      return hashPasswordCommand(command.slice(1), options);
    case 'migrate': {
      noArguments(name, command.slice(1));
      const { config } = load(options);
      const storage = await openStorage(config.storage);
      try {
        const applied = await storage.migrate();
        console.log(applied.length === 0 ? 'Storage is up to date' : `Applied migrations: ${applied.join(', ')}`);
      } finally {
        await storage.close();
      }
      return 0;
    }
    case 'access-control':
      return checkPolicy(sub, more, options);
    case 'storage':
      return storageCommand(command.slice(1), options);
    case 'sessions':
      return sessionsCommand(sub, more, options);
    default:
      throw new UsageError(`unknown command '${name}'`);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      // One line of error and one of help, not the whole manual: the error stays visible.
      const topic = error.command.length > 0 ? ` ${error.command.join(' ')}` : '';
      console.error(`gatehouse: ${error.message}\nRun 'gatehouse help${topic}' for usage.`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof ConfigError) {
      console.error(`Configuration is invalid:\n${error.message}`);
    } else if (error instanceof KeyAdminError || error instanceof SessionsCommandError) {
      console.error(`gatehouse: ${error.message}`);
    } else {
      console.error(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 1;
  },
);

/** `validate-config --check-ldap`: one connection to the directory, bound as the service user, as `serve` opens it. */
async function checkLdap(loaded: LoadedConfig): Promise<number> {
  const backend = loaded.config.authentication_backend;
  if (backend.ldap === undefined) {
    process.stderr.write('--check-ldap: authentication_backend.ldap is not configured\n');
    return 1;
  }
  const ldap = new LdapUserProvider({ config: backend.ldap, refreshInterval: 'disable' });
  try {
    await ldap.check();
    console.log(`LDAP: connected to ${backend.ldap.address.url} and bound as ${backend.ldap.user}`);
    return 0;
  } catch (error) {
    process.stderr.write(`LDAP: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await ldap.close();
  }
}
