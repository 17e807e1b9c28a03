// `gatehouse access-control check-policy`: shows, rule by rule, which criteria match a request and which rule
// decides, like Authelia's command of the same name. It runs the compiled rules' own matchers (rules.ts), so the
// explanation cannot drift from what the authz endpoints do.
import type { Config } from '../config/schema.js';
import { compileAccessControl } from './rules.js';
import {
  HIT,
  MAY,
  MISS,
  type AccessDecision,
  type AccessRequest,
  type CriterionKind,
  type Match,
} from './rules-request.js';

const COLUMNS: readonly (readonly [CriterionKind, string])[] = [
  ['domain', 'Domain'],
  ['resource', 'Resource'],
  ['method', 'Method'],
  ['network', 'Network'],
  ['subject', 'Subject'],
  ['query', 'Query'],
];

const WORDS: Readonly<Record<Match, string>> = { [MISS]: 'miss', [HIT]: 'hit', [MAY]: 'may' };

const LEGEND = [
  'Legend: * the rule that decides; ~ the rule that decides once the user is known (the request is sent to sign in);',
  '        hit / miss: the criterion matches / does not; may: it matches if the signed-in user is the right one; - absent.',
];

export interface ExplainOptions {
  /** Also show the rules after the one that decides (Authelia's `--verbose`). */
  verbose?: boolean;
}

export function explainAccess(
  config: Pick<Config, 'access_control' | 'definitions'>,
  request: AccessRequest,
  options: ExplainOptions = {},
): string {
  const access = compileAccessControl(config.access_control, config.definitions);
  const decision = access.evaluate(request);
  // As Authelia's command: the rules after the deciding one never count; they are shown only when asked for.
  const inspected = access.inspect(request);
  const shown = options.verbose || decision.rule === 0 ? inspected : inspected.slice(0, decision.rule);
  const rows = shown.map((rule) => [
    rule.position === decision.rule ? (decision.subjectRequired ? '~' : '*') : '',
    String(rule.position),
    ...COLUMNS.map(([kind]) => {
      const match = rule.criteria[kind];
      return match === undefined ? '-' : WORDS[match];
    }),
    rule.policy,
  ]);
  const table =
    rows.length === 0
      ? ['(no rules: only the default policy applies)']
      : formatTable([['', '#', ...COLUMNS.map(([, title]) => title), 'Policy'], ...rows]);
  const hidden = inspected.length - shown.length;
  const more =
    hidden > 0 ? [`(${hidden} later rule${hidden === 1 ? '' : 's'} not shown: --verbose shows every rule)`] : [];
  const stepUp = decision.maxAuthAge === undefined ? [] : [maxAgeLine(decision.maxAuthAge)];
  return [describeRequest(request), '', ...table, ...more, '', ...LEGEND, '', conclusion(decision), ...stepUp].join(
    '\n',
  );
}

function describeRequest(request: AccessRequest): string {
  const subject = request.subject;
  const groups = subject?.groups.length ? `groups: ${subject.groups.join(', ')}` : 'no groups';
  const who =
    subject === undefined
      ? 'an anonymous user'
      : subject.username === ''
        ? `a user with no name given (${groups})`
        : `user '${subject.username}' (${groups})`;
  return `Request: ${request.method.toUpperCase()} ${request.url.href} from ${request.ip || 'an unknown address'}, by ${who}.`;
}

function conclusion(decision: AccessDecision): string {
  if (decision.rule === 0)
    return `The policy '${decision.policy}' from the default policy will be applied to this request.`;
  if (decision.subjectRequired) {
    return (
      `Rule #${decision.rule} (policy '${decision.policy}') applies only to certain users: ` +
      'the request will be sent to sign in, then checked again for the signed-in user.'
    );
  }
  return `The policy '${decision.policy}' from rule #${decision.rule} will be applied to this request.`;
}

/** Step-up: the deciding rule's max_auth_age, as written in the configuration's duration style. */
function maxAgeLine(seconds: number): string {
  return (
    `Max auth age: ${goDuration(seconds)} (max_auth_age): a security key used longer ago than that is asked for ` +
    'again at the portal (not the password) before the request passes.'
  );
}

/** 600 -> "10m", 5400 -> "1h30m", 2.5 -> "2.5s": the shape the configuration's durations are written in. */
function goDuration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Math.round((seconds % 60) * 1000) / 1000;
  const text = `${hours > 0 ? `${hours}h` : ''}${minutes > 0 ? `${minutes}m` : ''}${rest > 0 ? `${rest}s` : ''}`;
  return text === '' ? '0s' : text;
}

function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}
