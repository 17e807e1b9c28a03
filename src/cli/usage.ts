// The `gatehouse` commands' usage texts: one entry per command, so `gatehouse help`, `gatehouse help COMMAND` and
// `gatehouse COMMAND --help` print the same words, and a usage error points at them instead of printing them all.

export interface CommandHelp {
  /** The words that name the command, e.g. `storage user webauthn list`. */
  name: string;
  synopsis: string;
  summary: string;
  /** Option lines, already aligned. */
  details?: string;
}

const CONFIG =
  '  -c, --config FILE   configuration file (repeatable, later files win; default ./configuration.yml if present)';

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'serve',
    synopsis: 'gatehouse serve [--config FILE]...',
    summary: 'start the server (the default command)',
    details: CONFIG,
  },
  {
    name: 'validate-config',
    synopsis: 'gatehouse validate-config [--check-ldap] [--config FILE]...',
    summary: 'check a configuration and print every problem and warning (exit 1 when invalid)',
    details: [
      CONFIG,
      '  --check-ldap        also connect to authentication_backend.ldap and bind as its user (exit 1 when that fails)',
    ].join('\n'),
  },
  {
    name: 'hash-password',
    synopsis: 'gatehouse hash-password [--password P] [--config FILE]...',
    summary: 'print an argon2id hash for the users file',
    details: [
      '  --password P        the password (visible in the process list and shell history: prefer the prompt)',
      '  On a terminal, asks for the password twice without showing it; otherwise reads one line from stdin.',
      '  With --config, uses authentication_backend.file.password.argon2; else m=65536, t=3, p=4.',
    ].join('\n'),
  },
  {
    name: 'migrate',
    synopsis: 'gatehouse migrate [--config FILE]...',
    summary: 'apply pending storage migrations and exit',
    details: CONFIG,
  },
  {
    name: 'access-control check-policy',
    synopsis:
      'gatehouse access-control check-policy --url URL [--method M] [--username U] [--groups a,b]... [--ip IP] [--verbose] [--config FILE]...',
    summary: 'show which access-control rule decides for a request, and why (needs no secrets, Redis or database)',
    details: [
      '  --url URL           the request, absolute (https://app.example.com/path?query)',
      '  --method M          upper-case, default GET',
      '  --username U        the signed-in user (omit for an anonymous request)',
      '  --groups a,b        their groups (repeatable)',
      '  --ip IP             the client address',
      '  --verbose           also show the rules after the deciding one',
      '  A URL the endpoints answer 400 to (no cookie domain covers its host, http on an https domain) is reported so.',
      CONFIG,
    ].join('\n'),
  },
  {
    name: 'storage authentication-log list',
    synopsis:
      'gatehouse storage authentication-log list [--user U] [--since 1h|TIME] [--limit N] [--json] [--config FILE]...',
    summary: 'show the recorded sign-in attempts, newest first: time (UTC), user, result, type, address, target URL',
    details: [
      '  --user U            only the attempts made under this username (as typed at sign-in)',
      '  --since 1h|TIME     only the attempts since a duration ago (90m, 1h30m, 7d) or an RFC 3339 time',
      '                      (2026-01-02T15:04:05Z)',
      '  --limit N           at most N rows (default 100, at most 100000)',
      '  --json              one JSON object per line, every value whole (the table shortens long ones)',
      '  Values came from clients: control characters are printed escaped (\\x1b), never as they are.',
      '  Attempts are kept for storage.authentication_log.retention (default 30 days).',
      CONFIG,
    ].join('\n'),
  },
  {
    name: 'storage user webauthn list',
    synopsis: 'gatehouse storage user webauthn list [USER] [--config FILE]...',
    summary: "list the stored WebAuthn keys (of USER, or everyone's)",
    details: CONFIG,
  },
  {
    name: 'storage user webauthn delete',
    synopsis:
      'gatehouse storage user webauthn delete USER (--all | --description NAME) | delete [USER] --kid KID [--config FILE]...',
    summary: "delete a user's WebAuthn keys: all of them, the one with that name, or the one with that key ID",
    details: [
      '  --all               every key of USER',
      '  --description NAME  the key of USER with this name (as shown by list)',
      '  --kid KID           the key with this credential ID (base64url, as shown by list; base64 accepted)',
      CONFIG,
    ].join('\n'),
  },
  {
    name: 'storage user webauthn import',
    synopsis: 'gatehouse storage user webauthn import FILE [--config FILE]...',
    summary:
      "store the keys of FILE (written by 'authelia storage user webauthn export'); keys already stored are skipped; all or nothing",
    details: CONFIG,
  },
  {
    name: 'storage user webauthn export',
    synopsis: 'gatehouse storage user webauthn export FILE [--config FILE]...',
    summary: 'write every stored WebAuthn key to the new FILE, in the same format',
    details: CONFIG,
  },
  {
    name: 'sessions list',
    synopsis: 'gatehouse sessions list --user USER [--config FILE]...',
    summary:
      "list USER's live sessions in Redis: handle, browser / OS, address at sign-in, first and last seen, level, cookie domain",
    details: [
      '  --user USER         the user name as in the users file',
      '  Needs session.redis and session.secret (sessions are stored encrypted).',
      CONFIG,
    ].join('\n'),
  },
  {
    name: 'sessions revoke',
    synopsis: 'gatehouse sessions revoke (--user USER | USER) [--config FILE]...',
    summary: 'sign USER out everywhere: end every session of theirs in Redis (the user name as in the users file)',
    details: [
      '  --user USER         the user name as in the users file (or give it as the only argument)',
      '  Needs session.redis: without it, sessions live in the server process only (restart it to end them all).',
      CONFIG,
    ].join('\n'),
  },
  {
    name: 'help',
    synopsis: 'gatehouse help [COMMAND...]',
    summary: 'show every command, or the usage of one (also: gatehouse COMMAND --help)',
  },
];

const FOOTER = `  gatehouse --version                 print the version

Without --config, ./configuration.yml is used when present, else the embedded defaults.
Every key can be set through GATEHOUSE_<KEY_PATH> environment variables (secrets also via GATEHOUSE_<KEY_PATH>_FILE).
Exit status: 0 done, 1 failed (invalid configuration, unreachable storage...), 2 usage error.`;

/** The whole manual: every command's synopsis and summary. */
export function manual(): string {
  const lines = COMMANDS.map((c) => `  ${c.synopsis}\n      ${c.summary}`);
  return `Usage: gatehouse [COMMAND] [OPTIONS]\n\nCommands:\n${lines.join('\n')}\n${FOOTER}`;
}

/** The commands named by `words` (a command, or the start of several: `storage` names the four storage commands). */
export function commandsFor(words: readonly string[]): CommandHelp[] {
  const wanted = words.join(' ');
  return COMMANDS.filter((c) => c.name === wanted || c.name.startsWith(`${wanted} `));
}

/** One or more commands' full usage. */
export function usageOf(commands: readonly CommandHelp[]): string {
  return commands.map((c) => `Usage: ${c.synopsis}\n\n${c.summary}${c.details ? `\n\n${c.details}` : ''}`).join('\n\n');
}
