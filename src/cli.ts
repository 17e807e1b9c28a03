#!/usr/bin/env node
// `gatehouse` commands (SPEC §2): serve, validate-config, hash-password, migrate, access-control check-policy, and
// storage user webauthn import/export (keys carried over from Authelia, in its export format).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { loadConfig, validateConfigCommand, ConfigError, type LoadedConfig } from './config/index.js';
import { configSchema } from './config/schema.js';
import { hashPassword } from './users/hashing.js';
import { openSqlDriver, openStorage } from './storage/open.js';
import type { SqlDriver } from './storage/sql-driver.js';
import { explainAccess } from './authz/explain.js';
import { canonicalResource } from './authz/resource-path.js';
import { createGatehouse, type Gatehouse } from './main.js';
import { packageRoot } from './paths.js';

const USAGE = `Usage: gatehouse [command] [options]

Commands:
  serve [--config FILE]...            start the server (default command)
  validate-config --config FILE...    check a configuration and print every problem
  hash-password [--password P]        print an argon2id hash for the users file (reads stdin without --password)
  migrate --config FILE...            apply pending storage migrations and exit
  access-control check-policy --config FILE --url URL [--method M] [--username U] [--groups a,b]... [--ip IP]
                              [--verbose]
                                      show which access-control rule decides for a request, and why
                                      (--groups may be repeated; --verbose also shows the rules after the decision)
  storage user webauthn import FILE [--config FILE]...
                                      store the WebAuthn keys of FILE (written by 'authelia storage user webauthn
                                      export'); credentials already stored are skipped; all or nothing
  storage user webauthn export FILE [--config FILE]...
                                      write every stored WebAuthn key to the new FILE, in the same format

Without --config, ./configuration.yml is used when present, else the embedded defaults.
Every key can be set through GATEHOUSE_<KEY_PATH> environment variables (secrets also via GATEHOUSE_<KEY_PATH>_FILE).`;

class UsageError extends Error {}

interface Parsed {
  command: string[];
  options: Map<string, string[]>;
}

const VALUE_OPTIONS = new Set(['config', 'password', 'url', 'method', 'username', 'groups', 'ip']);

function parseArgs(argv: readonly string[]): Parsed {
  const command: string[] = [];
  const options = new Map<string, string[]>();
  const add = (name: string, value: string) => options.set(name, [...(options.get(name) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      options.set('help', ['']);
    } else if (arg === '--version') {
      options.set('version', ['']);
    } else if (arg === '--verbose' || arg === '--verbose=true') {
      options.set('verbose', ['']);
    } else if (arg === '--verbose=false') {
      options.delete('verbose');
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (!VALUE_OPTIONS.has(name)) throw new UsageError(`unknown option --${name}`);
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      add(name, value);
    } else if (arg === '-c') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('-c needs a value');
      add('config', value);
    } else {
      command.push(arg);
    }
  }
  return { command, options };
}

function configFiles(options: Map<string, string[]>): string[] {
  const given = options.get('config');
  if (given) return given;
  return existsSync('configuration.yml') ? ['configuration.yml'] : [];
}

function one(options: Map<string, string[]>, name: string): string | undefined {
  return options.get(name)?.at(-1);
}

/** `checkReferencedFiles`: also check the users file and storage path, exactly as `validate-config` does. */
function load(options: Map<string, string[]>, checkReferencedFiles = false): LoadedConfig {
  return loadConfig({ files: configFiles(options), checkReferencedFiles });
}

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

/** How long a failed start may spend closing what it opened before the process exits anyway. */
const FATAL_CLOSE_MS = 1_000;

async function serve(options: Map<string, string[]>): Promise<number> {
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
    if (gatehouse) await Promise.race([gatehouse.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, FATAL_CLOSE_MS).unref())]);
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

const WEBAUTHN_TRANSFER_USAGE = 'usage: gatehouse storage user webauthn import|export FILE [--config FILE]';

/**
 * `storage user webauthn import|export FILE`. Not while an embedded-storage server runs on the same directory:
 * the embedded database is for one process at a time.
 */
