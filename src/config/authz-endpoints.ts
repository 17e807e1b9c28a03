// The authz endpoints Gatehouse serves and how each finds who is asking: Authelia's `server.endpoints.authz`
// (implementations and authn strategies), resolved once at start-up, while the configuration is read, into plain
// values the authz hot path (authz/handler.ts) reads.

/** The proxy protocol an endpoint speaks; how each reads its target and answers is authz/flavours.ts. */
export type AuthzFlavour = 'auth-request' | 'forward-auth' | 'verify';

/**
 * How an endpoint finds an identity, tried in order (Authelia's authn strategies). Header strategies read Basic
 * credentials from one header and, when they fail or are last, answer with their own challenge.
 */
export type AuthnStrategy =
  | { kind: 'cookie' }
  | { kind: 'header'; header: 'authorization' | 'proxy-authorization'; challenge: Challenge }
  /** `/api/verify`: Proxy-Authorization, or Authorization with `?auth=basic`; always answers 401 WWW-Authenticate. */
  | { kind: 'legacy' };

export interface Challenge {
  status: 401 | 407;
  header: 'WWW-Authenticate' | 'Proxy-Authenticate';
}

export interface AuthzEndpoint {
  /** The request path it is served at (`/api/verify` for the endpoint named `legacy`, else `/api/authz/<name>`). */
  path: string;
  flavour: AuthzFlavour;
  strategies: readonly AuthnStrategy[];
}

const WWW: Challenge = { status: 401, header: 'WWW-Authenticate' };
const PROXY: Challenge = { status: 407, header: 'Proxy-Authenticate' };

const STRATEGIES = {
  CookieSession: { kind: 'cookie' },
  HeaderAuthorization: { kind: 'header', header: 'authorization', challenge: WWW },
  HeaderProxyAuthorization: { kind: 'header', header: 'proxy-authorization', challenge: PROXY },
  HeaderAuthRequestProxyAuthorization: { kind: 'header', header: 'proxy-authorization', challenge: WWW },
  HeaderLegacy: { kind: 'legacy' },
} as const satisfies Record<string, AuthnStrategy>;

type StrategyName = keyof typeof STRATEGIES;

const IMPLEMENTATIONS = {
  AuthRequest: 'auth-request',
  ForwardAuth: 'forward-auth',
  Legacy: 'verify',
} as const satisfies Record<string, AuthzFlavour>;

type Implementation = keyof typeof IMPLEMENTATIONS;

/**
 * The strategies of an endpoint that names none: Authelia's defaults (HeaderAuthorization + CookieSession; HeaderLegacy
 * + CookieSession for Legacy) with Proxy-Authorization kept after Authorization on AuthRequest and ForwardAuth, as
 * earlier Gatehouse versions and Authelia's own handler defaults read it. The 401/407 answers are Authelia's.
 */
const DEFAULT_STRATEGIES: Record<Implementation, readonly StrategyName[]> = {
  AuthRequest: ['HeaderAuthorization', 'HeaderAuthRequestProxyAuthorization', 'CookieSession'],
  ForwardAuth: ['HeaderAuthorization', 'HeaderProxyAuthorization', 'CookieSession'],
  Legacy: ['HeaderLegacy', 'CookieSession'],
};

const DEFAULT_ENDPOINTS: Record<string, Implementation> = {
  legacy: 'Legacy',
  'auth-request': 'AuthRequest',
  'forward-auth': 'ForwardAuth',
};

const HEADER_STRATEGIES: readonly StrategyName[] = [
  'HeaderAuthorization',
  'HeaderProxyAuthorization',
  'HeaderAuthRequestProxyAuthorization',
];
// Authelia's rule for endpoint names (letters first and last; digits, '/', '.', '_', '-' inside).
const ENDPOINT_NAME = /^[a-zA-Z](?:[a-zA-Z0-9/._-]*[a-zA-Z])?$/;

/** One `server.endpoints.authz` entry as written (the schema checks the types). */
export interface AuthzEndpointConfig {
  implementation?: string | undefined;
  authn_strategies?:
    | { name?: string | undefined; schemes?: string[] | undefined; scheme_basic_cache_lifespan?: number | undefined }[]
    | undefined;
}

export interface EndpointProblem {
  path: (string | number)[];
  message: string;
}

function endpointPath(name: string): string {
  return name === 'legacy' ? '/api/verify' : `/api/authz/${name}`;
}

