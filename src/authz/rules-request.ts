// What the rules engine is asked (AccessRequest), what it answers (AccessDecision), what each criterion answers
// (Match), and the per-request state the criteria read. The state works out what a request needs once and only
// when a rule asks (its canonical resource, its query string, its client address), and is reused from request to
// request: evaluation is synchronous, so no two requests ever share it at once.
import type { SocketAddress } from 'node:net';
import type { Policy } from '../config/schema.js';
import { parseGoQuery, type GoQuery } from './go-query.js';
import { clientAddress } from './ip.js';
import { canonicalResource } from './resource-path.js';

export interface AccessSubject {
  username: string;
  groups: readonly string[];
}

export interface AccessRequest {
  url: URL;
  /**
   * What `resources` match: `canonicalResource` of the URL as received (resource-path.ts). The authz endpoints and
   * check-policy always pass it; without it, it is worked out from `url` (already normalised by the WHATWG parser).
   */
  resource?: string;
  method: string;
  ip: string | undefined;
  subject?: AccessSubject;
}

export interface AccessDecision {
  policy: Policy;
  /** 1-based rule position, 0 = default_policy */
  rule: number;
  /** An anonymous request met a rule that depends on who the user is: sign in, then evaluate again. */
  subjectRequired: boolean;
  /**
   * The matched rule's `max_auth_age` in seconds (step-up), present only on such rules: a second factor used longer
   * ago than this counts as missing.
   */
  maxAuthAge?: number;
}

export const MISS = 0;
export const HIT = 1;
export const MAY = 2;
export type Match = typeof MISS | typeof HIT | typeof MAY;

export type CriterionKind = 'domain' | 'resource' | 'method' | 'network' | 'subject' | 'query';

export interface Criterion {
  readonly kind: CriterionKind;
  test(state: RequestState): Match;
}

/** A URL the caller did not canonicalise (a refused path then matches as written, which no sane rule matches). */
function resourceOf(url: URL): string {
  const resource = canonicalResource(url.pathname + url.search);
  return typeof resource === 'string' ? resource : url.pathname + url.search;
}

export class RequestState {
  url: URL | undefined;
  host = '';
  method = '';
  subject: AccessSubject | undefined;
  private ip: string | undefined;
  private resourcePath: string | undefined;
  private queryValues: GoQuery | undefined;
  private address: SocketAddress | null | undefined;

  load(request: AccessRequest): void {
    this.url = request.url;
    this.host = request.url.hostname.toLowerCase();
    this.method = request.method.toUpperCase();
    this.subject = request.subject;
    this.ip = request.ip;
    this.resourcePath = request.resource;
    this.queryValues = undefined;
    this.address = undefined;
  }

  /** Drops the references so the last request is not kept alive. */
  clear(): void {
    this.url = undefined;
    this.subject = undefined;
    this.ip = undefined;
    this.resourcePath = undefined;
    this.queryValues = undefined;
    this.address = undefined;
  }

  /** The query string's keys and values, read as Go's url.Query() reads them (as Authelia does). */
  query(): GoQuery {
    this.queryValues ??= parseGoQuery(this.url!.search);
    return this.queryValues;
  }

  resource(): string {
    this.resourcePath ??= resourceOf(this.url!);
    return this.resourcePath;
  }

  clientAddress(): SocketAddress | null {
    if (this.address === undefined) this.address = clientAddress(this.ip);
    return this.address;
  }
}
