// `gatehouse access-control check-policy`: shows, rule by rule, which criteria match a request and which rule
// decides, like Authelia's command of the same name. It runs the compiled rules' own matchers (rules.ts), so the
// explanation cannot drift from what the authz endpoints do.
import type { AccessControlConfig } from '../config/schema.js';
import { compileAccessControl, HIT, MAY, MISS, type AccessDecision, type AccessRequest, type CriterionKind, type Match } from './rules.js';

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

export function explainAccess(config: AccessControlConfig, request: AccessRequest): string {
  const access = compileAccessControl(config);
  const decision = access.evaluate(request);
  const rows = access.inspect(request).map((rule) => [
    rule.position === decision.rule ? (decision.subjectRequired ? '~' : '*') : '',
    String(rule.position),
    ...COLUMNS.map(([kind]) => {
      const match = rule.criteria[kind];
      return match === undefined ? '-' : WORDS[match];
    }),
    rule.policy,
  ]);
  const table = rows.length === 0 ? ['(no rules: only the default policy applies)'] : formatTable([['', '#', ...COLUMNS.map(([, title]) => title), 'Policy'], ...rows]);
  return [describeRequest(request), '', ...table, '', ...LEGEND, '', conclusion(decision)].join('\n');
}

function describeRequest(request: AccessRequest): string {
  const who = request.subject
    ? `user '${request.subject.username}'${request.subject.groups.length ? ` (groups: ${request.subject.groups.join(', ')})` : ' (no groups)'}`
    : 'an anonymous user';
  return `Request: ${request.method.toUpperCase()} ${request.url.href} from ${request.ip || 'an unknown address'}, by ${who}.`;
}

function conclusion(decision: AccessDecision): string {
  if (decision.rule === 0) return `The policy '${decision.policy}' from the default policy will be applied to this request.`;
  if (decision.subjectRequired) {
    return (
      `Rule #${decision.rule} (policy '${decision.policy}') applies only to certain users: ` +
      'the request will be sent to sign in, then checked again for the signed-in user.'
    );
  }
  return `The policy '${decision.policy}' from rule #${decision.rule} will be applied to this request.`;
}

function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}
