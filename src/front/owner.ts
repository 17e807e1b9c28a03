// The main thread's side of the front worker (docs/design/authz-isolate.md): it starts the worker, moves its own
// server to a private Unix socket, feeds the worker the session cache's changes (with beats), the users and what
// the worker asks back (activity touches, metrics, log lines). A worker that stops unasked is fatal: Gatehouse never
// goes on without the listener that owns its port.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import type { CookieSettings } from '../config/cookies.js';
import type { AuthzMetrics } from '../observability/metrics.js';
import { feedMirror } from '../session/mirror-feed.js';
import type { SessionCache } from '../session/session-cache.js';
import type { SessionService } from '../session/service.js';
import type { UserDetails } from '../users/provider.js';
import type { FromFront, FrontSettings, PostedCookie, ToFront } from './protocol.js';
import { startWatchdog } from './watchdog.js';

/** How often the main thread says it is alive and reading Redis; the worker trusts its mirror for MAX_SILENCE_MS. */
export const BEAT_MS = 25;
export const MAX_SILENCE_MS = 100;
/** A worker that does not answer `listen` or `close` within this is taken for dead. */
const CONTROL_TIMEOUT_MS = 10_000;
/** The worker is pinged this often, and taken for hung after this long without an answer (watchdog.ts). */
const PING_EVERY_MS = 1_000;
const HUNG_AFTER_MS = 10_000;

export interface FrontOwnerOptions {
  settings: Omit<FrontSettings, 'socketPath' | 'maxSilenceMs' | 'logLevel' | 'cookies'>;
  cookies: readonly CookieSettings[];
  /** The main thread's server: it listens on the private socket, and answers whatever the worker forwards. */
  server: Server;
  cache: SessionCache;
  sessions: Pick<SessionService, 'peek' | 'touch'>;
  /** The users to post: now, and after every change. null: the worker cannot hold them (it forwards their sessions). */
  users: { now(): UserDetails[] | null; onChange?(listener: () => void): () => void };
  metrics?: AuthzMetrics;
  logger: Logger;
  /** The worker stopped unasked, failed or hung: the replica can no longer answer on its port. */
  onFatal(error: Error): void;
  /** How often the worker is pinged, and after how long unanswered it is hung (default 1 s and 10 s; tests shorten). */
  watchdog?: { everyMs: number; hungAfterMs: number };
}

export interface FrontOwner {
  /** Listens: the main server on its private socket, then the worker on `port`/`host`; resolves with the latter. */
  listen(port: number, host: string | undefined): Promise<AddressInfo>;
  /** The worker stops listening and lets its requests finish; then the main server closes; the socket goes. */
  close(): Promise<void>;
  readonly socketPath: string;
  /** The worker thread itself (tests stop it to see that its loss is fatal). */
  readonly worker: Worker;
  /** Connections the worker has accepted on the port since it started. */
  connectionsAccepted(): Promise<number>;
}

export function postedCookie(cookie: CookieSettings): PostedCookie {
  const { portalUrl, defaultRedirectionUrl, ...rest } = cookie;
  return {
    ...rest,
    portalUrl: portalUrl.href,
    ...(defaultRedirectionUrl === undefined ? {} : { defaultRedirectionUrl: defaultRedirectionUrl.href }),
  };
}

/** Where the main logger writes: the worker's lines are written there as they are, in the main logger's format. */
function destinationOf(logger: Logger): { write(line: string): unknown } | undefined {
  return (logger as unknown as Record<symbol, { write(line: string): unknown } | undefined>)[pino.symbols.streamSym];
}

