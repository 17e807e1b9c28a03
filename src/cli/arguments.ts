// The `gatehouse` command line, read by node:util `parseArgs` in strict mode: an option no command knows, a missing
// value or a value given to a switch is a usage error (exit 2) in our words, pointing at the command's help.
import { parseArgs } from 'node:util';
import { commandsFor } from './usage.js';

/** A command line that names no command, or misuses one: exit 2, with a pointer to that command's help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Every option of every command; each command ignores the ones it does not use, as before. */
const OPTIONS = {
  config: { type: 'string', short: 'c', multiple: true },
  password: { type: 'string' },
  url: { type: 'string' },
  method: { type: 'string' },
  username: { type: 'string' },
  groups: { type: 'string', multiple: true },
  ip: { type: 'string' },
  description: { type: 'string' },
  kid: { type: 'string' },
  user: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  all: { type: 'boolean' },
  verbose: { type: 'boolean' },
  since: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  'check-ldap': { type: 'boolean' },
} as const;

export interface CliOptions {
  /** Repeatable: later files win. */
  config?: string[];
  password?: string;
  url?: string;
  method?: string;
  username?: string;
  /** Repeatable, each possibly comma-separated. */
  groups?: string[];
  ip?: string;
  description?: string;
  kid?: string;
  /** `sessions list|revoke --user U`. */
  user?: string;
  help: boolean;
  version: boolean;
  all: boolean;
  verbose: boolean;
  /** `storage authentication-log list`: a duration back from now or an RFC 3339 time, a row count, JSON lines. */
  since?: string;
  limit?: string;
  json: boolean;
  /** validate-config: also connect to the LDAP directory and bind as the service user. */
  checkLdap: boolean;
}

export interface CommandLine {
  /** The positional words: the command, its sub-commands and its arguments. */
  command: string[];
  options: CliOptions;
}

// `--verbose=true|false` has always been accepted (the last one wins); parseArgs takes no value for a switch, so
// both are read as `--verbose` and the `false` ones are recognised afterwards by their position.
const VERBOSE_VALUE = /^--verbose=(true|false)$/;

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const args = argv.map((arg) => (VERBOSE_VALUE.test(arg) ? '--verbose' : arg));
  const parsed = strictly(args);
  let verbose = false;
  for (const token of parsed.tokens) {
    // `--` ends the options in most tools; no gatehouse argument needs it, so it stays refused as it always was.
    if (token.kind === 'option-terminator') throw new UsageError('unknown option --', commandWords(parsed.positionals));
    if (token.kind === 'option' && token.name === 'verbose') verbose = argv[token.index] !== '--verbose=false';
  }
  const { values } = parsed;
  return {
    command: parsed.positionals,
    options: {
      config: values.config,
      password: values.password,
      url: values.url,
      method: values.method,
      username: values.username,
      groups: values.groups,
      ip: values.ip,
      description: values.description,
      kid: values.kid,
      user: values.user,
      help: values.help === true,
      version: values.version === true,
      all: values.all === true,
      verbose,
      since: values.since,
      limit: values.limit,
      json: values.json === true,
      checkLdap: values['check-ldap'] === true,
    },
  };
}

function strictly(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(usageMessage(error), commandWords(lenientPositionals(args)));
  }
}

/** The command words at the start of `command` that name a known command (for `--help` after its arguments). */
export function commandWords(command: readonly string[]): string[] {
  for (let n = command.length; n > 0; n--) {
    if (commandsFor(command.slice(0, n)).length > 0) return command.slice(0, n);
  }
  return [];
}

/** The positional words of a command line parseArgs refused: enough to point the error at the right help. */
function lenientPositionals(args: readonly string[]): string[] {
  try {
    return parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: false }).positionals;
  } catch {
    return [];
  }
}

/** parseArgs' error in one short line of ours; its own messages are long and suggest `--`, which we refuse. */
function usageMessage(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  // The option as parseArgs quotes it, e.g. '--nope' or '-c, --config <value>': its long name when it has one.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const option = /--[^\s<]+/.exec(quoted)?.[0] ?? quoted.split(/[\s,]/)[0] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(message)) return `${option} needs a value`;
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
    if (/ambiguous/.test(message)) return `${option}: give a value that starts with '-' as ${option}=VALUE`;
  }
  return message.split('\n')[0]!;
}
