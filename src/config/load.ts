// Loading the configuration (SPEC §2, §3): files merged in order, environment overrides, Authelia-only keys
// refused or set aside with a warning (one table), the schema, the rules that span several keys, and the files
// the configuration names. Every problem is collected before failing, sorted by key path, so one run of
// `validate-config` shows them all.
import { randomBytes } from 'node:crypto';
import { DEFAULT_NOTIFICATION_FILE, type Config } from './schema.js';
import { isMap, readConfigFiles, setOwn, type ConfigTree } from './yaml-files.js';
import { applyEnvOverrides } from './env.js';
import { applyAutheliaKeys } from './authelia-apply.js';
import { applySentinelHost } from './sentinel-host.js';
import { compareKeyPaths, parsePartially } from './partial-parse.js';
import { validateSemantics } from './validate.js';
import { referencedFileProblems, type UsersFileCheck } from './referenced-files.js';
import { resolveCookies, type CookieSettings } from './cookies.js';
import { ConfigError, type ConfigProblem } from './problems.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** Merged in order, later files winning; none means the embedded defaults. */
  files: readonly string[];
  /** Defaults to `process.env`; only `src/config/` reads it. */
  env?: Environment;
  /**
   * Also check the files the configuration names (the users file, the embedded storage path) as `serve` uses
   * them, the users file with the users backend's reader. `serve` and `validate-config` set it (through
   * cli/load-config.ts); tests that build Gatehouse around their own files need not.
   */
  checkReferencedFiles?: { checkUsersFile: UsersFileCheck };
}

export interface LoadedConfig {
  config: Config;
  cookies: CookieSettings[];
  warnings: string[];
  /** Key paths of the secrets generated at random for this process because none was configured. */
  generatedSecrets: string[];
}

const within = (path: string, ancestor: string): boolean =>
  path === ancestor || path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`);

export function loadConfig(options: LoadOptions): LoadedConfig {
  const files = readConfigFiles(options.files);
  const warnings = [...files.warnings];
  const tree = files.tree;
  const env = applyEnvOverrides(tree, options.env ?? process.env);
  warnings.push(...env.warnings);
  if (options.files.length === 0) applyEmbeddedDefaults(tree);
  // Checking the schema against a half-read configuration would only add misleading problems.
  if (files.problems.length > 0)
    throw new ConfigError([...files.problems, ...files.refused, ...env.problems], warnings);

  const authelia = applyAutheliaKeys(tree);
  warnings.push(...authelia.warnings);
  // A template inside a key that is refused or ignored whatever its value changes nothing: only that key is reported.
  const templates = files.refused.filter((problem) => !authelia.removed.some((key) => within(problem.path, key)));
  const refused = [...templates, ...authelia.problems];
  const sentinel = applySentinelHost(tree);
  const parsed = parsePartially(tree);
  // A refused value was taken out: the schema's "is required" there would only repeat it.
  const schemaProblems = parsed.problems.filter((problem) => !refused.some((r) => within(problem.path, r.path)));
  const problems: ConfigProblem[] = [...env.problems, ...refused, ...sentinel, ...schemaProblems];

  const config = parsed.config;
  if (config) {
    const semantic = validateSemantics(config);
    for (const problem of semantic.problems) {
      const path = parsed.originalPath(problem.path);
      if (!parsed.isTainted(path) && !refused.some((r) => within(path, r.path))) problems.push({ ...problem, path });
    }
    // A path taken out for a type error would be checked as its default: only paths as written are checked.
    // A refused section (MySQL) leaves defaults behind: their files are not what the operator meant either.
    const skip = (key: string): boolean =>
      parsed.isTainted(key) || refused.some((r) => r.path.split('.')[0] === key.split('.')[0]);
    warnings.push(...semantic.warnings);
    if (options.checkReferencedFiles) {
      const files = referencedFileProblems(config, options.checkReferencedFiles.checkUsersFile, skip);
      problems.push(...files.problems);
      warnings.push(...files.warnings);
    }
  }
  if (problems.length > 0 || !config)
    throw new ConfigError(
      problems.sort((a, b) => compareKeyPaths(a.path, b.path)),
      warnings,
    );

  const generatedSecrets = generateMissingSecrets(config, warnings);
  // No notifier configured: identity-verification mails land in a file the operator can read.
  if (!config.notifier.smtp && !config.notifier.filesystem)
    config.notifier.filesystem = { filename: DEFAULT_NOTIFICATION_FILE };
  return { config, cookies: resolveCookies(config), warnings, generatedSecrets };
}

/**
 * No configuration file at all (`gatehouse serve` outside a directory with configuration.yml): a trial on this
 * machine, as the README promises. The schema's defaults already give in-memory sessions, embedded storage under
 * ./data/db, the filesystem notifier and ./users_database.yml (which must exist: see referenced-files.ts); this
 * adds what has no safe general default: the one cookie domain, `localhost`, whose http portal is this server, and
 * a listener on the loopback interface only (an http portal for localhost is of no use to other machines).
 * GATEHOUSE_* variables still apply; the portal URL follows a port they set.
 */
function applyEmbeddedDefaults(tree: ConfigTree): void {
  const server = isMap(tree.server) ? tree.server : {};
  if (server.address === undefined) setOwn(server, 'address', 'tcp://127.0.0.1:9091');
  setOwn(tree, 'server', server);
  const session = isMap(tree.session) ? tree.session : {};
  if (session.cookies === undefined) {
    const port = typeof server.address === 'string' ? /:(\d{1,5})\/?$/.exec(server.address.trim())?.[1] : undefined;
    setOwn(session, 'cookies', [{ domain: 'localhost', authelia_url: `http://localhost:${port ?? '9091'}` }]);
  }
  setOwn(tree, 'session', session);
}

/** Without Redis there is one replica, so a secret of its own is safe; it only lasts as long as the process. */
function generateMissingSecrets(config: Config, warnings: string[]): string[] {
  const generated: string[] = [];
  const fill = (path: string, current: string | undefined, set: (value: string) => void): void => {
    if (current !== undefined) return;
    set(randomBytes(32).toString('base64url'));
    generated.push(path);
    warnings.push(`${path} is not set; a random one was generated for this process and is lost on restart`);
  };
  fill('session.secret', config.session.secret, (value) => (config.session.secret = value));
  fill(
    'identity_validation.jwt_secret',
    config.identity_validation.jwt_secret,
    (value) => (config.identity_validation.jwt_secret = value),
  );
  return generated;
}
