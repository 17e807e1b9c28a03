// The owner's side of the session mirror (session-mirror.ts; docs/design/authz-isolate.md): every change of the
// cache's fresh set is posted in order, and a beat every `beatMs` says the owner is alive and reading Redis.
//
// Where a beat is posted matters. Timers run before I/O in an event-loop turn, so a beat posted from its timer, just
// after a block, would reach the mirror before the invalidations Redis sent during the block, and the mirror would
// answer again for sessions already revoked. So the timer only queues the beat with setImmediate, which runs after
// the turn's I/O; and when that immediate itself runs late (the block came between the two), it is queued once more,
// behind the next turn's I/O. A block shorter than `beatMs` between them is not noticed: its invalidations are at
// most that late. Step 3 may replace this with a PING answered on the invalidation connection itself.
import { performance } from 'node:perf_hooks';
import type { SessionCache } from './session-cache.js';
import { type MirrorMessage, monotonicMs } from './session-mirror.js';

export interface MirrorFeedOptions {
  /** How often the owner says it is alive (ms); the mirror's `maxSilenceMs` must allow a few missed beats. */
  beatMs: number;
  /** Told why the feed stopped when `post` threw (for the log); the feed is silent from then on. */
  onError?: (error: unknown) => void;
}

/**
 * Starts feeding `post` (a MessagePort's postMessage) from `cache`; the returned function stops it. If `post` ever
 * throws, the feed stops for good (and says why to `onError`, never to the cache's caller): the mirror, missing a
 * change, must hear silence rather than more beats.
 */
export function feedMirror(
  cache: SessionCache,
  post: (message: MirrorMessage) => void,
  options: MirrorFeedOptions,
): () => void {
  let stopped = false;
  let unwatch = (): void => {};
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopped = true;
    unwatch();
    clearInterval(timer);
  };
  const send = (message: MirrorMessage) => {
    if (stopped) return;
    try {
      post(message);
    } catch (error) {
      stop();
      options.onError?.(error);
    }
  };
  unwatch = cache.watch(send);
  const queueBeat = () => {
    const queuedAt = performance.now();
    setImmediate(() => {
      if (performance.now() - queuedAt > options.beatMs) queueBeat();
      else send({ kind: 'beat', at: monotonicMs() });
    });
  };
  timer = setInterval(queueBeat, options.beatMs);
  timer.unref();
  return stop;
}
