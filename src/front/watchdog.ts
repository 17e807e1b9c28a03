// Noticing a front worker that is alive but no longer turns its event loop (a bug's endless loop): it holds the
// replica's port and answers nothing, and without this the process would go on looking healthy. The main thread
// pings it; a worker that leaves `hungAfterMs` of pings unanswered is taken for hung.
//
// Counted in pings, not in wall time: a main thread that was itself blocked runs its timer late, before the port's
// waiting pong is read, and that one late tick must not look like a worker's silence (so at least two misses are
// needed). Between two ticks the main thread reads its port, so a worker that answers at all clears the count.
// Nothing is counted before the first pong: a worker still loading its modules (slowly, on a busy machine) is not
// hung; one that never loads fails its `listen` instead.

export interface WatchdogOptions {
  /** How often to ping (ms). */
  everyMs: number;
  /** Pings unanswered for this long in a row (ms, at least two pings): the worker is hung. */
  hungAfterMs: number;
  ping(): void;
  /** Told once; the watchdog stops. */
  onHung(silentMs: number): void;
}

export interface Watchdog {
  /** The worker answered a ping. */
  pong(): void;
  stop(): void;
}

export function startWatchdog(options: WatchdogOptions): Watchdog {
  const limit = Math.max(2, Math.ceil(options.hungAfterMs / options.everyMs));
  let answered = false;
  let awaiting = false;
  let missed = 0;
  const timer = setInterval(() => {
    if (awaiting && answered) missed++;
    if (missed >= limit) {
      clearInterval(timer);
      options.onHung(missed * options.everyMs);
      return;
    }
    awaiting = true;
    options.ping();
  }, options.everyMs);
  timer.unref();
  return {
    pong() {
      answered = true;
      awaiting = false;
      missed = 0;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
