// What differs between the proxy protocols (SPEC §4), one row per flavour, so the handler reads as one path for all
// of them: where the target and its method come from, which calls are allowed, how an unusable request is answered,
// where a visitor is sent to sign in and how. Each answer is Authelia's for the same implementation.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthzFlavour } from '../config/authz-endpoints.js';
import {
  type ChosenTarget,
  fromForwardedHeaders,
  fromOriginalUrl,
  fromOriginalUrlOrForwarded,
  readMethod,
  type TargetResult,
  targetOf,
} from './target.js';
import { TargetMemo } from './target-memo.js';

export interface Flavour {
  /** The methods a proxy may call the endpoint with (any other: 405 with this Allow list); undefined: any method. */
  readonly callMethods: readonly string[] | undefined;
  /** The header(s) naming the original URL. */
  readonly targetUrl: (headers: IncomingHttpHeaders) => ChosenTarget | { error: string };
  /**
   * Every header `targetUrl` and `targetMethod` read (lower case): the texts a target is remembered by
   * (target-memo.ts). A reader that looked at one not listed here would be answered another request's target; the
   * unit test of the flavours checks the list against what the readers actually read.
   */
  readonly targetHeaders: readonly string[];
  /** The header naming the original method (`requestMethod`: the authz request's own). */
  readonly targetMethod: (headers: IncomingHttpHeaders, requestMethod: string) => string | { error: string };
  /** The answer to a request it cannot use (a missing or malformed target, portal or cookie domain). */
  readonly unusableStatus: 400 | 401;
  /**
   * Where the portal a caller names is read: a query parameter, then a header if any. When none is named: the
   * cookie domain's portal, or none (a bare 401 to an anonymous visitor).
   */
  readonly portal: {
    readonly query: 'authelia_url' | 'rd';
    readonly header?: 'x-authelia-url';
    readonly otherwise: 'cookie-domain-portal' | 'none';
  };
  /**
   * How a visitor is sent to the portal: 'redirect' is 302 (303 after an unsafe method), or 401 with the Location
   * for a client that cannot follow one (XHR, no text/html); 'status' is always 401 with the Location.
   */
  readonly signIn: 'redirect' | 'status';
  /**
   * Which answers carry a body, so that the proxy can keep its connection to Gatehouse (docs/decisions.md,
   * "Keep-alive answers"): a proxy reuses a connection only once it has read the whole answer, and an answer it
   * never shows is never read. 'none': no answer has one (nginx's auth_request never reads the subrequest's body and
   * closes the connection rather than read it). 'refusals': the proxy relays every answer but a pass to the client
   * as it is, so those keep Authelia's bodies; the pass, never shown, has none.
   */
  readonly bodies: 'none' | 'refusals';
}

const SAFE_CALLS: readonly string[] = ['GET', 'HEAD'];

export const FLAVOURS: Readonly<Record<AuthzFlavour, Flavour>> = {
  // nginx auth_request: only the status and headers of the subrequest count, so the sign-in answer is a 401 whose
  // Location nginx copies into its own redirect, and nothing has a body.
  'auth-request': {
    callMethods: SAFE_CALLS,
    targetUrl: fromOriginalUrl,
    targetHeaders: ['x-original-url', 'x-original-method'],
    targetMethod: (headers) => readMethod(headers, 'x-original-method'),
    unusableStatus: 400,
    portal: { query: 'authelia_url', otherwise: 'cookie-domain-portal' },
    signIn: 'status',
    bodies: 'none',
  },
  // Traefik, Caddy, HAProxy: the answer is relayed to the client as it is.
  'forward-auth': {
    callMethods: SAFE_CALLS,
    targetUrl: fromForwardedHeaders,
    targetHeaders: ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-uri', 'x-forwarded-method'],
    targetMethod: (headers) => readMethod(headers, 'x-forwarded-method'),
    unusableStatus: 400,
    portal: { query: 'authelia_url', otherwise: 'cookie-domain-portal' },
    signIn: 'redirect',
    bodies: 'refusals',
  },
  // Authelia's legacy /api/verify: any method, either header set; what it cannot use is a 401 without Location,
  // and so is a visitor to sign in when no `rd` or X-Authelia-URL names the portal.
  verify: {
    callMethods: undefined,
    targetUrl: fromOriginalUrlOrForwarded,
    targetHeaders: ['x-original-url', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-uri', 'x-forwarded-method'],
    targetMethod: (headers, requestMethod) => readMethod(headers, 'x-forwarded-method', requestMethod),
    unusableStatus: 401,
    portal: { query: 'rd', header: 'x-authelia-url', otherwise: 'none' },
    signIn: 'redirect',
    bodies: 'refusals',
  },
};

/** The target of an authz call, read as the flavour's row says (SPEC §4 table). */
export function readTarget(flavour: AuthzFlavour, headers: IncomingHttpHeaders, requestMethod: string): TargetResult {
  const row = FLAVOURS[flavour];
  const chosen = row.targetUrl(headers);
  if ('error' in chosen) return chosen;
  const method = row.targetMethod(headers, requestMethod);
  if (typeof method !== 'string') return method;
  return targetOf(chosen, method);
}

/** `readTarget`, answered from `memo` when the same texts were read before (a target read from it is frozen). */
export function readTargetMemoised(
  memo: TargetMemo,
  flavour: AuthzFlavour,
  headers: IncomingHttpHeaders,
  requestMethod: string,
): TargetResult {
  const key = TargetMemo.keyOf(flavour, FLAVOURS[flavour].targetHeaders, headers, requestMethod);
  if (key === undefined) return readTarget(flavour, headers, requestMethod);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const read = readTarget(flavour, headers, requestMethod);
  return 'error' in read ? read : memo.remember(key, read.target);
}
