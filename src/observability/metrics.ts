// Prometheus metrics (telemetry.metrics): authz decisions by result and their latency; requests answered 503
// because Redis or storage could not answer, and whether each is up.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Backend, OutageMetrics } from './outages.js';

const AUTHZ_RESULTS = ['allowed', 'forbidden', 'sign_in', 'bad_credentials', 'bad_request', 'error'] as const;
export type AuthzResult = (typeof AUTHZ_RESULTS)[number];

export interface AuthzMetrics {
  observe(result: AuthzResult, seconds: number): void;
}

/** The session cache's counters (session/session-cache.ts): what the bench and dashboards read. */
export interface SessionCacheMetrics {
  sessionCacheHit(): void;
  sessionCacheMiss(): void;
  sessionCacheReset(): void;
}

export class Metrics implements AuthzMetrics, OutageMetrics, SessionCacheMetrics {
  readonly registry = new Registry();
  private readonly unavailable = new Counter({
    name: 'gatehouse_backend_unavailable_total',
    help: 'Requests answered 503 because a backend (redis, storage) could not answer.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  private readonly up = new Gauge({
    name: 'gatehouse_backend_up',
    help: 'Whether a backend (redis, storage) answers: 0 from the first failed request to the recovery.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  private readonly decisions = new Counter({
    name: 'gatehouse_authz_decisions_total',
    help: 'Authorization decisions answered to the proxies, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'gatehouse_authz_duration_seconds',
    help: 'Time to answer an authorization request.',
    labelNames: ['result'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5],
    registers: [this.registry],
  });
  private readonly sessionCache = new Counter({
    name: 'gatehouse_session_cache_total',
    help: 'Session loads answered from the in-process cache (hit) or read from Redis (miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly sessionCacheResets = new Counter({
    name: 'gatehouse_session_cache_resets_total',
    help: 'Times the whole session cache was dropped: invalidation feed down or back, Redis flushed, a user revoked.',
    registers: [this.registry],
  });
  private readonly sessionCacheHits = this.sessionCache.labels('hit');
  private readonly sessionCacheMisses = this.sessionCache.labels('miss');
  // Pre-bound children: the hot path does no label lookup.
  private readonly children = new Map<AuthzResult, { count: { inc(): void }; time: { observe(v: number): void } }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    // Every series present from the start (at 0), so a rate() or an alert sees the first outage.
    for (const backend of ['redis', 'storage'] as const) this.unavailable.labels(backend).inc(0);
    for (const result of AUTHZ_RESULTS) {
      this.children.set(result, { count: this.decisions.labels(result), time: this.latency.labels(result) });
    }
  }

  observe(result: AuthzResult, seconds: number): void {
    const child = this.children.get(result)!;
    child.count.inc();
    child.time.observe(seconds);
  }

  backendUnavailable(backend: Backend): void {
    this.unavailable.labels(backend).inc();
  }

  sessionCacheHit(): void {
    this.sessionCacheHits.inc();
  }

  sessionCacheMiss(): void {
    this.sessionCacheMisses.inc();
  }

  sessionCacheReset(): void {
    this.sessionCacheResets.inc();
  }

  backendUp(backend: Backend, up: boolean): void {
    this.up.labels(backend).set(up ? 1 : 0);
  }
}
