// `gatehouse storage authentication-log list`: the sign-in attempts regulation records, for an operator. Every text
// field of a row came from a client (the username typed, the URI asked for), so it is printed escaped: a hostile
// value can neither forge lines or columns nor drive the terminal.
import { parseDuration } from '../config/duration.js';
import type { AuthenticationAttempt, Storage } from '../storage/storage.js';
import { safeText } from '../text/safe-text.js';

/** Rows printed without --limit. */
export const DEFAULT_LOG_LIMIT = 100;
/** The most rows one command prints (a bigger export belongs to SQL). */
export const MAX_LOG_LIMIT = 100_000;

export interface LogQuery {
  username?: string;
  /** Only attempts at or after this time (all of them when absent). */
  since?: Date;
  limit: number;
}

/** A refused option value, said in one line; the caller turns it into a usage error (exit 2). */
export type Parsed<T> = { value: T } | { error: string };

/**
 * `--since`: a duration back from `now` (Go-style, as in the configuration: "90m", "1h30m", "7d") or an RFC 3339
 * time ("2026-01-02T15:04:05Z", "2026-01-02T16:04:05+01:00").
 */
export function parseSince(text: string, now: number = Date.now()): Parsed<Date> {
  const usage = `--since takes a duration like 1h or 7d, or an RFC 3339 time like 2026-01-02T15:04:05Z, not '${safeText(text, 64)}'`;
  const trimmed = text.trim();
  if (RFC3339.test(trimmed)) {
    const time = Date.parse(trimmed);
    // Date.parse rolls "02-30" over to March: the written date must come back unchanged.
    if (!Number.isFinite(time) || !sameCalendarDate(trimmed, time)) return { error: usage };
    if (time > now) return { error: `--since ${trimmed} is in the future` };
    return { value: new Date(time) };
  }
  // A bare "2026-01-02" or a time without its offset is neither: say what is expected rather than guess a zone.
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return { error: usage };
  const parsed = parseDuration(trimmed);
  if ('error' in parsed || !(parsed.seconds > 0)) return { error: usage };
  const time = now - parsed.seconds * 1000;
  // Further back than a Date can say: every attempt is "since" then.
  return { value: new Date(Math.max(time, 0)) };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function sameCalendarDate(text: string, time: number): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const shift = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0;
  return new Date(time + shift).toISOString().slice(0, 10) === text.slice(0, 10);
}

/** `--limit`: a whole number of rows, 1 to MAX_LOG_LIMIT. */
export function parseLimit(text: string | undefined): Parsed<number> {
  if (text === undefined) return { value: DEFAULT_LOG_LIMIT };
  const n = /^\d{1,7}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n >= 1 && n <= MAX_LOG_LIMIT))
    return { error: `--limit takes a whole number from 1 to ${MAX_LOG_LIMIT}, not '${safeText(text, 64)}'` };
  return { value: n };
}

/** What an attempt came to: a sign-in that worked, one that failed, or one refused during a ban (never checked). */
export function resultOf(attempt: Pick<AuthenticationAttempt, 'successful' | 'banned'>): string {
  if (attempt.banned) return 'banned';
  return attempt.successful ? 'success' : 'failure';
}

// Bidirectional controls reorder what a terminal draws (a name could appear to be another, or a column to move):
// escaped here as well as the controls safeText escapes. Display only; the log keeps what was sent.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** A client-chosen value for the table: controls and bidi marks escaped, cut to `width` with an ellipsis. */
export function displayField(text: string, width: number): string {
  const escaped = safeText(text, width + 1).replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped.length <= width) return escaped;
  const cut = escaped.slice(0, width - 1);
  // Never end between the two halves of a surrogate pair.
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * What the attempt was for: the portal records the URL the user was heading for (and its method), as Authelia does;
 * a sign-in straight at the portal has none.
 */
function targetOf(a: AuthenticationAttempt): string {
  const target = `${a.requestMethod} ${a.requestUri}`.trim();
  return target === '' ? '-' : target;
}

/** `2026-01-02 15:04:05` in UTC. */
function utc(time: Date): string {
  return time
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '');
}

const COLUMNS = [
  { title: 'TIME (UTC)', width: 19 },
  { title: 'USER', width: 24 },
  { title: 'RESULT', width: 7 },
  { title: 'TYPE', width: 9 },
  { title: 'ADDRESS', width: 39 },
  { title: 'TARGET', width: 56 },
] as const;

/** The attempts as an aligned table, newest first as given; a line saying so when there are none. */
export function formatTable(attempts: readonly AuthenticationAttempt[]): string {
  if (attempts.length === 0) return 'No authentication attempts match.';
  const rows = attempts.map((a) => [
    utc(a.time),
    displayField(a.username, COLUMNS[1].width),
    resultOf(a),
    displayField(a.authType, COLUMNS[3].width),
    displayField(a.remoteIp, COLUMNS[4].width),
    displayField(targetOf(a), COLUMNS[5].width),
  ]);
  const widths = COLUMNS.map((column, i) => Math.max(column.title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map((c) => c.title)), ...rows.map(line)].join('\n');
}

/**
 * One JSON object per line, the values whole. JSON.stringify escapes C0 controls only; DEL, C1 controls, the
 * line/paragraph separators and bidi marks are written as \u escapes too, so that a line is still one line and
 * draws as it reads in a terminal, and parses back to exactly what was stored.
 */
export function formatJsonLines(attempts: readonly AuthenticationAttempt[]): string {
  return attempts
    .map((a) =>
      JSON.stringify({
        time: a.time.toISOString(),
        username: a.username,
        result: resultOf(a),
        successful: a.successful,
        banned: a.banned,
        auth_type: a.authType,
        remote_ip: a.remoteIp,
        request_method: a.requestMethod,
        request_uri: a.requestUri,
      }).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    )
    .join('\n');
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** The attempts the query selects, newest first, through the Storage port. */
export function listAuthenticationLog(
  storage: Pick<Storage, 'latestAuthenticationAttempts'>,
  query: LogQuery,
): Promise<AuthenticationAttempt[]> {
  return storage.latestAuthenticationAttempts({
    ...(query.username === undefined ? {} : { username: query.username }),
    since: query.since ?? new Date(0),
    limit: query.limit,
  });
}
