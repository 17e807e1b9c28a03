// The configuration as `serve` and `validate-config` load it: config's loader with the files the configuration
// names checked, the users file by the users backend's own reader (config sits below users and cannot import it).
import {
  ConfigError,
  formatProblem,
  loadConfig as loadConfigOnly,
  type Environment,
  type LoadedConfig,
  type LoadOptions,
} from '../config/index.js';
import { checkUsersFile } from '../users/users-file.js';

export { ConfigError, type LoadedConfig } from '../config/index.js';

export interface CliLoadOptions extends Omit<LoadOptions, 'checkReferencedFiles'> {
  /** Also check the users file and the embedded storage path, exactly as `serve` will use them. */
  checkReferencedFiles?: boolean;
}

export function loadConfig(options: CliLoadOptions): LoadedConfig {
  const { checkReferencedFiles, ...rest } = options;
  return loadConfigOnly({ ...rest, ...(checkReferencedFiles ? { checkReferencedFiles: { checkUsersFile } } : {}) });
}

export interface ValidateConfigResult {
  exitCode: 0 | 1;
  output: string;
}

/** `gatehouse validate-config`: every problem as `path: reason` and exit 1, or `Configuration is valid` and 0. */
export function validateConfigCommand(files: readonly string[], env?: Environment): ValidateConfigResult {
  const warningLines = (warnings: readonly string[]) => warnings.map((warning) => `warning: ${warning}`);
  try {
    // The same load `serve` does, files named by the configuration included: what validates, starts.
    const loaded = loadConfig({ files, checkReferencedFiles: true, ...(env === undefined ? {} : { env }) });
    return { exitCode: 0, output: ['Configuration is valid', ...warningLines(loaded.warnings)].join('\n') };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { exitCode: 1, output: [...error.problems.map(formatProblem), ...warningLines(error.warnings)].join('\n') };
  }
}
