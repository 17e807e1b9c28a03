// One shape for every configuration problem, whichever stage found it (file, environment, schema, semantics),
// so start-up can list them all at once as Authelia does instead of stopping at the first.

export interface ConfigProblem {
  /** Where: a key path (`session.cookies[0].authelia_url`), a file name or an environment variable. */
  path: string;
  message: string;
}

/** Thrown by `loadConfig` when the configuration cannot be used; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  /** Warnings gathered before the failure, so `validate-config` can show them too. */
  readonly warnings: string[];

  constructor(problems: ConfigProblem[], warnings: string[] = []) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.warnings = warnings;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** `['session', 'cookies', 0, 'domain']` → `session.cookies[0].domain`. */
export function formatKeyPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>(
    (text, segment) => joinKeyPath(text, typeof segment === 'number' ? segment : String(segment)),
    '',
  );
}

export function joinKeyPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}