async function webauthnTransfer(args: readonly string[], options: Map<string, string[]>): Promise<number> {
  const [user, webauthn, action, file, ...extra] = args;
  if (user !== 'user' || webauthn !== 'webauthn' || (action !== 'import' && action !== 'export') || file === undefined || extra.length > 0) {
    throw new UsageError(WEBAUTHN_TRANSFER_USAGE);
  }
  const loaded = load(options);
  const [format, migration] = await Promise.all([import('./webauthn/authelia-export.js'), import('./webauthn/authelia-migration.js')]);
  if (action === 'import') {
    // Everything is checked before the database is opened: an invalid file changes nothing.
    const parsed = format.parseAutheliaExport(readFileSync(file, 'utf8'));
    for (const warning of parsed.warnings) console.error(`warning: ${warning}`);
    const plan = migration.planImport(parsed.credentials, loaded.cookies);
    for (const warning of plan.warnings) console.error(`warning: ${warning}`);
    await withSqlDriver(loaded, async (driver) => {
      const result = await migration.storePlanned(driver, plan.planned);
      for (const line of result.skipped) console.log(line);
      console.log(`Imported ${result.imported} WebAuthn credential(s) from '${file}'${result.skipped.length > 0 ? `, skipped ${result.skipped.length}` : ''}`);
    });
    return 0;
  }
  // As Authelia does: never overwrite a file, and refuse to write an export with nothing in it.
  if (existsSync(file)) throw new Error(`'${file}' already exists: give the name of a new file`);
  await withSqlDriver(loaded, async (driver) => {
    const credentials = await migration.loadAllCredentials(driver);
    if (credentials.length === 0) throw new Error('no WebAuthn credentials are stored: nothing to export');
    writeFileSync(file, format.serialiseAutheliaExport(credentials.map(migration.toExported)), { flag: 'wx', mode: 0o600 });
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

async function run(argv: readonly string[]): Promise<number> {
  const { command, options } = parseArgs(argv);
  if (options.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (options.has('version')) {
    console.log((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  const [name = 'serve', sub] = command;
  switch (name) {
    case 'serve':
      return serve(options);
    case 'validate-config': {
      const result = validateConfigCommand(configFiles(options));
      (result.exitCode === 0 ? process.stdout : process.stderr).write(`${result.output.trimEnd()}\n`);
      return result.exitCode;
    }
    case 'hash-password': {
      const password = one(options, 'password') ?? (await readLine());
      if (password.length === 0) throw new UsageError('an empty password cannot be hashed');
      // Parameters from the configuration when one is given, else the defaults (argon2id m=65536,t=3,p=4).
      const params = options.has('config') ? load(options).config.authentication_backend.file.password.argon2
        : configSchema.parse({}).authentication_backend.file.password.argon2;
      console.log(await hashPassword(password, params));
      return 0;
    }
    case 'migrate': {
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
    case 'access-control': {
      if (sub !== 'check-policy') throw new UsageError('usage: gatehouse access-control check-policy --config FILE --url URL ...');
      const url = one(options, 'url');
      if (url === undefined) throw new UsageError('--url is required');
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw new UsageError(`--url must be an absolute URL, not '${url}'`);
      }
      // The same canonical path as the endpoints (resource-path.ts), so a refused path is refused here too.
      const resource = canonicalResource(url);
      if (typeof resource !== 'string') throw new UsageError(`--url: the endpoints answer 400 to this path (${resource.error})`);
      // As the endpoints (target.ts): a method is upper-case letters, else they answer 400; say so rather than guess.
      const method = one(options, 'method') ?? 'GET';
      if (!/^[A-Z]{1,32}$/.test(method)) throw new UsageError(`--method: the endpoints answer 400 to '${method}' (upper-case letters only, like GET)`);
      // As Authelia's command: --groups repeated or comma-separated, and a subject with groups but no username.
      const username = one(options, 'username') ?? '';
      const groups = (options.get('groups') ?? []).flatMap((list) => list.split(',')).map((g) => g.trim()).filter(Boolean);
      const { config } = load(options);
      console.log(explainAccess(config, {
        url: target,
        resource,
        method,
        ip: one(options, 'ip'),
        subject: username !== '' || groups.length > 0 ? { username, groups } : undefined,
      }, { verbose: options.has('verbose') }));
      return 0;
    }
    case 'storage':
      return webauthnTransfer(command.slice(1), options);
    default:
      throw new UsageError(`unknown command '${name}'`);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`Configuration is invalid:\n${error.message}`);
    } else if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
    } else {
      console.error(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 1;
  },
);