function strategiesOf(names: readonly StrategyName[]): AuthnStrategy[] {
  return names.map((name) => STRATEGIES[name]);
}

/** The endpoints to serve: Gatehouse's three defaults without a `server.endpoints.authz` map, else exactly those named. */
export function resolveAuthzEndpoints(config: Record<string, AuthzEndpointConfig> | undefined): {
  endpoints: AuthzEndpoint[];
  problems: EndpointProblem[];
} {
  const problems: EndpointProblem[] = [];
  const entries =
    config === undefined || Object.keys(config).length === 0
      ? Object.entries(DEFAULT_ENDPOINTS).map(([name, implementation]): [string, AuthzEndpointConfig] => [
          name,
          { implementation },
        ])
      : Object.entries(config);
  const endpoints: AuthzEndpoint[] = [];
  for (const [name, entry] of entries) {
    const endpoint = resolveEndpoint(name, entry, problems);
    if (endpoint) endpoints.push(endpoint);
  }
  return { endpoints, problems };
}

function resolveEndpoint(
  name: string,
  entry: AuthzEndpointConfig,
  problems: EndpointProblem[],
): AuthzEndpoint | undefined {
  const before = problems.length;
  const problem = (path: (string | number)[], message: string) => problems.push({ path: [name, ...path], message });
  if (!ENDPOINT_NAME.test(name))
    problem([], 'is not a valid endpoint name: letters first and last, then letters, digits, /, ., _ or -');
  const implementation = entry.implementation ?? (name === 'legacy' ? 'Legacy' : undefined);
  if (implementation === 'ExtAuthz') {
    problem(
      ['implementation'],
      "'ExtAuthz' (Envoy) is not supported by Gatehouse: use ForwardAuth or AuthRequest for this proxy",
    );
  } else if (implementation === undefined || !Object.hasOwn(IMPLEMENTATIONS, implementation)) {
    problem(
      ['implementation'],
      `must be one of AuthRequest, ForwardAuth or Legacy${implementation === undefined ? '' : `, not '${implementation}'`}`,
    );
  } else if (name === 'legacy' && implementation !== 'Legacy') {
    problem(['implementation'], "must be 'Legacy': the endpoint named 'legacy' is /api/verify");
  }
  const names = strategyNames(entry, problem);
  if (problems.length > before || implementation === undefined || !Object.hasOwn(IMPLEMENTATIONS, implementation))
    return undefined;
  const impl = implementation as Implementation;
  return {
    path: endpointPath(name),
    flavour: IMPLEMENTATIONS[impl],
    strategies: strategiesOf(names ?? DEFAULT_STRATEGIES[impl]),
  };
}

/** The configured strategy names when valid (undefined when none are listed: the implementation's defaults apply). */
function strategyNames(
  entry: AuthzEndpointConfig,
  problem: (path: (string | number)[], message: string) => void,
): StrategyName[] | undefined {
  const list = entry.authn_strategies;
  if (list === undefined || list.length === 0) return undefined;
  const names: StrategyName[] = [];
  list.forEach((strategy, index) => {
    const at = ['authn_strategies', index];
    const name = strategy.name;
    if (name === undefined || name === '') {
      problem([...at, 'name'], 'is required');
      return;
    }
    if (!Object.hasOwn(STRATEGIES, name)) {
      problem([...at, 'name'], `must be one of ${Object.keys(STRATEGIES).join(', ')}, not '${name}'`);
      return;
    }
    if (names.includes(name as StrategyName)) problem([...at, 'name'], `'${name}' is listed twice`);
    const schemes = strategy.schemes ?? [];
    if (HEADER_STRATEGIES.includes(name as StrategyName)) {
      schemes.forEach((scheme, i) => {
        const lower = scheme.toLowerCase();
        if (lower === 'bearer')
          problem(
            [...at, 'schemes', i],
            "'bearer' is not supported: Gatehouse has no OpenID Connect provider to issue or check bearer tokens; use 'basic'",
          );
        else if (lower !== 'basic') problem([...at, 'schemes', i], `must be 'basic', not '${scheme}'`);
      });
    } else if (schemes.length > 0) {
      problem([...at, 'schemes'], `is not valid for the ${name} strategy`);
    }
    if ((strategy.scheme_basic_cache_lifespan ?? 0) > 0) {
      problem(
        [...at, 'scheme_basic_cache_lifespan'],
        'is not supported: Gatehouse checks Basic credentials on every request; remove it',
      );
    }
    names.push(name as StrategyName);
  });
  return names;
}
