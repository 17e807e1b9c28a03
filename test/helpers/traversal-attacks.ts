// Request targets that try to reach a protected area (/a/longer/rule/) through an allowed one (/bypass/) with
// encoded slashes, dot segments and the tricks upstreams disagree about (Authelia's authorizer vectors and more).
// One list for every level that judges them: the canonical resource (unit), the rules engine, and real proxies
// in front of a decoding app (e2e), so a new trick added here is checked everywhere at once.

export interface TraversalAttack {
  /** The request target exactly as a client writes it on the request line (never normalised by the client). */
  readonly target: string;
  /** What `resources` rules are matched against (canonicalResource); null: the path is ambiguous and refused. */
  readonly resource: string | null;
}

const INTO_THE_RULE = '/a/longer/rule/abc';

export const TRAVERSAL_ATTACKS: readonly TraversalAttack[] = [
  // Resolved: decoded, dot segments removed, then judged as the path the upstream serves.
  { target: '/bypass/../a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..//a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..%2f/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..%2fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..%2F/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..%2Fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2e%2e/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2e%2e//a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2e%2e%2f/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2e%2e%2fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2E%2E%2F/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2E%2E%2Fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/.%2e/a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/%2e./a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/./../a/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/x/..%2f..%2fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/x/%2e%2e%2f%2e%2e%2fa/longer/rule/abc', resource: INTO_THE_RULE },
  { target: '/bypass/..%2f/a/longer/rule/abc?x=1', resource: `${INTO_THE_RULE}?x=1` },
  { target: '/bypass/..%2f/a/longer/rule/abc?/bypass/', resource: `${INTO_THE_RULE}?/bypass/` },
  // Refused: upstreams read these differently (resource-path.ts says why for each kind).
  { target: '/bypass/%2f..%2fa/longer/rule/abc', resource: null },
  { target: '/bypass/..%5ca/longer/rule/abc', resource: null },
  { target: '/bypass/..\\a/longer/rule/abc', resource: null },
  { target: '/bypass/%252e%252e%252fa/longer/rule/abc', resource: null },
  { target: '/bypass/..%252fa/longer/rule/abc', resource: null },
  { target: '/bypass/..;/a/longer/rule/abc', resource: null },
  { target: '/bypass/..%3b/a/longer/rule/abc', resource: null },
  { target: '/bypass/..%00/a/longer/rule/abc', resource: null },
  { target: '/bypass/%00/../../a/longer/rule/abc', resource: null },
  { target: '/bypass/..%c0%afa/longer/rule/abc', resource: null },
  { target: '/bypass/%c0%ae%c0%ae/a/longer/rule/abc', resource: null },
  { target: '/bypass/..%ef%bc%8fa/longer/rule/abc', resource: null },
  { target: '/bypass/..%2f..%2f..%2fa/longer/rule/abc', resource: null },
  { target: '/bypass/../../a/longer/rule/abc', resource: null },
  { target: '/bypass/..%2F%2e%2e%2F/a/longer/rule/abc', resource: null },
];
