// Loading the configuration (SPEC §2, §3): files merged in order, environment overrides, Authelia-only keys
// set aside with a warning, the schema, then the rules that span several keys. Every problem is collected
// before failing, so one run of `validate-config` shows them all.
import { randomBytes } from 'node:crypto';
import { configSchema, DEFAULT_NOTIFICATION_FILE, type Config } from './schema.js';
import { readConfigFiles } from './yaml-files.js';
import { applyEnvOverrides } from './env.js';
import { stripUnsupportedKeys } from './authelia-unsupported.js';
import { schemaIssueMessage, schemaProblems } from './zod-problems.js';
import { validateSemantics } from './validate.js';
import { resolveCookies } from './cookies.js';
import { ConfigError, formatProblem, type ConfigProblem } from './problems.js';
import type { CookieSettings } from '../session/model.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** Merged in order, later files winning; none means the embedded defaults. */
  files: readonly string[];
  /** Defaults to `process.env`; only `src/config/` reads it. */
  env?: Environment;
}

export interface LoadedConfig {
  config: Config;
  cookies: CookieSettings[];
  warnings: string[];
  /** Key paths of the secrets generated at random for this process because none was configured. */
  generatedSecrets: string[];
}

export function loadConfig(options: LoadOptions): LoadedConfig {
  const files = readConfigFiles(options.files);
  const warnings = [...files.warnings];
  const tree = files.tree;
  const env = applyEnvOverrides(tree, options.env ?? process.env);
  warnings.push(...env.warnings);
  // Checking the schema against a half-read configuration would only add misleading problems.
  if (files.problems.length > 0) throw new ConfigError([...files.problems, ...env.problems], warnings);

  warnings.push(...stripUnsupportedKeys(tree));
  const parsed = configSchema.safeParse(tree, { error: schemaIssueMessage, reportInput: true });
  const problems: ConfigProblem[] = [...env.problems];
  if (!parsed.success) throw new ConfigError([...problems, ...schemaProblems(parsed.error.issues)], warnings);

  const config = parsed.data;
  const semantic = validateSemantics(config);
  problems.push(...semantic.problems);
  warnings.push(...semantic.warnings);
  if (problems.length > 0) throw new ConfigError(problems, warnings);

  const generatedSecrets = generateMissingSecrets(config, warnings);
  // No notifier configured: identity-verification mails land in a file the operator can read.
  if (!config.notifier.smtp && !config.notifier.filesystem) config.notifier.filesystem = { filename: DEFAULT_NOTIFICATION_FILE };
  return { config, cookies: resolveCookies(config), warnings, generatedSecrets };
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
  fill('identity_validation.jwt_secret', config.identity_validation.jwt_secret, (value) => (config.identity_validation.jwt_secret = value));
  return generated;
}

export interface ValidateConfigResult {
  exitCode: 0 | 1;
  output: string;
}

/** `gatehouse validate-config`: every problem as `path: reason` and exit 1, or `Configuration is valid` and 0. */
export function validateConfigCommand(files: readonly string[], env?: Environment): ValidateConfigResult {
  const warningLines = (warnings: readonly string[]) => warnings.map((warning) => `warning: ${warning}`);
  try {
    const loaded = loadConfig(env === undefined ? { files } : { files, env });
    return { exitCode: 0, output: ['Configuration is valid', ...warningLines(loaded.warnings)].join('\n') };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { exitCode: 1, output: [...error.problems.map(formatProblem), ...warningLines(error.warnings)].join('\n') };
  }
}
