// Outages of Redis or storage, told once: the first failure of an outage is logged as one line (no stack), every
// request answered 503 meanwhile is counted (metrics), and the recovery is logged once with the outage's length
// and count. While a backend is down it is probed every second, so the recovery is seen without traffic and
// whether it was hung or refused.
import type { Logger } from 'pino';
import { SessionStoreUnavailableError, StorageUnavailableError } from './backend-errors.js';

export type Backend = 'redis' | 'storage';
export const BACKENDS: readonly Backend[] = ['redis', 'storage'];

export interface OutageMetrics {
  /** A request was answered 503 because `backend` could not answer. */
  backendUnavailable(backend: Backend): void;
  backendUp(backend: Backend, up: boolean): void;
}

/** What a store tells about its own connection (Redis connection errors and reconnects). */
export interface OutageReporter {
  unavailable(error: unknown): void;
  available(): void;
}

interface State {
  down: boolean;
  since: number;
  answered503: number;
  probe?: () => Promise<void>;
  timer?: NodeJS.Timeout;
  probing: boolean;
}

const PROBE_EVERY_MS = 1_000;

/** Which backend an error says is unavailable; undefined for any other error (a bug: logged in full). */
export function backendOf(error: unknown): Backend | undefined {
  if (error instanceof SessionStoreUnavailableError) return 'redis';
  if (error instanceof StorageUnavailableError) return 'storage';
  return undefined;
}

/** One line for a log: the error's message and code, never its stack (an outage must not flood the log). */
export function reasonOf(error: unknown): { message: string; code?: string } {
  let e = error as { message?: unknown; code?: unknown; cause?: unknown } | null;
  // Typed wrappers (SessionStoreUnavailableError) keep the client's error as cause: that is the informative one.
  const outer = typeof e?.message === 'string' ? e.message : String(error);
  if (outer === 'session store unavailable' && e?.cause) e = e.cause as typeof e;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : outer;
  return typeof e?.code === 'string' ? { message, code: e.code } : { message };
}

export class Outages {
  readonly #states = new Map<Backend, State>(
    BACKENDS.map((b) => [b, { down: false, since: 0, answered503: 0, probing: false }]),
  );
  #closed = false;

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'info'>,
    private readonly metrics?: OutageMetrics,
  ) {
    for (const backend of BACKENDS) metrics?.backendUp(backend, true);
  }

  /** How to check `backend` while it is down (a ping, bounded by the store's own timeouts). */
  setProbe(backend: Backend, probe: () => Promise<void>): void {
    this.#states.get(backend)!.probe = probe;
  }

  isDown(backend: Backend): boolean {
    return this.#states.get(backend)!.down;
  }

  /** A request was answered 503 because `backend` failed with `error`. */
  answered503(backend: Backend, error: unknown): void {
    this.metrics?.backendUnavailable(backend);
    this.#states.get(backend)!.answered503 += 1;
    this.unavailable(backend, error);
  }

  unavailable(backend: Backend, error: unknown): void {
    const state = this.#states.get(backend)!;
    if (state.down || this.#closed) return;
    state.down = true;
    state.since = Date.now();
    this.metrics?.backendUp(backend, false);
    this.logger.error(
      { backend, reason: reasonOf(error) },
      `${backend} unavailable: requests that need it are answered 503 until it is back`,
    );
    if (state.probe) {
      state.timer = setInterval(() => this.#probe(backend, state), PROBE_EVERY_MS);
      state.timer.unref();
    }
  }

  available(backend: Backend): void {
    const state = this.#states.get(backend)!;
    if (!state.down || this.#closed) return;
    state.down = false;
    clearInterval(state.timer);
    state.timer = undefined;
    this.metrics?.backendUp(backend, true);
    this.logger.info(
      { backend, outageSeconds: Math.round((Date.now() - state.since) / 100) / 10, answered503: state.answered503 },
      `${backend} available again`,
    );
    state.answered503 = 0;
  }

  reporter(backend: Backend): OutageReporter {
    return { unavailable: (error) => this.unavailable(backend, error), available: () => this.available(backend) };
  }

  close(): void {
    this.#closed = true;
    for (const state of this.#states.values()) clearInterval(state.timer);
  }

  #probe(backend: Backend, state: State): void {
    if (state.probing || !state.probe) return;
    state.probing = true;
    state
      .probe()
      .then(
        () => this.available(backend),
        () => undefined,
      )
      .finally(() => (state.probing = false));
  }
}
