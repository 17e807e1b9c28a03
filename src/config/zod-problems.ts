// Turns the schema's issues into problems an operator can act on: one per key, with its full path,
// in words rather than zod's internal vocabulary. Values are never echoed (the key might hold a secret).
import type { z } from 'zod';
import { describeValue } from './yaml-files.js';
import { formatKeyPath, joinKeyPath, type ConfigProblem } from './problems.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
};

const typeName = (expected: string): string => TYPE_NAMES[expected] ?? expected;

/** Error map for `safeParse(..., { error })`: only used where the schema did not give its own message. */
export function schemaIssueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'is required'
        : `must be ${typeName(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return boundMessage('at least', issue.origin, issue.minimum, issue.inclusive !== false);
    case 'too_big':
      return boundMessage('at most', issue.origin, issue.maximum, issue.inclusive !== false);
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    default:
      return undefined;
  }
}

function boundMessage(
  bound: 'at least' | 'at most',
  origin: string,
  limit: number | bigint,
  inclusive: boolean,
): string {
  if (origin === 'string' && bound === 'at least' && Number(limit) === 1) return 'must not be empty';
  if (origin === 'array') return `must have ${bound} ${limit} entr${Number(limit) === 1 ? 'y' : 'ies'}`;
  if (origin === 'string') return `must be ${bound} ${limit} characters long`;
  if (inclusive) return `must be ${bound} ${limit}`;
  return `must be ${bound === 'at least' ? 'greater' : 'less'} than ${limit}`;
}

export function schemaProblems(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): ConfigProblem[] {
  return issues.flatMap((issue) => issueProblems(issue, [...prefix, ...issue.path]));
}

function issueProblems(issue: Issue, path: PropertyKey[]): ConfigProblem[] {
  const at = formatKeyPath(path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: joinKeyPath(at, key),
      message: 'is not a configuration key Gatehouse knows',
    }));
  }
  if (issue.code === 'invalid_union') return unionProblems(issue.errors, path, at);
  return [{ path: at, message: issue.message }];
}

/**
 * A union failed: when one alternative got past the type check (the value was a map and failed inside),
 * its issues say what is wrong; when none did, the value simply has the wrong type.
 */
function unionProblems(branches: readonly (readonly Issue[])[], path: PropertyKey[], at: string): ConfigProblem[] {
  const wrongType = (issues: readonly Issue[]) =>
    issues.length === 1 && issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0;
  const deeper = branches.find((issues) => issues.length > 0 && !wrongType(issues));
  if (deeper) return schemaProblems(deeper, path);
  const expected = [
    ...new Set(
      branches.flatMap((issues) =>
        issues.map((issue) => (issue.code === 'invalid_type' ? typeName(issue.expected) : '')),
      ),
    ),
  ].filter(Boolean);
  return [{ path: at, message: expected.length > 0 ? `must be ${expected.join(' or ')}` : 'has an invalid value' }];
}