export function startFrontOwner(options: FrontOwnerOptions): FrontOwner {
  const { logger, server } = options;
  // A directory only this user may enter (mkdtemp makes it 0700): nobody else can reach the private listener.
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-front-'));
  const socketPath = join(dir, 'main.sock');
  const settings: FrontSettings = {
    ...options.settings,
    cookies: options.cookies.map(postedCookie),
    socketPath,
    maxSilenceMs: MAX_SILENCE_MS,
    logLevel: logger.level,
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const post = (message: ToFront) => worker.postMessage(message);
  let closing = false;
  let fatal = false;
  const waiters = new Map<
    'listen' | 'closed' | 'stats',
    { resolve(value: FromFront): void; reject(error: Error): void }
  >();
  const fail = (error: Error) => {
    for (const waiter of waiters.values()) waiter.reject(error);
    waiters.clear();
    // An 'error' is followed by an 'exit': the owner hears of the loss once. The socket's directory goes with it
    // (the default onFatal exits the process, which would leave it behind).
    if (closing || fatal) return;
    fatal = true;
    watchdog.stop();
    rmSync(dir, { recursive: true, force: true });
    options.onFatal(error);
  };

  const watchdog = startWatchdog({
    ...(options.watchdog ?? { everyMs: PING_EVERY_MS, hungAfterMs: HUNG_AFTER_MS }),
    ping: () => post({ kind: 'ping' }),
    onHung: (silentMs) => {
      // Stopped, so that its port is let go; the loss is reported here, with why, not as the 'exit' that follows.
      fail(new Error(`the authz front worker answered nothing for ${silentMs} ms: taken for hung`));
      void worker.terminate();
    },
  });
  const stopFeed = feedMirror(options.cache, post, {
    beatMs: BEAT_MS,
    onError: (error) => fail(new Error('the session mirror could not be fed', { cause: error })),
  });
  post({ kind: 'users', users: options.users.now() });
  const stopUsers = options.users.onChange?.(() => post({ kind: 'users', users: options.users.now() }));
  const cookieByDomain = new Map(options.cookies.map((cookie) => [cookie.domain, cookie]));
  const destination = destinationOf(logger);

  worker.on('message', (message: FromFront) => {
    switch (message.kind) {
      case 'touch': {
        // Written from the main cache, as the authz path here would: a session it no longer holds is not touched.
        const cookie = cookieByDomain.get(message.domain);
        const session = cookie && options.sessions.peek([message.id], cookie);
        if (cookie && session)
          options.sessions
            .touch(session, cookie)
            .catch((error: unknown) => logger.warn({ err: error }, 'could not refresh session activity'));
        break;
      }
      case 'observed':
        for (let i = 0; i < message.results.length; i++)
          options.metrics?.observe(message.results[i]!, message.seconds[i]!);
        break;
      case 'log':
        destination?.write(message.line.endsWith('\n') ? message.line : `${message.line}\n`);
        break;
      case 'listening':
      case 'listen-failed':
        waiters.get('listen')?.resolve(message);
        waiters.delete('listen');
        break;
      case 'pong':
        watchdog.pong();
        break;
      case 'closed':
      case 'stats':
        waiters.get(message.kind)?.resolve(message);
        waiters.delete(message.kind);
        break;
    }
  });
  worker.on('error', (error) => fail(new Error(`the authz front worker failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Error(`the authz front worker stopped (exit code ${code})`)));

  const ask = (what: 'listen' | 'closed' | 'stats', message: ToFront): Promise<FromFront> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(what);
        reject(new Error(`the authz front worker did not answer '${message.kind}' in time`));
      }, CONTROL_TIMEOUT_MS);
      timer.unref();
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          done(value);
        };
      waiters.set(what, { resolve: settle(resolve), reject: settle(reject) });
      post(message);
    });

  return {
    socketPath,
    worker,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const answer = await ask('listen', { kind: 'listen', port, host });
      if (answer.kind === 'listening') return answer.address;
      const error = Object.assign(new Error((answer as { message: string }).message), {
        code: (answer as { code?: string }).code,
      });
      throw error;
    },
    async connectionsAccepted() {
      const answer = await ask('stats', { kind: 'stats' });
      return answer.kind === 'stats' ? answer.connectionsAccepted : 0;
    },
    async close() {
      if (closing) return;
      closing = true;
      // The mirror hears no more changes from here: it must answer for nothing while the worker drains.
      post({ kind: 'none' });
      stopFeed();
      watchdog.stop();
      stopUsers?.();
      // A worker already lost cannot drain: nothing to wait for.
      if (!fatal) {
        try {
          await ask('closed', { kind: 'close' });
        } catch (error) {
          logger.warn({ err: error }, 'the authz front worker did not close cleanly');
        }
      }
      await worker.terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
